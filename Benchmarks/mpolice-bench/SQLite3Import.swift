import FieldWire
import Foundation
import Glibc
import Store
import Watchlist

/// The load reference: the sqlite3 shell's `.import` of the same rows (with the derived
/// columns the loader computes already filled in) into a fresh file with the same schema,
/// written the way the loader writes a generation: a rollback journal with
/// synchronous=OFF, one transaction, empty optional fields stored as NULL (so the partial
/// indexes hold what the loader's do), the same indexes built after the rows are in, then
/// WAL and one fsync of the finished file. Row and non-NULL counts are checked against the
/// loader's file: the two runs must have written the same data.
struct SQLite3Import {
    let shell: String
    let work: URL

    /// Returns the seconds the import took (preparing the CSVs is not timed).
    func run(schemaFrom listsPath: String, dataset: URL, into name: String = "sqlite3-import.db") throws -> Double {
        let target = work.appendingPathComponent(name).path
        try? FileManager.default.removeItem(atPath: target)
        let schema = try shellOutput([listsPath, ".schema"])
            .split(separator: "\n").filter { !$0.contains("grdb_migrations") && !$0.contains("sqlite_sequence") }
        let tables = schema.filter { !$0.hasPrefix("CREATE INDEX") }.joined(separator: "\n")
        let indexes = schema.filter { $0.hasPrefix("CREATE INDEX") }.joined(separator: "\n")
        var imports: [String] = []
        for list in ListKind.allCases where Dataset.holds(list, in: dataset) {
            let table = ListsStore.table(list)
            let csv = work.appendingPathComponent("import-\(table).csv")
            try derive(dataset, list, to: csv)
            // The shell's .import stores an empty field as ''; the staging table takes the
            // rows as they are and the insert turns the optional fields' '' into NULL.
            let columns = try self.columns(listsPath, table)
            let staging = "staging_\(table)"
            let select = columns.map { $0.optional ? "NULLIF(\($0.name), '')" : $0.name }.joined(separator: ", ")
            imports.append("""
                CREATE TEMP TABLE \(staging) (\(columns.map(\.name).joined(separator: ", ")));
                .import \(csv.path) \(staging)
                INSERT INTO \(table) SELECT \(select) FROM \(staging);
                DROP TABLE \(staging);
                """)
        }
        let script = """
            PRAGMA journal_mode = DELETE;
            PRAGMA synchronous = OFF;
            PRAGMA temp_store = MEMORY;
            \(tables)
            .mode csv
            BEGIN;
            \(imports.joined(separator: "\n"))
            \(indexes)
            COMMIT;
            PRAGMA journal_mode = WAL;
            """
        let scriptURL = work.appendingPathComponent("import.sql")
        try script.write(to: scriptURL, atomically: true, encoding: .utf8)
        // The derived files written back first: the import starts, as the loader does, with
        // nothing left to write back.
        Glibc.sync()
        let (_, seconds) = try Measure.seconds {
            _ = try shellOutput([target, ".read \(scriptURL.path)"])
            // As the loader does before the link switches.
            let fd = open(target, O_RDONLY)
            guard fd >= 0, fsync(fd) == 0 else { throw BenchError("fsync \(target): \(String(cString: strerror(errno)))") }
            close(fd)
        }
        for list in ListKind.allCases {
            let table = ListsStore.table(list)
            let counted = try columns(listsPath, table).filter(\.optional).map { "count(\($0.name))" } + ["count(*)"]
            let query = "SELECT \(counted.joined(separator: ", ")) FROM \(table)"
            let (reference, loaded) = (try shellOutput([target, query]), try shellOutput([listsPath, query]))
            guard reference == loaded else {
                throw BenchError("sqlite3 .import wrote other data than the loader into \(table): \(reference) vs \(loaded) (\(counted))")
            }
            print("  sqlite3 .import: \(table) \(counted.joined(separator: ",")) = \(reference.trimmingCharacters(in: .whitespacesAndNewlines)), as loaded")
        }
        return seconds
    }

    /// The table's columns in order, and whether each may be NULL.
    private func columns(_ database: String, _ table: String) throws -> [(name: String, optional: Bool)] {
        try shellOutput([database, "-separator", "|", "SELECT name, \"notnull\" FROM pragma_table_info('\(table)')"])
            .split(separator: "\n").map { line in
                let parts = line.split(separator: "|")
                return (String(parts[0]), parts[1] == "0")
            }
    }

    /// The data set's rows in table column order, without header, derived columns computed.
    private func derive(_ dataset: URL, _ list: ListKind, to url: URL) throws {
        let text = try String(contentsOf: dataset.appendingPathComponent(Dataset.fileName(list)), encoding: .utf8)
        var out = ""
        out.reserveCapacity(text.utf8.count * 11 / 10)
        for (n, line) in text.split(separator: "\n").dropFirst().enumerated() {
            // The loader's own normalisation and derived key (not timed): the reference
            // imports exactly what the loader stores.
            let row = try ListRow(list, line.split(separator: ",", omittingEmptySubsequences: false).map(String.init),
                                  file: Dataset.fileName(list), line: n + 2)
            out += row.tableValues.map { $0 ?? "" }.joined(separator: ",") + "\n"
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
