import GRDBSQLite

/// The floor: the same exact-plate lookup through the SQLite C API, one prepared statement,
/// every column read as the check reads it.
final class RawPlateLookup {
    private var db: OpaquePointer?
    private var statement: OpaquePointer?

    init(path: String) throws {
        guard sqlite3_open_v2(path, &db, SQLITE_OPEN_READONLY, nil) == SQLITE_OK else {
            throw BenchError("raw sqlite3_open_v2 failed on \(path)")
        }
        let sql = "SELECT record_id, plate, vehicle_kind, make, model, colour, vin, engine_number, reported_at, case_number, reporting_unit FROM stolen_vehicle WHERE plate = ?"
        guard sqlite3_prepare_v2(db, sql, -1, &statement, nil) == SQLITE_OK else {
            throw BenchError("raw prepare failed: \(String(cString: sqlite3_errmsg(db)))")
        }
    }

    /// Returns the number of rows found.
    func lookup(_ plate: String) -> Int {
        let transient = unsafeBitCast(-1, to: sqlite3_destructor_type.self)
        sqlite3_bind_text(statement, 1, plate, -1, transient)
        var rows = 0
        while sqlite3_step(statement) == SQLITE_ROW {
            for column in 0..<11 {
                if let text = sqlite3_column_text(statement, Int32(column)) {
                    _ = String(cString: text)
                }
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

struct BenchError: Error, CustomStringConvertible {
    let description: String
    init(_ description: String) { self.description = description }
}
