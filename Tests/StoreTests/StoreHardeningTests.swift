import Central
import FieldWire
import Foundation
import Synchronization
import GRDB
@testable import Store
import TestSupport
import Testing
import Watchlist

/// The store's faults closed by the hardening issue, each on real files.
@Suite("Store hardening", .serialized)
struct StoreHardeningTests {
    /// A state directory whose lists hold exactly `vehicles` (and one wanted person per id).
    static func lists(vehicles plates: [String], wanted ids: [String] = [], in scratch: Scratch) throws -> (ListsStore, JournalStore) {
        let state = StateDirectory(path: scratch.path)
        var writer = try DatasetWriter(directory: state.datasetURL)
        for (i, plate) in plates.enumerated() {
            try writer.append(StolenVehicle(recordId: String(format: "SV%05d", i), plate: plate, vehicleKind: "car", make: "Toyota",
                                            model: "Altis", colour: "白", vin: nil, engineNumber: nil, reportedAt: "2026-11-01T00:00:00Z",
                                            caseNumber: "C\(i)", reportingUnit: "TPE"))
        }
        for (i, id) in ids.enumerated() {
            try writer.append(WantedPerson(recordId: String(format: "WP%05d", i), idNumber: id, name: "林志明", dateOfBirth: CalendarDate(year: 1988, month: 3, day: 12)!,
                                           sex: "M", warrantNumber: "W\(i)", offence: "fraud", issuingAuthority: "TPE", cautionFlags: []))
        }
        _ = try writer.finish(version: 1, issuedAt: LoadedState.issuedAt, expiresAt: LoadedState.issuedAt + 7 * 86_400, seed: nil)
        let lists = try ListsStore.open(state)
        try lists.replaceAll(withDatasetAt: state.datasetURL)
        return (lists, try JournalStore.open(path: state.journalPath))
    }

    @Test("60 listed plates share one folded key: the exact one, listed last, is still the hit")
    func exactHitNeverDropped() throws {
        // Every plate below folds to 805-8025: B/8, D/O/Q/0, S/5, Z/2 are OCR-confusable.
        var variants: [String] = []
        for a in ["B", "8"] { for b in ["D", "O", "Q", "0"] { for c in ["S", "5"] { for d in ["8", "B"] { for e in ["0", "O", "D"] {
            variants.append("\(a)\(b)\(c)-\(d)\(e)25")
        } } } } }
        let entered = "BDS-8025"
        let listed = Array(variants.filter { $0 != entered }.prefix(59)) + [entered]
        #expect(listed.count == 60)
        let scratch = try Scratch("store")
        defer { scratch.remove() }
        let (lists, journal) = try Self.lists(vehicles: listed, in: scratch)
        let checker = Checker(lists: lists, journal: journal, clock: ManualClock(nowMilliseconds: (LoadedState.issuedAt + 60) * 1000))
        let answer = try checker.check(.plate(entered), context: LoadedState.officer)
        #expect(answer.outcome == .hit)
        #expect(answer.lists[0].matches.first?.how == .exact)
        #expect(answer.lists[0].matches.first?.record.recordId == "SV00059")
        #expect(answer.lists[0].matches.count == ListsStore.lookupLimit)
    }

    @Test("a valid, unlisted ID one keystroke from a listed one is not a silent no-hit: the answer names the listed record")
    func validNeighbours() throws {
        let listed = [DemoRecords.wantedID, DemoRecords.missingResidentID, DemoRecords.withCheckDigit("R22134457")].filter(PersonID.isValid)
        #expect(listed.count == 3)
        let scratch = try Scratch("store")
        defer { scratch.remove() }
        let (lists, journal) = try Self.lists(vehicles: ["ABC-1234"], wanted: listed, in: scratch)
        let checker = Checker(lists: lists, journal: journal, clock: ManualClock(nowMilliseconds: (LoadedState.issuedAt + 60) * 1000))
        var variantsTried = 0
        for id in listed {
            // Every one-keystroke variant of a listed ID that passes the checksum.
            for (variant, _) in try PersonID(parsing: id).neighbours() where !listed.contains(variant) {
                variantsTried += 1
                let answer = try checker.check(.personID(variant), context: LoadedState.officer)
                #expect(answer.query.idValidity == "valid")
                #expect(answer.outcome == .noHit, "a neighbour is not a hit")
                #expect(answer.warnings.contains { $0.contains(id) && $0.contains("one keystroke away") }, "\(variant) → \(id): \(answer.warnings)")
            }
        }
        #expect(variantsTried > 10, "\(variantsTried) variants")
        // The listed ID itself is a hit without the warning.
        let hit = try checker.check(.personID(listed[0]), context: LoadedState.officer)
        #expect(hit.outcome == .hit)
        #expect(!hit.warnings.contains { $0.contains("one keystroke away") })
    }

    @Test("the journal's writer commits with synchronous=FULL, as its records must survive a power cut (GRDB's pool sets NORMAL on opening)")
    func journalDurable() throws {
        let scratch = try Scratch("store")
        defer { scratch.remove() }
        let journal = try JournalStore.open(path: scratch.url.appendingPathComponent("journal.db").path)
        try journal.appendBreadcrumb(BreadcrumbPayload(fixTime: "t", latitude: 25, longitude: 121, speed: nil, track: nil, horizontalError: nil, mode: "3d"),
                                     maxStored: 100, now: 1)
        // 2 = FULL: the WAL is synced at every commit, not only at checkpoints (1 = NORMAL).
        #expect(try journal.write { try Int.fetchOne($0, sql: "PRAGMA synchronous") } == 2)
        #expect(try journal.write { try String.fetchOne($0, sql: "PRAGMA journal_mode") } == "wal")
    }

    @Test("outbox ids are unique by constraint; a journal that held a repeated id keeps its first item when it migrates")
    func uniqueOutboxIDs() throws {
        let scratch = try Scratch("store")
        defer { scratch.remove() }
        let path = scratch.url.appendingPathComponent("journal.db").path
        let journal = try JournalStore.open(path: path)
        try journal.appendBreadcrumb(BreadcrumbPayload(fixTime: "t", latitude: 25, longitude: 121, speed: nil, track: nil, horizontalError: nil, mode: "3d"),
                                     maxStored: 100, now: 1)
        let id = try #require(try journal.dueOutboxItems(now: .max, maxItems: 10, maxBytes: 1 << 20).first?.id)
        let queue = try DatabaseQueue(path: path)
        #expect(throws: DatabaseError.self) {
            try queue.write { try $0.execute(sql: "INSERT INTO outbox (id, kind, priority, payload, created_at) VALUES (?, 'breadcrumb', 3, '{}', 2)", arguments: [id]) }
        }
        // As an older version could have left it: no index, a repeat, the migration not yet run.
        try queue.write { db in
            try db.execute(sql: "DROP INDEX outbox_id")
            try db.execute(sql: "INSERT INTO outbox (id, kind, priority, payload, created_at) VALUES (?, 'breadcrumb', 3, '{}', 2)", arguments: [id])
            try db.execute(sql: "DELETE FROM grdb_migrations WHERE identifier = 'v7-outbox-unique-id'")
        }
        try queue.close()
        let reopened = try JournalStore.open(path: path)
        let items = try reopened.dueOutboxItems(now: .max, maxItems: 10, maxBytes: 1 << 20)
        #expect(items.map(\.id) == [id])
        #expect(items.first?.payload != "{}", "the first item is the one kept")
    }

    @Test("pruning removes what the center acknowledged past the retention, never what waits for it; rejected items are capped")
    func retention() throws {
        let s = try LoadedState()
        defer { s.directory.remove() }
        let day: Int64 = 86_400_000
        let old = (LoadedState.issuedAt - 100 * 86_400) * 1000
        let oldChecker = Checker(lists: s.lists, journal: s.journal, clock: ManualClock(nowMilliseconds: old))
        let acknowledged = try oldChecker.check(.plate("ABC-1235"), context: LoadedState.officer)
        let waiting = try oldChecker.check(.plate("ABC-1236"), context: LoadedState.officer)
        let recent = try s.checker().check(.plate("ABC-1237"), context: LoadedState.officer)
        let items = try s.journal.dueOutboxItems(now: .max, maxItems: 10, maxBytes: 1 << 20)
        try s.journal.settleOutbox(items.filter { $0.id == acknowledged.checkId }, answers: [acknowledged.checkId: .acknowledged], now: old, retryAt: old)
        try s.journal.settleOutbox(items.filter { $0.id == recent.checkId }, answers: [recent.checkId: .acknowledged], now: old, retryAt: old)
        for i in 0..<5 { _ = try s.checker().check(.plate(String(format: "QR-%04d", i)), context: LoadedState.officer) }
        let rejectable = try s.journal.dueOutboxItems(now: .max, maxItems: 100, maxBytes: 1 << 20).filter { $0.payload.contains("QR") }
        try s.journal.settleOutbox(rejectable, answers: Dictionary(uniqueKeysWithValues: rejectable.map { ($0.id, .rejected("no")) }), now: old, retryAt: old)

        let pruned = try s.journal.prune(JournalRetention(days: 90, maxRejected: 2), now: LoadedState.issuedAt * 1000 + day)
        #expect(pruned.checkRecords == 1, "the old, acknowledged record")
        #expect(pruned.rejectedItems == 3)
        let kept = Set(try s.journal.recentChecks(limit: 100).map(\.checkId))
        #expect(!kept.contains(acknowledged.checkId))
        #expect(kept.contains(waiting.checkId), "still in the outbox: never pruned")
        #expect(kept.contains(recent.checkId), "within the retention")
        #expect(try s.journal.outboxStatus(now: 0).rejected == 2)
    }

    @Test("a failure at each step of a generation swap: before the switch the old lists stay; from the switch on the new file is never deleted",
          arguments: GenerationStep.allCases.filter { $0 != .building })
    func swapFaults(step: GenerationStep) throws {
        let scratch = try Scratch("store")
        defer { scratch.remove() }
        let (lists, _) = try Self.lists(vehicles: ["ABC-1234"], in: scratch)
        let state = StateDirectory(path: scratch.path)
        let before = try #require(try state.currentListsFile())
        // Version 2 of the data set: one more vehicle.
        var writer = try DatasetWriter(directory: scratch.url.appendingPathComponent("v2"))
        for (i, plate) in ["ABC-1234", "XYZ-5678"].enumerated() {
            try writer.append(StolenVehicle(recordId: "SV\(i)", plate: plate, vehicleKind: "car", make: "M", model: "m", colour: "c", vin: nil,
                                            engineNumber: nil, reportedAt: "t", caseNumber: "c", reportingUnit: "u"))
        }
        _ = try writer.finish(version: 2, issuedAt: LoadedState.issuedAt, expiresAt: LoadedState.issuedAt + 86_400, seed: nil)
        setenv("MPOLICE_TEST_FAIL_AT", step.rawValue, 1)
        defer { unsetenv("MPOLICE_TEST_FAIL_AT") }
        #expect(throws: StoreError.self) { try lists.replaceAll(withDatasetAt: scratch.url.appendingPathComponent("v2")) }
        unsetenv("MPOLICE_TEST_FAIL_AT")
        let current = try #require(try state.currentListsFile())
        #expect(FileManager.default.fileExists(atPath: current.path), "the current generation's file exists")
        let reopened = try ListsStore.open(state)
        let count = try reopened.versions()[.stolenVehicles]?.recordCount
        if step == .built {
            #expect(current == before)
            #expect(count == 1)
        } else {
            #expect(current != before)
            #expect(count == 2, "the switched-to generation is the one read")
            #expect(try lists.stolenVehicles(plateKey: "XY25678", plate: "XYZ5678").records.count == 1, "the first store follows too")
        }
        let generations = try FileManager.default.contentsOfDirectory(atPath: scratch.path).filter { $0.hasPrefix("lists-") && $0.hasSuffix(".db") }
        #expect(generations == [current.lastPathComponent], "reopening sweeps what the failure left: \(generations)")
    }

    @Test("checks on four threads while the store itself (the daemon's sync) and another store (the CLI) swap in 40 generations: every lookup answers, none sees the lists unavailable")
    func lookupsDuringSwaps() throws {
        let scratch = try Scratch("store")
        defer { scratch.remove() }
        let (daemon, _) = try Self.lists(vehicles: (0..<500).map { String(format: "QB-%04d", $0) }, in: scratch)
        let state = StateDirectory(path: scratch.path)
        let cli = try ListsStore.open(state)
        let plate = try Plate(parsing: "QB-0007")
        let done = Mutex(false)
        let failures = Mutex<[String]>([])
        let group = DispatchGroup()
        for _ in 0..<4 {
            DispatchQueue.global().async(group: group) {
                while !done.withLock({ $0 }) {
                    do {
                        let found = try daemon.stolenVehicles(plateKey: plate.foldedKey, plate: plate.compact).records
                        if found.count != 1 { failures.withLock { $0.append("\(found.count) records") } }
                    } catch {
                        failures.withLock { $0.append("\(error)") }
                        return
                    }
                }
            }
        }
        for i in 0..<40 { try (i % 2 == 0 ? daemon : cli).replaceAll(withDatasetAt: state.datasetURL) }
        done.withLock { $0 = true }
        group.wait()
        let seen = failures.withLock { $0 }
        #expect(seen.isEmpty, "\(seen.count) failed lookups, first: \(seen.first ?? "")")
        #expect(daemon.unavailableReason == nil)
        #expect(try daemon.stolenVehicles(plateKey: plate.foldedKey, plate: plate.compact).records.count == 1)
    }

    @Test("a lists file that is corrupt or gone, where lists are expected: unavailable with the reason, and a new generation replaces it")
    func unavailableLists() throws {
        let scratch = try Scratch("store")
        defer { scratch.remove() }
        let (lists, _) = try Self.lists(vehicles: (0..<3_000).map { String(format: "QA-%04d", $0) }, in: scratch)
        let state = StateDirectory(path: scratch.path)
        let file = try #require(try state.currentListsFile())
        // Garbage over pages in the middle of the file: it still opens; the integrity check finds it.
        let handle = try #require(FileHandle(forUpdatingAtPath: file.path))
        let size = try handle.seekToEnd()
        try handle.seek(toOffset: size / 2)
        try handle.write(contentsOf: Data((0..<(32 * 1024)).map { UInt8(truncatingIfNeeded: $0 &* 37 &+ 11) }))
        try handle.close()
        guard case .corrupt = lists.checkIntegrity(budget: .seconds(30)) else { Issue.record("corruption not found"); return }
        #expect(lists.unavailableReason?.contains("integrity check failed") == true)
        let plate = try Plate(parsing: "QA-0001")
        #expect { try lists.stolenVehicles(plateKey: plate.foldedKey, plate: plate.compact) } throws: { ($0 as? StoreError)?.code == .unavailable }
        #expect(try lists.versions()[.stolenVehicles]?.version == 0, "versions read as never received: the next sync takes snapshots")

        // Gone altogether: a terminal that had lists opens unavailable (not empty, silently).
        try FileManager.default.removeItem(at: file)
        let reopened = try ListsStore.open(state, expectLists: true)
        #expect(reopened.unavailableReason?.contains("does not exist") == true)
        #expect(throws: StoreError.self) { try ListsStore.open(state).versions() }

        // A data set (as a snapshot would) builds a new generation with nothing to carry.
        try reopened.replaceAll(withDatasetAt: state.datasetURL)
        #expect(reopened.unavailableReason == nil)
        #expect(try reopened.stolenVehicles(plateKey: plate.foldedKey, plate: plate.compact).records.count == 1)
    }
}
