import FieldWire
import Foundation
import Store
import Watchlist

/// The load reference: the sqlite3 shell's `.import` of the same rows (with the derived
/// columns the loader computes already filled in) into a fresh file with the same schema,
/// indexes and pragmas as lists.db, indexes built after the rows are in.
struct SQLite3Import {
    let shell: String
    let work: URL

    /// Returns the seconds the import took (preparing the CSVs is not timed).
    func run(schemaFrom listsPath: String, dataset: URL) throws -> Double {
        let target = work.appendingPathComponent("sqlite3-import.db").path
        try? FileManager.default.removeItem(atPath: target)
        // The same tables, then the same indexes built after the import: the fast way to
        // bulk-load with the shell, as the store's loader does it.
        let schema = try shellOutput([listsPath, ".schema"])
            .split(separator: "\n").filter { !$0.contains("grdb_migrations") && !$0.contains("sqlite_sequence") }
        let tables = schema.filter { !$0.hasPrefix("CREATE INDEX") }.joined(separator: "\n")
        let indexes = schema.filter { $0.hasPrefix("CREATE INDEX") }.joined(separator: "\n")
        let vehicles = work.appendingPathComponent("import-stolen_vehicle.csv")
        let wanted = work.appendingPathComponent("import-wanted_person.csv")
        let missing = work.appendingPathComponent("import-missing_person.csv")
        try derive(dataset, .stolenVehicles, to: vehicles)
        try derive(dataset, .wantedPersons, to: wanted)
        try derive(dataset, .missingPersons, to: missing)
        let script = """
            PRAGMA journal_mode = WAL;
            PRAGMA synchronous = NORMAL;
            \(tables)
            .mode csv
            BEGIN;
            .import \(vehicles.path) stolen_vehicle
            .import \(wanted.path) wanted_person
            .import \(missing.path) missing_person
            \(indexes)
            COMMIT;
            PRAGMA wal_checkpoint(TRUNCATE);
            """
        let scriptURL = work.appendingPathComponent("import.sql")
        try script.write(to: scriptURL, atomically: true, encoding: .utf8)
        let (_, seconds) = try Measure.seconds { try shellOutput([target, ".read \(scriptURL.path)"]) }
        let count = try shellOutput([target, "SELECT count(*) FROM stolen_vehicle"]).trimmingCharacters(in: .whitespacesAndNewlines)
        print("  sqlite3 .import: \(count) stolen-vehicle rows")
        return seconds
    }

    /// The data set's rows in table column order, without header, derived columns computed.
    private func derive(_ dataset: URL, _ list: ListKind, to url: URL) throws {
        let text = try String(contentsOf: dataset.appendingPathComponent(Dataset.fileName(list)), encoding: .utf8)
        var out = ""
        out.reserveCapacity(text.utf8.count * 11 / 10)
        for line in text.split(separator: "\n").dropFirst() {
            var f = line.split(separator: ",", omittingEmptySubsequences: false).map(String.init)
            switch list {
            case .stolenVehicles:
                let plate = Plate.normalisedForList(f[1])!
                f[1] = plate.compact
                f.insert(plate.foldedKey, at: 2)
            case .wantedPersons, .missingPersons:
                f.insert(PersonName.foldedForList(f[2])!, at: 3)
            }
            out += f.joined(separator: ",") + "\n"
        }
        try out.write(to: url, atomically: true, encoding: .utf8)
    }

    private func shellOutput(_ arguments: [String]) throws -> String {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: shell)
        process.arguments = arguments
        let pipe = Pipe()
        process.standardOutput = pipe
        try process.run()
        let data = pipe.fileHandleForReading.readDataToEndOfFile()
        process.waitUntilExit()
        guard process.terminationStatus == 0 else { throw BenchError("sqlite3 \(arguments) exited \(process.terminationStatus)") }
        return String(decoding: data, as: UTF8.self)
    }
}
