import Central
import FieldWire
import Foundation
import Store
import TestSupport
import Testing
import Watchlist

@Suite("The photo store and its prefetch plan")
struct PhotoStoreTests {
    @Test("the plan: armed or violent wanted persons, vulnerable missing persons, the region, then the rest")
    func planOrder() throws {
        let s = try LoadedState(records: 2_000, photos: 120)
        defer { s.directory.remove() }
        let plan = try s.lists.photoPlan(region: "臺北")
        let listed = try ListedPhoto.all(in: s.state.datasetURL, region: "臺北")
        let rankOf = Dictionary(uniqueKeysWithValues: listed.map { ($0.photo.sha256, $0.rank) })
        #expect(plan.count == rankOf.count && plan.count == 121, "every named photo once")
        let ranks = plan.map { rankOf[$0.sha256]! }
        #expect(ranks == ranks.sorted(), "priorities never go back")
        #expect(Set(ranks) == [0, 1, 2, 3], "the data set has every kind: \(Set(ranks))")
    }

    @Test("admit verifies the bytes; a photo changed on disk is not served and is removed; retain keeps the plan's prefix that fits the budget")
    func verifyAndBudget() throws {
        let s = try LoadedState(records: 500, photos: 10)
        defer { s.directory.remove() }
        let plan = try s.lists.photoPlan(region: nil)
        let budget = Int64(plan.prefix(4).map(\.bytes).reduce(0, +))
        let store = try PhotoStore(state: s.state, budgetBytes: budget)
        let source = DatasetGenerator.photoDirectory(s.state.datasetURL)
        for photo in plan {
            try FileManager.default.copyItem(at: source.appendingPathComponent("\(photo.sha256).jpg"), to: store.partialURL(photo.sha256))
            try store.admit(photo.sha256, from: store.partialURL(photo.sha256))
        }
        #expect(store.count == plan.count)
        let kept = store.retain(plan: plan)
        #expect(kept == Array(plan.prefix(4)))
        #expect(store.all == Set(plan.prefix(4).map(\.sha256)) && store.status.bytes == budget)

        // Bytes under a wrong name are refused at the door.
        let forged = String(repeating: "0", count: 64)
        try Data([0xFF, 0xD8, 0xFF, 0xD9]).write(to: store.partialURL(forged))
        #expect(throws: StoreError.self) { try store.admit(forged, from: store.partialURL(forged)) }
        #expect(!store.contains(forged) && !FileManager.default.fileExists(atPath: store.partialURL(forged).path))

        // A file changed on disk after it was admitted: never served, removed.
        let first = plan[0].sha256
        #expect(store.photo(first).map(SHA256Hex.of) == first)
        let file = store.directory.appendingPathComponent("\(first).jpg")
        var bytes = try Data(contentsOf: file)
        bytes[bytes.count / 2] ^= 0xFF
        try bytes.write(to: file)
        #expect(store.photo(first) == nil)
        #expect(!store.contains(first) && !FileManager.default.fileExists(atPath: file.path))

        // Reopened, the store knows what is on disk.
        let reopened = try PhotoStore(state: s.state, budgetBytes: budget)
        #expect(reopened.all == Set(plan[1..<4].map(\.sha256)))
    }

    @Test("photos fetched for a hit are kept past the budget while their record is listed; a record's removal takes its photos")
    func pinnedAndDeleted() throws {
        let s = try LoadedState(records: 500, photos: 10)
        defer { s.directory.remove() }
        let plan = try s.lists.photoPlan(region: nil)
        let hit = plan.last!.sha256
        let store = try PhotoStore(state: s.state, budgetBytes: Int64(plan.last!.bytes + plan[0].bytes))
        let source = DatasetGenerator.photoDirectory(s.state.datasetURL)
        for photo in plan {
            try FileManager.default.copyItem(at: source.appendingPathComponent("\(photo.sha256).jpg"), to: store.partialURL(photo.sha256))
            try store.admit(photo.sha256, from: store.partialURL(photo.sha256))
        }
        let kept = store.retain(plan: plan, pinned: [hit])
        #expect(store.all == [hit, plan[0].sha256], "the hit's photo counts first; then the plan's first fits exactly")
        #expect(kept == [plan[0]])
        #expect(store.retain(plan: plan, pinned: [hit]) == [plan[0]], "the same again: nothing changes")
        // The hit's record deleted (not in the plan any more): its photo goes, pinned or not.
        store.retain(plan: Array(plan.dropLast()), pinned: [hit])
        #expect(!store.contains(hit) && !FileManager.default.fileExists(atPath: store.directory.appendingPathComponent("\(hit).jpg").path))
        #expect(store.contains(plan[0].sha256) && store.status.bytes <= store.budgetBytes)
    }

    @Test("every matched person's photo says whether it is on the device, and the missing ones are asked for")
    func answersMarkPhotos() throws {
        let s = try LoadedState(records: 500, photos: 10)
        defer { s.directory.remove() }
        let store = try PhotoStore(state: s.state, budgetBytes: 1 << 30)
        let asked = Asked()
        let checker = Checker(lists: s.lists, journal: s.journal, clock: ManualClock(nowMilliseconds: (LoadedState.issuedAt + 3_600) * 1000),
                              photos: store, fetchForHit: { asked.add($0) })
        func wanted(_ answer: CheckAnswer) -> WantedPerson? {
            guard case .wantedPerson(let person) = answer.lists.first(where: { $0.list == .wantedPersons })?.matches.first?.record else { return nil }
            return person
        }
        let first = try #require(wanted(try checker.check(.personID(DemoRecords.wantedID), context: LoadedState.officer)))
        #expect(first.photos.count == 2 && first.photos.allSatisfy { $0.onDevice == false })
        #expect(asked.photos.map(\.sha256) == first.photos.map(\.sha256), "the hit's photos are fetched at once")
        let face = first.photos[0]
        try FileManager.default.copyItem(at: DatasetGenerator.photoDirectory(s.state.datasetURL).appendingPathComponent("\(face.sha256).jpg"),
                                         to: store.partialURL(face.sha256))
        try store.admit(face.sha256, from: store.partialURL(face.sha256))
        let second = try #require(wanted(try checker.check(.personID(DemoRecords.wantedID), context: LoadedState.officer)))
        #expect(second.photos.map(\.onDevice) == [true, false])
        #expect(asked.photos.count == 3, "only the one still missing is asked for again")
        // List rows themselves never carry the mark.
        #expect(try s.lists.photoPlan(region: nil).allSatisfy { $0.onDevice == nil })
    }
}

private final class Asked: @unchecked Sendable {
    private let lock = NSLock()
    private var all: [PhotoReference] = []
    func add(_ photos: [PhotoReference]) { lock.withLock { all += photos } }
    var photos: [PhotoReference] { lock.withLock { all } }
}
