import FieldWire
import GRDBSQLite
import Watchlist

/// A floor: one prepared single-parameter lookup through the SQLite C API, every column of
/// every row read as text, as the check reads them.
final class RawLookup {
    private var db: OpaquePointer?
    private var statement: OpaquePointer?
    private let columns: Int32

    init(path: String, sql: String) throws {
        guard sqlite3_open_v2(path, &db, SQLITE_OPEN_READONLY, nil) == SQLITE_OK else {
            throw BenchError("raw sqlite3_open_v2 failed on \(path)")
        }
        guard sqlite3_prepare_v2(db, sql, -1, &statement, nil) == SQLITE_OK else {
            throw BenchError("raw prepare failed: \(String(cString: sqlite3_errmsg(db)))")
        }
        columns = sqlite3_column_count(statement)
    }

    /// The plate check's lookup: by the confusable-folded plate key.
    static func plates(path: String) throws -> RawLookup {
        try RawLookup(path: path, sql: "SELECT record_id, plate, vehicle_kind, make, model, colour, vin, engine_number, reported_at, case_number, reporting_unit FROM stolen_vehicle WHERE plate_key = ?")
    }

    /// The registration half of a plate check: by the compact plate.
    static func registrations(path: String) throws -> RawLookup {
        try RawLookup(path: path, sql: "SELECT record_id, plate, status, vehicle_kind, make, model, colour, company_owned FROM registration WHERE plate = ?")
    }

    /// Returns the number of rows found.
    func lookup(_ key: String) -> Int {
        let transient = unsafeBitCast(-1, to: sqlite3_destructor_type.self)
        sqlite3_bind_text(statement, 1, key, -1, transient)
        var rows = 0
        while sqlite3_step(statement) == SQLITE_ROW {
            for column in 0..<columns {
                if let text = sqlite3_column_text(statement, column) { _ = String(cString: text) }
            }
            rows += 1
        }
        sqlite3_reset(statement)
        return rows
    }

    deinit {
        sqlite3_finalize(statement)
        sqlite3_close(db)
    }
}

/// The floor for an ID check: the same `id_number IN (…)` lookups of both person lists (the
/// ID and its one-keystroke neighbours), through the SQLite C API, every column read.
final class RawPersonLookup {
    private var db: OpaquePointer?
    /// Per number of IDs: the wanted and the missing statement.
    private var statements: [Int: (OpaquePointer?, OpaquePointer?)] = [:]

    init(path: String) throws {
        guard sqlite3_open_v2(path, &db, SQLITE_OPEN_READONLY, nil) == SQLITE_OK else {
            throw BenchError("raw sqlite3_open_v2 failed on \(path)")
        }
    }

    private func prepared(_ count: Int) throws -> (OpaquePointer?, OpaquePointer?) {
        if let pair = statements[count] { return pair }
        let marks = Array(repeating: "?", count: count).joined(separator: ",")
        var wanted: OpaquePointer?, missing: OpaquePointer?
        let wantedSQL = "SELECT record_id, id_number, name, date_of_birth, sex, warrant_number, offence, issuing_authority, caution_flags, photos "
            + "FROM wanted_person WHERE id_number IN (\(marks))"
        let missingSQL = "SELECT record_id, id_number, name, date_of_birth, sex, missing_since, description, vulnerable, contact_unit, photos "
            + "FROM missing_person WHERE id_number IN (\(marks))"
        guard sqlite3_prepare_v2(db, wantedSQL, -1, &wanted, nil) == SQLITE_OK,
              sqlite3_prepare_v2(db, missingSQL, -1, &missing, nil) == SQLITE_OK else {
            throw BenchError("raw prepare failed: \(String(cString: sqlite3_errmsg(db)))")
        }
        statements[count] = (wanted, missing)
        return (wanted, missing)
    }

    /// Returns the number of rows found.
    func lookup(_ ids: [String]) throws -> Int {
        let (wanted, missing) = try prepared(ids.count)
        let transient = unsafeBitCast(-1, to: sqlite3_destructor_type.self)
        var rows = 0
        for statement in [wanted, missing] {
            for (i, id) in ids.enumerated() { sqlite3_bind_text(statement, Int32(i + 1), id, -1, transient) }
            while sqlite3_step(statement) == SQLITE_ROW {
                for column in 0..<10 {
                    if let text = sqlite3_column_text(statement, Int32(column)) { _ = String(cString: text) }
                }
                rows += 1
            }
            sqlite3_reset(statement)
        }
        return rows
    }

    deinit {
        for (wanted, missing) in statements.values {
            sqlite3_finalize(wanted)
            sqlite3_finalize(missing)
        }
        sqlite3_close(db)
    }
}

/// The floor for a delta: the same deletes and upserts (INSERT OR REPLACE) through the
/// SQLite C API with prepared statements, in one transaction, with the store's pragmas,
/// timed to the commit. `readingStored` reads each change's stored record first (every
/// column's bytes, by record id), as an apply that keeps a content digest must.
enum RawDeltaApply {
    static func run(path: String, list: ListKind = .stolenVehicles, deltaCSV: String, readingStored: Bool = false) throws -> Double {
        var db: OpaquePointer?
        guard sqlite3_open_v2(path, &db, SQLITE_OPEN_READWRITE, nil) == SQLITE_OK else { throw BenchError("raw open failed on \(path)") }
        defer { sqlite3_close(db) }
        func exec(_ sql: String) throws {
            guard sqlite3_exec(db, sql, nil, nil, nil) == SQLITE_OK else { throw BenchError("raw: \(String(cString: sqlite3_errmsg(db)))") }
        }
        try exec("PRAGMA journal_mode = WAL; PRAGMA synchronous = NORMAL; PRAGMA cache_size = -65536; PRAGMA wal_autocheckpoint = 0")
        let schema = ListSchema.of(list)
        var delete: OpaquePointer?, upsert: OpaquePointer?, stored: OpaquePointer?
        sqlite3_prepare_v2(db, "DELETE FROM \(schema.table) WHERE record_id = ?", -1, &delete, nil)
        sqlite3_prepare_v2(db, "SELECT \(schema.tableColumns.joined(separator: ", ")) FROM \(schema.table) WHERE record_id = ?", -1, &stored, nil)
        let recordID = schema.tableColumns.firstIndex(of: "record_id")!
        sqlite3_prepare_v2(db, "INSERT OR REPLACE INTO \(schema.table) (\(schema.tableColumns.joined(separator: ", "))) VALUES (\(Array(repeating: "?", count: schema.tableColumns.count).joined(separator: ",")))",
                           -1, &upsert, nil)
        defer {
            sqlite3_finalize(delete)
            sqlite3_finalize(upsert)
            sqlite3_finalize(stored)
        }
        // Parsed and normalised (derived key included) before the clock starts: the floor is
        // SQLite's share alone.
        let rows: [(delete: Bool, values: [String?])] = try deltaCSV.split(separator: "\n").dropFirst(2).enumerated().map { n, line in
            let f = line.split(separator: ",", omittingEmptySubsequences: false).map(String.init)
            if f[0] == "delete" { return (true, [f[1]]) }
            return (false, try ListRow(list, Array(f.dropFirst()), file: "delta", line: n + 3).tableValues)
        }
        let transient = unsafeBitCast(-1, to: sqlite3_destructor_type.self)
        var storedBytes = 0
        let start = Measure.nowNanoseconds()
        try exec("BEGIN")
        for row in rows {
            if readingStored, let id = row.values[row.delete ? 0 : recordID] {
                sqlite3_bind_text(stored, 1, id, -1, transient)
                while sqlite3_step(stored) == SQLITE_ROW {
                    for column in 0..<sqlite3_column_count(stored) {
                        if sqlite3_column_text(stored, column) != nil { storedBytes += Int(sqlite3_column_bytes(stored, column)) }
                    }
                }
                sqlite3_reset(stored)
            }
            let statement = row.delete ? delete : upsert
            for (i, value) in row.values.enumerated() {
                if let value { sqlite3_bind_text(statement, Int32(i + 1), value, -1, transient) } else { sqlite3_bind_null(statement, Int32(i + 1)) }
            }
            guard sqlite3_step(statement) == SQLITE_DONE else { throw BenchError("raw step: \(String(cString: sqlite3_errmsg(db)))") }
            sqlite3_reset(statement)
        }
        try exec("COMMIT")
        let seconds = Double(Measure.nowNanoseconds() - start) / 1e9
        if readingStored, storedBytes == 0 { throw BenchError("raw: the delta's records were not found to read") }
        return seconds
    }
}

struct BenchError: Error, CustomStringConvertible {
    let description: String
    init(_ description: String) { self.description = description }
}
