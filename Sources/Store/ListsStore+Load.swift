import Foundation
import GRDB
import GRDBSQLite
import Watchlist

extension ListsStore {
    /// Progress of a load: which list, and how many of its rows are in.
    public typealias LoadProgress = @Sendable (ListKind, _ rowsDone: Int, _ rowsTotal: Int) -> Void

    /// Replaces the content of all three lists with the data set in `directory`, in one
    /// transaction: a bad row anywhere (named by file, line and column) leaves the previous
    /// lists untouched.
    /// - Returns: the data set's manifest.
    @discardableResult
    public func replaceAll(withDatasetAt directory: URL, progress: LoadProgress? = nil) throws -> Dataset.Manifest {
        let manifest = try Dataset.Manifest.read(from: directory)
        try write { db in
            // Secondary indexes are dropped and rebuilt around the bulk insert: building an
            // index once costs a fraction of updating it row by row. Their SQL comes from the
            // schema itself, so the migrations stay the one definition. Readers on other
            // connections keep their snapshot throughout; the transaction rolls all of it back
            // on any failure.
            let indexes = try Row.fetchAll(db, sql: """
                SELECT name, sql FROM sqlite_master
                WHERE type = 'index' AND sql IS NOT NULL
                  AND tbl_name IN ('stolen_vehicle', 'wanted_person', 'missing_person')
                """).map { (name: $0[0] as String, sql: $0[1] as String) }
            for index in indexes { try db.execute(sql: "DROP INDEX \(index.name)") }
            try db.execute(sql: "DELETE FROM stolen_vehicle; DELETE FROM wanted_person; DELETE FROM missing_person; DELETE FROM list_meta")
            for list in ListKind.allCases {
                // One list's file in memory at a time.
                var reader = try CSVReader(contentsOf: directory.appendingPathComponent(Dataset.fileName(list)))
                guard let header = try reader.nextRow(), header == Dataset.columns(list) else {
                    throw StoreError(.badDataset, "\(Dataset.fileName(list)):1: header must be \(Dataset.columns(list).joined(separator: ","))")
                }
                let expected = manifest.counts[list.rawValue] ?? -1
                let count = try Self.load(list, from: &reader, into: db, expected: expected, progress: progress)
                guard count == expected else {
                    throw StoreError(.badDataset, "\(Dataset.fileName(list)): \(count) rows, but \(Dataset.manifestName) says \(expected)")
                }
                try db.execute(
                    sql: "INSERT INTO list_meta (list, version, issued_at, expires_at, record_count) VALUES (?, ?, ?, ?, ?)",
                    arguments: [list.rawValue, manifest.version, manifest.issuedAt, manifest.expiresAt, count])
            }
            for index in indexes { try db.execute(sql: index.sql) }
        }
        // Fold the load's WAL into the file now rather than on some later check.
        try checkpoint()
        return manifest
    }

    /// Inserts one list's rows. A parser thread reads, validates and normalises the CSV
    /// while this thread inserts what it has handed over: the two overlap on a multi-core
    /// terminal, and a bad row still stops the load with its file, line and column.
    private static func load(_ list: ListKind, from reader: inout CSVReader, into db: Database, expected: Int,
                             progress: LoadProgress?) throws -> Int {
        let statement: Statement
        switch list {
        case .stolenVehicles:
            statement = try db.makeStatement(sql: "INSERT INTO stolen_vehicle (record_id, plate, plate_key, vehicle_kind, make, model, colour, vin, engine_number, reported_at, case_number, reporting_unit) VALUES (?,?,?,?,?,?,?,?,?,?,?,?)")
        case .wantedPersons:
            statement = try db.makeStatement(sql: "INSERT INTO wanted_person (record_id, id_number, name, name_key, date_of_birth, sex, warrant_number, offence, issuing_authority, caution_flags) VALUES (?,?,?,?,?,?,?,?,?,?)")
        case .missingPersons:
            statement = try db.makeStatement(sql: "INSERT INTO missing_person (record_id, id_number, name, name_key, date_of_birth, sex, missing_since, description, vulnerable, contact_unit) VALUES (?,?,?,?,?,?,?,?,?,?)")
        }
        let pipeline = RowPipeline()
        let parser = Thread { [reader] in
            var reader = reader
            do {
                var batch: [ParsedRow] = []
                batch.reserveCapacity(RowPipeline.batchSize)
                while let fields = try reader.nextRow() {
                    batch.append(ParsedRow(line: reader.line, values: try parse(list, fields, file: reader.fileName, line: reader.line)))
                    if batch.count == RowPipeline.batchSize {
                        guard pipeline.put(batch) else { return }
                        batch.removeAll(keepingCapacity: true)
                    }
                }
                if !batch.isEmpty { _ = pipeline.put(batch) }
                pipeline.finish(nil)
            } catch {
                pipeline.finish(error)
            }
        }
        parser.start()
        defer { pipeline.cancel() }
        var count = 0
        let file = Dataset.fileName(list)
        while let batch = try pipeline.take() {
            for row in batch {
                switch Self.insert(row.values, with: statement) {
                case SQLITE_DONE: break
                case SQLITE_CONSTRAINT: throw StoreError(.badDataset, "\(file):\(row.line): record_id: duplicate record id")
                case let code: throw StoreError(.database, "lists database: \(String(cString: sqlite3_errstr(code)))")
                }
                count += 1
                if count % 50_000 == 0 { progress?(list, count, expected) }
            }
        }
        progress?(list, count, expected)
        return count
    }

    /// Validates one CSV row and returns the column values to insert, derived keys included.
    private static func parse(_ list: ListKind, _ f: [String], file: String, line: Int) throws -> [String?] {
        func bad(_ column: String, _ why: String) -> StoreError {
            StoreError(.badDataset, "\(file):\(line): \(column): \(why)")
        }
        let columns = Dataset.columns(list)
        guard f.count == columns.count else {
            throw StoreError(.badDataset, "\(file):\(line): \(f.count) fields, expected \(columns.count)")
        }
        guard !f[0].isEmpty, f[0].utf8.count <= 64 else { throw bad("record_id", "empty or longer than 64 bytes") }
        switch list {
        case .stolenVehicles:
            guard let plate = Plate.normalisedForList(f[1]) else { throw bad("plate", "not a plate") }
            let vin: String? = f[6].isEmpty ? nil : VIN.normalisedForList(f[6])
            if !f[6].isEmpty, vin == nil { throw bad("vin", "not a 17-character VIN") }
            let engine: String? = f[7].isEmpty ? nil : EngineNumber.normalisedForList(f[7])
            if !f[7].isEmpty, engine == nil { throw bad("engine_number", "not an engine number") }
            return [f[0], plate.compact, plate.foldedKey, f[2], f[3], f[4], f[5], vin, engine, f[8], f[9], f[10]]
        case .wantedPersons, .missingPersons:
            let id: String? = f[1].isEmpty ? nil : PersonID.normalisedForList(f[1])
            if !f[1].isEmpty, id == nil { throw bad("id_number", "not a 10-character ID") }
            guard let nameKey = PersonName.foldedForList(f[2]) else { throw bad("name", "not a name") }
            guard let dob = try? CalendarDate(parsing: f[3]) else { throw bad("date_of_birth", "not a YYYY-MM-DD date") }
            if list == .missingPersons, f[7] != "0", f[7] != "1" { throw bad("vulnerable", "must be 0 or 1") }
            return [f[0], id, f[2], nameKey, dob.description, f[4], f[5], f[6], f[7], f[8]]
        }
    }

    /// Binds `values` as text (nil as NULL) and steps the insert. The loader binds straight
    /// through SQLite: GRDB's argument boxing is a third of the insert cost at a million rows.
    /// - Returns: SQLite's result code (primary code).
    private static func insert(_ values: [String?], with statement: Statement) -> Int32 {
        let handle = statement.sqliteStatement
        sqlite3_reset(handle)
        for (i, value) in values.enumerated() {
            let index = Int32(i + 1)
            guard var value else {
                sqlite3_bind_null(handle, index)
                continue
            }
            value.withUTF8 { bytes in
                _ = sqlite3_bind_text(handle, index, bytes.baseAddress, Int32(bytes.count), SQLITE_TRANSIENT)
            }
        }
        return sqlite3_step(handle) & 0xFF
    }
}

private let SQLITE_TRANSIENT = unsafeBitCast(-1, to: sqlite3_destructor_type.self)

/// A validated row and the CSV line it came from.
struct ParsedRow: Sendable {
    var line: Int
    var values: [String?]
}

/// A bounded hand-over of row batches from the parser thread to the inserting thread.
final class RowPipeline: @unchecked Sendable {
    static let batchSize = 4_096
    private static let maxQueued = 8
    private let condition = NSCondition()
    // Guarded by `condition`.
    private var queue: [[ParsedRow]] = []
    private var done = false
    private var failure: (any Error)?
    private var cancelled = false

    /// Hands a batch over, waiting while the queue is full. False once the consumer gave up.
    func put(_ batch: [ParsedRow]) -> Bool {
        condition.lock()
        defer { condition.unlock() }
        while queue.count >= Self.maxQueued, !cancelled { condition.wait() }
        guard !cancelled else { return false }
        queue.append(batch)
        condition.broadcast()
        return true
    }

    /// Ends the stream, with the parser's error if it failed.
    func finish(_ error: (any Error)?) {
        condition.lock()
        done = true
        failure = error
        condition.broadcast()
        condition.unlock()
    }

    /// The next batch; nil at the end; throws the parser's error.
    func take() throws -> [ParsedRow]? {
        condition.lock()
        defer { condition.unlock() }
        while queue.isEmpty, !done { condition.wait() }
        if !queue.isEmpty {
            let batch = queue.removeFirst()
            condition.broadcast()
            return batch
        }
        if let failure { throw failure }
        return nil
    }

    /// The consumer stopped (error or done): release a parser waiting to put.
    func cancel() {
        condition.lock()
        cancelled = true
        condition.broadcast()
        condition.unlock()
    }
}
