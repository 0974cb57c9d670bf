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
        var owner: [String: (list: ListKind, row: ListRow)] = [:]
        for list in [ListKind.wantedPersons, .missingPersons] {
            for row in try Dataset.readRows(list, from: s.state.datasetURL) {
                for photo in PhotoReference.parse(field: row.fields[9] ?? "")! { owner[photo.sha256] = (list, row) }
            }
        }
        #expect(plan.count == owner.count && plan.count == 121, "every named photo once")
        func rank(_ photo: PhotoReference) -> Int {
            let (list, row) = owner[photo.sha256]!
            if list == .wantedPersons {
                let flags = row.fields[8] ?? ""
                if flags.contains("armed") || flags.contains("violent") { return 0 }
                return (row.fields[7] ?? "").contains("臺北") ? 2 : 3
            }
            if row.fields[7] == "1" { return 1 }
            return (row.fields[8] ?? "").contains("臺北") ? 2 : 3
        }
        let ranks = plan.map(rank)
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
        #expect(store.all == Set(plan.prefix(4).map(\.sha256)) && store.usedBytes == budget)

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
}
