import Central
import FieldWire
import Foundation
import Glibc
import Store
import TestSupport
import Watchlist

/// The document lists at national size (issue: 5M registrations, 2M licences): their load
/// against `sqlite3 .import` of the same rows, a plate check that also reads the
/// registration against the same two lookups in raw SQLite, their snapshots on the wire in
/// full and exceptions-only mode, and a 10,000-change registrations delta against the same
/// writes in raw SQLite.
struct DocumentBench {
    let work: URL
    let registrations: Int
    let licences: Int
    let checks: Int
    let sqlite3: String

    func run(into results: inout Results) throws {
        let dir = work.appendingPathComponent("documents")
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        let dataset = dir.appendingPathComponent("dataset")
        let now = Int64(Date().timeIntervalSince1970)
        print("  (generating \(registrations) registrations and \(licences) licences: not timed)")
        try DatasetGenerator(counts: .init(records: 10_000, registrations: registrations, licences: licences), seed: 2027, issuedAt: now)
            .write(to: dataset)
        // Written back before the load is timed (the import reference does the same).
        Glibc.sync()

        let state = StateDirectory(path: dir.appendingPathComponent("terminal").path)
        let (lists, loadSeconds) = try Measure.seconds { () throws -> ListsStore in
            let store = try ListsStore.open(state)
            try store.replaceAll(withDatasetAt: dataset)
            return store
        }
        let listsPath = try state.currentListsFile()!.path
        let importSeconds = try SQLite3Import(shell: sqlite3, work: dir).run(schemaFrom: listsPath, dataset: dataset)
        results.add("registrations_load_s", loadSeconds, reference: ("registrations_sqlite3_import_s", importSeconds))
        results.add("registrations_sqlite3_import_s", importSeconds)

        // Plate checks, half of them registered plates, each reading the stolen-vehicle list
        // and the registration; the floor makes the same two lookups, alternating in blocks.
        let registered = try String(contentsOf: dataset.appendingPathComponent(Dataset.fileName(.registrations)), encoding: .utf8)
            .split(separator: "\n").dropFirst().map { String($0.split(separator: ",")[1]) }
        var rng = SystemRandomNumberGenerator()
        let entered: [Plate] = try (0..<checks).map { i in
            if i % 2 == 0 { return try Plate(parsing: registered.randomElement(using: &rng)!) }
            let letters = Array("ABCDEFGHJKLMNPQRSTUVWXYZ"), digits = Array("01235678")
            return try Plate(parsing: String((0..<3).map { _ in letters.randomElement(using: &rng)! }) + "-"
                             + String((0..<4).map { _ in digits.randomElement(using: &rng)! }))
        }
        let checker = Checker(lists: lists, journal: try JournalStore.open(path: state.journalPath))
        let context = try CheckContext(officerId: "BENCH-01", unitId: "TPE-DA-01")
        let rawPlate = try RawLookup.plates(path: listsPath)
        let rawRegistration = try RawLookup.registrations(path: listsPath)
        for plate in entered.prefix(500) {
            _ = try checker.answerPlate(plate, context: context)
            _ = rawPlate.lookup(plate.foldedKey) + rawRegistration.lookup(plate.compact)
        }
        var raw: [Double] = [], checked: [Double] = []
        let block = max(1, checks / 10)
        for start in stride(from: 0, to: checks, by: block) {
            let range = start..<min(checks, start + block)
            raw += Measure.latencies(count: range.count) { i in
                let plate = entered[range.lowerBound + i]
                _ = rawPlate.lookup(plate.foldedKey) + rawRegistration.lookup(plate.compact)
            }
            checked += try Measure.latencies(count: range.count) { i in
                let answer = try checker.answerPlate(entered[range.lowerBound + i], context: context)
                guard answer.registration?.version.version == 1 else { throw BenchError("the plate answer carries no registration") }
            }
        }
        let rawP50 = Measure.percentile(raw, 50)
        results.add("check_plate_with_registration_p50_us", Measure.percentile(checked, 50), reference: ("raw_plate_and_registration_p50_us", rawP50))
        results.add("raw_plate_and_registration_p50_us", rawP50)

        // Snapshots on the wire: the same data set published whole and as exceptions only.
        let keys = dir.appendingPathComponent("keys")
        try CentralKeys.initialise(in: keys, now: now, validFor: 86_400)
        print("  (publishing the documents whole and as exceptions only: not timed)")
        let full = Publisher(directory: dir.appendingPathComponent("published-full"), keysDirectory: keys)
        let fullManifest = try full.publish(dataset: dataset, now: now, validFor: 86_400, keepDeltas: 30).manifest
        let exceptions = try Publisher(directory: dir.appendingPathComponent("published-exceptions"), keysDirectory: keys)
            .publish(dataset: dataset, now: now, validFor: 86_400, keepDeltas: 30, exceptionsOnly: [.registrations, .licences]).manifest
        for list in [ListKind.registrations, .licences] {
            let (whole, invalid) = (fullManifest.lists[list.rawValue]!, exceptions.lists[list.rawValue]!)
            print("  (\(list.rawValue): \(whole.recordCount) records whole, \(invalid.recordCount) exceptions)")
            results.add("\(list.rawValue)_snapshot_full_bytes", Double(whole.snapshot.length))
            results.add("\(list.rawValue)_snapshot_exceptions_bytes", Double(invalid.snapshot.length),
                        reference: ("\(list.rawValue)_snapshot_full_bytes", Double(whole.snapshot.length)))
        }

        // A 10,000-change delta of the registrations (statuses changed), applied to the
        // loaded lists as a sync applies it, against the same writes in raw SQLite. Raw
        // SQLite's copy of the lists is written before the delta is published, and each side
        // starts with nothing left to write back (as the list delta in the core part).
        let rawCopy = dir.appendingPathComponent("raw-delta.db")
        try? FileManager.default.removeItem(at: rawCopy)
        try FileManager.default.copyItem(at: URL(fileURLWithPath: listsPath), to: rawCopy)
        defer { try? FileManager.default.removeItem(at: rawCopy) }
        try changeRegistrations(dataset, count: 10_000)
        let next = try full.publish(dataset: dataset, now: now + 1, validFor: 86_400, keepDeltas: 30).manifest
        let entry = next.lists[ListKind.registrations.rawValue]!
        guard let deltaFile = entry.deltas.last?.file else { throw BenchError("the registrations change published no delta") }
        let body = try Gzip.decompress(Data(contentsOf: full.directory.appendingPathComponent(deltaFile.path)), maxBytes: 1 << 30)
        let update = ListsUpdate(lists: [.registrations: .init(version: entry.version, recordCount: entry.recordCount, digest: entry.digest,
                                                               source: .deltas([{ body }]))],
                                 issuedAt: now + 1, expiresAt: now + 86_400,
                                 syncState: SyncState(manifestSequence: next.sequence, trustedTime: now + 1, root: Data(), manifestETag: nil))
        Glibc.sync()
        let (_, applySeconds) = try Measure.seconds { try lists.apply(update) }
        Glibc.sync()
        let rawSeconds = try RawDeltaApply.run(path: rawCopy.path, list: .registrations, deltaCSV: String(decoding: body, as: UTF8.self))
        results.add("registrations_delta_10k_ms", applySeconds * 1000, reference: ("raw_registrations_delta_10k_ms", rawSeconds * 1000))
        results.add("raw_registrations_delta_10k_ms", rawSeconds * 1000)
        results.add("registrations_delta_10k_wire_bytes", Double(deltaFile.length))
        let cancelled = try checker.answerPlate(try Plate(parsing: DemoRecords.registeredPlate), context: context)
        guard cancelled.registration?.status == "suspended", cancelled.registration?.version.version == 2 else {
            throw BenchError("after the delta \(DemoRecords.registeredPlate) answers \(cancelled.registration?.status ?? "nothing")")
        }
    }

    /// Changes the status of `count` registrations spread over the file (valid ones
    /// suspended, invalid ones valid again), the demo's registered plate among them.
    private func changeRegistrations(_ dataset: URL, count: Int) throws {
        let url = dataset.appendingPathComponent(Dataset.fileName(.registrations))
        var lines = try String(contentsOf: url, encoding: .utf8).split(separator: "\n").map(String.init)
        let rows = lines.count - 1
        let step = max(1, rows / count)
        var changed = 0
        for i in stride(from: 2, to: lines.count, by: step) where changed < count {
            var fields = lines[i].split(separator: ",", omittingEmptySubsequences: false).map(String.init)
            fields[2] = fields[2] == "valid" ? "suspended" : "valid"
            lines[i] = fields.joined(separator: ",")
            changed += 1
        }
        try (lines.joined(separator: "\n") + "\n").write(to: url, atomically: true, encoding: .utf8)
    }
}
