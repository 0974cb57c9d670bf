import ArgumentParser
import Central
import FieldWire
import Foundation
import Glibc
import Store
import Watchlist

/// `make bench`: the on-device figures at the sizes the issues name, each printed beside a
/// reference measured in the same run (raw SQLite, the sqlite3 CLI) and their ratio.
@main
struct Bench: ParsableCommand {
    static let configuration = CommandConfiguration(commandName: "mpolice-bench",
                                                    abstract: "Benchmarks for the lists store, checks, list sync and the daemon's API.")

    @Option(help: "Total records across the lists.") var records = 1_000_000
    @Option(help: "Plate checks to time.") var checks = 10_000
    @Option(help: "Photos published for the photo figures (persons with photo references in the main lists, too).") var photos = 10_000
    @Option(help: "Scratch directory (replaced).") var work = "bench-work"
    @Option(help: "Results file (keys merged).") var out = "bench-results.json"
    @Option(help: "The sqlite3 command-line shell for the import reference.") var sqlite3 = "/usr/bin/sqlite3"
    @Option(help: "A README whose figures table is rendered from the results file after the run.") var readme: String?
    @Flag(help: "Measure nothing: render --readme's table from --out as it is.") var renderOnly = false
    @Option(help: ArgumentHelp("The package to measure (make deb).", valueName: "file")) var deb: String?
    @Option(help: ArgumentHelp("Its multi-call binary, unstripped (the daemon's idle figures run it).", valueName: "file")) var packaged: String?
    @Option(help: "Seconds the daemon is watched idle.") var idleSeconds: Double = 60
    @Option(help: "Vehicle registrations for the document figures.") var registrations = 5_000_000
    @Option(help: "Driving licences for the document figures.") var licences = 2_000_000
    @Option(help: "Simulated terminals for the fleet figures.") var fleetTerminals = 2_000
    @Option(help: "Seconds of simulated fleet traffic (the last 30 around a PostgreSQL restart).") var fleetSeconds: Double = 150
    @Option(help: ArgumentHelp("Parts to run, comma-separated (\(Part.allCases.map(\.rawValue).joined(separator: ", "))); default: all. "
                               + "The figures of the others stay as the results file holds them.", valueName: "parts"))
    var only: String?

    /// The bench's parts; a full run measures them all.
    enum Part: String, CaseIterable {
        /// Load, checks, uplink, sync, the socket API and the footprint (one data set).
        case core
        case photos
        case documents
        /// The center at fleet scale (PostgreSQL, simulated terminals).
        case fleet
    }

    var parts: Set<Part> {
        get throws {
            guard let only, !only.isEmpty else { return Set(Part.allCases) }
            return Set(try only.split(separator: ",").map { name in
                guard let part = Part(rawValue: name.trimmingCharacters(in: .whitespaces)) else {
                    throw ValidationError("--only: unknown part \(name) (\(Part.allCases.map(\.rawValue).joined(separator: ", ")))")
                }
                return part
            })
        }
    }

    func validate() throws {
        if renderOnly, readme == nil { throw ValidationError("--render-only needs --readme") }
        if !renderOnly, try parts.contains(.core), deb == nil || packaged == nil {
            throw ValidationError("--deb and --packaged: the package and its binary (make deb)")
        }
        guard idleSeconds >= 1 else { throw ValidationError("--idle-seconds must be at least 1") }
        guard registrations >= 20_000, licences >= 1_000 else { throw ValidationError("--registrations at least 20,000 (a 10,000-change delta), --licences at least 1,000") }
        guard fleetTerminals >= 10, fleetSeconds >= 90 else { throw ValidationError("--fleet-terminals at least 10, --fleet-seconds at least 90") }
    }

    func run() throws {
        if renderOnly { return try renderReadme(from: try Results.read(out)) }
        let workURL = URL(fileURLWithPath: work, isDirectory: true)
        try? FileManager.default.removeItem(at: workURL)
        try FileManager.default.createDirectory(at: workURL, withIntermediateDirectories: true)
        var results = Results()
        results.add("bench_records", Double(records))
        results.add("bench_checks", Double(checks))
        results.add("bench_registrations", Double(registrations))
        results.add("bench_licences", Double(licences))
        results.add("bench_fleet_terminals", Double(fleetTerminals))
        print("mpolice-bench: \(records) records, \(checks) checks, work dir \(workURL.path)")

        let parts = try parts
        if parts.contains(.core) { try runCore(workURL, into: &results) }
        if parts.contains(.photos) { try PhotoBench(work: workURL, photos: photos).run(into: &results) }
        if parts.contains(.documents) {
            try DocumentBench(work: workURL, registrations: registrations, licences: licences, checks: checks, sqlite3: sqlite3).run(into: &results)
        }
        if parts.contains(.fleet) {
            // mpolice-central is built beside this program (make bench builds both in release).
            let binaries = URL(fileURLWithPath: CommandLine.arguments[0]).deletingLastPathComponent()
            try FleetBench(work: workURL, terminals: fleetTerminals, seconds: fleetSeconds, records: records, binDirectory: binaries).run(into: &results)
        }

        results.addRatios()
        if parts.count == Part.allCases.count {
            let unmeasured = Figures.keys.subtracting(results.values.keys)
            guard unmeasured.isEmpty else { throw BenchError("the run did not measure \(unmeasured.sorted().joined(separator: ", "))") }
        }
        let written = try results.write(to: out)
        print("wrote \(out)")
        try renderReadme(from: written)
    }

    /// The on-device figures over one data set of `--records`: load, plate and ID checks,
    /// uplink, list sync, the socket API and the packaged daemon's footprint.
    private func runCore(_ workURL: URL, into results: inout Results) throws {
        // Data set (not timed: it stands in for what the center publishes).
        let datasetURL = workURL.appendingPathComponent("dataset")
        let issuedAt = SystemClock().nowMilliseconds / 1000
        // Persons carry photo references, as on a terminal with photos (the files are not timed).
        try DatasetGenerator(counts: .init(records: records), seed: 2026, issuedAt: issuedAt, photos: photos).write(to: datasetURL)
        // Written back before the load is timed (the import reference does the same).
        Glibc.sync()

        // Load: our loader vs the sqlite3 shell importing the same rows into the same schema.
        let state = StateDirectory(path: workURL.path)
        let (lists, loadSeconds) = try Measure.seconds { () throws -> ListsStore in
            let store = try ListsStore.open(state)
            try store.replaceAll(withDatasetAt: datasetURL)
            return store
        }
        // The generation file itself: the raw reference reads it without the link.
        let listsPath = try state.currentListsFile()!.path
        let importSeconds = try SQLite3Import(shell: sqlite3, work: workURL).run(schemaFrom: listsPath, dataset: datasetURL)
        results.add("load_1m_s", loadSeconds, reference: ("sqlite3_import_1m_s", importSeconds))
        results.add("sqlite3_import_1m_s", importSeconds)

        // Checks.
        let journal = try JournalStore.open(path: workURL.appendingPathComponent("journal.db").path)
        let checker = Checker(lists: lists, journal: journal)
        let context = try CheckContext(officerId: "BENCH-01", unitId: "TPE-DA-01")
        let plates = try PlateMix(datasetURL: datasetURL, count: checks)
        // Warm caches and statements the way a running terminal has them.
        for plate in plates.entered.prefix(500) { _ = try checker.answerPlate(Plate(parsing: plate), context: context) }

        let raw = try RawLookup.plates(path: listsPath)
        for key in plates.folded.prefix(500) { _ = raw.lookup(key) }
        // The floor and the check alternate in blocks so that the machine's noise falls on
        // both alike; the ratio of medians is the figure to watch.
        var rawSamples: [Double] = [], noJournal: [Double] = []
        let block = max(1, checks / 10)
        for start in stride(from: 0, to: checks, by: block) {
            let range = start..<min(checks, start + block)
            rawSamples += Measure.latencies(count: range.count) { i in _ = raw.lookup(plates.folded[range.lowerBound + i]) }
            noJournal += try Measure.latencies(count: range.count) { i in
                _ = try checker.answerPlate(Plate(parsing: plates.entered[range.lowerBound + i]), context: context)
            }
        }
        let withJournal = try Measure.latencies(count: checks) { i in
            _ = try checker.check(.plate(plates.entered[i]), context: context)
        }
        let rawP50 = Measure.percentile(rawSamples, 50)
        let nojP50 = Measure.percentile(noJournal, 50)
        results.add("raw_sqlite_lookup_p50_us", rawP50)
        results.add("check_plate_nojournal_p50_us", nojP50, reference: ("raw_sqlite_lookup_p50_us", rawP50))
        results.add("check_plate_nojournal_p99_us", Measure.percentile(noJournal, 99))
        results.add("check_plate_p50_us", Measure.percentile(withJournal, 50))
        results.add("check_plate_p99_us", Measure.percentile(withJournal, 99))
        print("  (plate mix: \(plates.listedCount) listed, \(plates.confusableCount) confusable misreads, rest unlisted; "
              + "\(try journal.checkCount()) check records journaled)")

        // ID checks of persons whose records carry photo references, against the same
        // lookups through raw SQLite, alternating in blocks.
        let ids = try IDMix(datasetURL: datasetURL, count: max(1_000, checks / 5))
        let rawPeople = try RawPersonLookup(path: listsPath)
        let personContext = try CheckContext(officerId: "BENCH-01", unitId: "TPE-DA-01", purpose: CheckPurpose(unchecked: "law-6-1", reference: nil))
        for (i, id) in ids.entered.prefix(200).enumerated() {
            _ = try checker.answerPerson(id: PersonID(parsing: id), context: personContext)
            _ = try rawPeople.lookup(ids.lookups[i])
        }
        var rawPersonSamples: [Double] = [], personSamples: [Double] = []
        let personBlock = max(1, ids.entered.count / 10)
        for start in stride(from: 0, to: ids.entered.count, by: personBlock) {
            let range = start..<min(ids.entered.count, start + personBlock)
            rawPersonSamples += try Measure.latencies(count: range.count) { i in _ = try rawPeople.lookup(ids.lookups[range.lowerBound + i]) }
            personSamples += try Measure.latencies(count: range.count) { i in
                _ = try checker.answerPerson(id: PersonID(parsing: ids.entered[range.lowerBound + i]), context: personContext)
            }
        }
        let rawPersonP50 = Measure.percentile(rawPersonSamples, 50)
        results.add("raw_sqlite_id_lookup_p50_us", rawPersonP50)
        results.add("check_person_id_nojournal_p50_us", Measure.percentile(personSamples, 50), reference: ("raw_sqlite_id_lookup_p50_us", rawPersonP50))
        print("  (ID mix: \(ids.listedCount) listed IDs, the rest valid and unlisted; up to \(photos) persons carry photo references)")

        try UplinkBench(work: workURL, lists: lists, plates: plates.entered).run(into: &results)
        try SyncBench(work: workURL, dataset: datasetURL, plates: plates).run(into: &results, importSeconds: importSeconds)
        try APIBench(work: workURL, stateDirectory: workURL.appendingPathComponent("terminal"), plates: plates.entered,
                     inProcessP50: Measure.percentile(withJournal, 50)).run(into: &results)
        if let socket = results.values["api_check_p50_us"], let inProcess = results.values["check_plate_p50_us"] {
            results.add("api_overhead_us", socket - inProcess, reference: ("check_plate_p50_us", inProcess))
        }
        try FootprintBench(work: workURL, stateDirectory: workURL.appendingPathComponent("terminal"),
                           published: workURL.appendingPathComponent("pki/nginx-server/www"), keys: workURL.appendingPathComponent("keys"),
                           plates: plates.entered, deb: URL(fileURLWithPath: deb!), packaged: URL(fileURLWithPath: packaged!),
                           idleSeconds: idleSeconds).run(into: &results)
    }

    private func renderReadme(from values: [String: Double]) throws {
        guard let readme else { return }
        let text = try String(contentsOfFile: readme, encoding: .utf8)
        try Figures.render(readme: text, values: values).write(toFile: readme, atomically: true, encoding: .utf8)
        print("rendered the figures table in \(readme)")
    }
}

/// The IDs the benchmark checks: listed wanted and missing persons' IDs (one in five), the
/// rest valid IDs that are not listed, shuffled; with each the IDs its check looks up (the
/// ID and its one-keystroke neighbours), for the raw reference.
struct IDMix {
    var entered: [String] = []
    var lookups: [[String]] = []
    var listedCount = 0

    init(datasetURL: URL, count: Int) throws {
        var listed: [String] = []
        for list in [ListKind.wantedPersons, .missingPersons] {
            let text = try String(contentsOf: datasetURL.appendingPathComponent(Dataset.fileName(list)), encoding: .utf8)
            listed += text.split(separator: "\n").dropFirst().map { String($0.split(separator: ",", omittingEmptySubsequences: false)[1]) }.filter { !$0.isEmpty }
        }
        var rng = SystemRandomNumberGenerator()
        for i in 0..<count {
            let id: String
            if i % 5 == 0 {
                id = listed.randomElement(using: &rng)!
                listedCount += 1
            } else {
                let letter = "ABCDEFGHJKLMNPQRSTUVXYWZIO".randomElement(using: &rng)!
                id = DemoRecords.withCheckDigit("\(letter)\(Int.random(in: 1...2, using: &rng))" + String(format: "%07d", Int.random(in: 0..<10_000_000, using: &rng)))
            }
            let parsed = try PersonID(parsing: id)
            entered.append(id)
            lookups.append([parsed.value] + parsed.neighbours().map(\.value))
        }
    }
}

/// The plates the benchmark enters: listed plates as written, OCR misreads of listed
/// plates, and plates that are not listed, shuffled.
struct PlateMix {
    var entered: [String] = []
    /// The confusable-folded key of each entry, what the check's lookup (and the raw one) binds.
    var folded: [String] = []
    var listedCount = 0
    var confusableCount = 0

    init(datasetURL: URL, count: Int) throws {
        let text = try String(contentsOf: datasetURL.appendingPathComponent(Dataset.fileName(.stolenVehicles)), encoding: .utf8)
        let listed = text.split(separator: "\n").dropFirst().map { $0.split(separator: ",")[1] }.map(String.init)
        var rng = SystemRandomNumberGenerator()
        let swaps: [Character: Character] = ["B": "8", "S": "5", "Z": "2", "G": "6", "D": "0", "Q": "0"]
        for i in 0..<count {
            var plate: String
            switch i % 20 {
            case 0, 1:
                plate = listed.randomElement(using: &rng)!
                listedCount += 1
            case 2:
                plate = String(listed.randomElement(using: &rng)!.map { swaps[$0] ?? $0 })
                confusableCount += 1
            default:
                let letters = Array("ABCDEFGHJKLMNPQRSTUVWXYZ"), digits = Array("01235678")
                plate = String((0..<3).map { _ in letters.randomElement(using: &rng)! }) + "-"
                    + String((0..<4).map { _ in digits.randomElement(using: &rng)! })
            }
            entered.append(plate)
            folded.append(try Plate(parsing: plate).foldedKey)
        }
        var order = Array(0..<count)
        order.shuffle(using: &rng)
        entered = order.map { entered[$0] }
        folded = order.map { folded[$0] }
    }
}
