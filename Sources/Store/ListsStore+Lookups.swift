import FieldWire
import GRDB
import GRDBSQLite
import Watchlist

/// What a lookup found in one list, read in one transaction with the list's version.
public struct ListLookup<Record: Sendable>: Sendable {
    public var meta: ListMeta
    public var records: [Record]
}

/// A stolen-vehicle row with the compact plate the comparison needs.
public struct StoredVehicle: Sendable, Equatable {
    public var compactPlate: String
    public var vehicle: StolenVehicle
}

extension ListsStore {
    static let vehicleColumns = """
        v.record_id, v.plate, v.vehicle_kind, v.make, v.model, v.colour, v.vin, v.engine_number, v.reported_at, \
        v.case_number, v.reporting_unit
        """
    static let wantedColumns = """
        v.record_id, v.id_number, v.name, v.date_of_birth, v.sex, v.warrant_number, v.offence, v.issuing_authority, \
        v.caution_flags, v.photos
        """
    static let missingColumns = """
        v.record_id, v.id_number, v.name, v.date_of_birth, v.sex, v.missing_since, v.description, v.vulnerable, \
        v.contact_unit, v.photos
        """

    // MARK: Vehicles

    /// Records one lookup returns at most. Exact matches come first, so however many share
    /// a folded key, an exact hit is never cut off by near matches.
    public static let lookupLimit = 50

    /// Every stolen vehicle whose plate has the folded key `plateKey`: the exact match
    /// (`plate`) and the OCR-confusable near matches in one index lookup. When more records
    /// share the key than one lookup returns, the exact match is read on its own, so it is
    /// never cut off by near matches (an ORDER BY would make every lookup sort).
    public func stolenVehicles(plateKey: String, plate: String) throws -> ListLookup<StoredVehicle> {
        try lookup { db in try Self.vehicles(db, plateKey: plateKey, plate: plate) }
    }

    static func vehicles(_ db: Database, plateKey: String, plate: String) throws -> ListLookup<StoredVehicle> {
        let found = try vehicles(db, VehicleQuery.plateKey, [plateKey])
        guard found.records.count == lookupLimit, !found.records.contains(where: { $0.compactPlate == plate }) else {
            return found
        }
        // Both reads in one transaction: the same snapshot of the list.
        var both = found
        try db.inTransaction(.deferred) {
            let near = try vehicles(db, VehicleQuery.plateKey, [plateKey])
            let exact = try vehicles(db, VehicleQuery.exactPlate, [plateKey, plate])
            both = ListLookup(meta: near.meta, records: exact.records + near.records.prefix(lookupLimit - exact.records.count))
            return .commit
        }
        return both
    }

    public func stolenVehicles(vin: String) throws -> ListLookup<StoredVehicle> {
        try vehicles(VehicleQuery.vin, [vin])
    }

    public func stolenVehicles(engineNumber: String) throws -> ListLookup<StoredVehicle> {
        try vehicles(VehicleQuery.engineNumber, [engineNumber])
    }

    /// Each lookup is one statement: the list's `list_meta` row LEFT JOINed with the
    /// matching records, so version and records come from the same snapshot. No meta row
    /// means the list was never received.
    private enum VehicleQuery {
        static func sql(_ condition: String) -> String {
            """
            SELECT m.version, m.issued_at, m.expires_at, m.record_count, \(ListsStore.vehicleColumns)
            FROM list_meta m LEFT JOIN stolen_vehicle v ON \(condition)
            WHERE m.list = 'stolen-vehicles' LIMIT \(ListsStore.lookupLimit)
            """
        }
        static let plateKey = sql("v.plate_key = ?")
        static let exactPlate = sql("v.plate_key = ? AND v.plate = ?")
        static let vin = sql("v.vin = ?")
        static let engineNumber = sql("v.engine_number = ?")
    }

    private func vehicles(_ sql: String, _ values: [String]) throws -> ListLookup<StoredVehicle> {
        try lookup { db in try Self.vehicles(db, sql, values) }
    }

    private static func vehicles(_ db: Database, _ sql: String, _ values: [String]) throws -> ListLookup<StoredVehicle> {
        let statement = try db.cachedStatement(sql: sql)
        statement.bindTexts(values)
        var meta = ListMeta.never(.stolenVehicles)
        var records: [StoredVehicle] = []
        try statement.forEachRawRow { row in
            meta = row.meta(.stolenVehicles)
            if !row.isNull(4) { records.append(StoredVehicle(row: row, offset: 4)) }
        }
        return ListLookup(meta: meta, records: records)
    }

    // MARK: People

    /// Wanted and missing persons whose identifier is one of `idNumbers`, those with the
    /// first identifier (the one entered) first.
    public func people(idNumbers: [String]) throws -> (wanted: ListLookup<WantedPerson>, missing: ListLookup<MissingPerson>) {
        let placeholders = (1...max(1, idNumbers.count)).map { "?\($0)" }.joined(separator: ",")
        let arguments = idNumbers.isEmpty ? [""] : idNumbers
        return try (
            people(.wantedPersons, "v.id_number IN (\(placeholders))", arguments, WantedPerson.init(row:offset:), order: "ORDER BY v.id_number = ?1 DESC"),
            people(.missingPersons, "v.id_number IN (\(placeholders))", arguments, MissingPerson.init(row:offset:), order: "ORDER BY v.id_number = ?1 DESC"))
    }

    /// Wanted and missing persons with this folded name and date of birth.
    public func people(nameKey: String, dateOfBirth: CalendarDate) throws -> (wanted: ListLookup<WantedPerson>, missing: ListLookup<MissingPerson>) {
        let arguments = [nameKey, dateOfBirth.description]
        let condition = "v.name_key = ? AND v.date_of_birth = ?"
        return try (
            people(.wantedPersons, condition, arguments, WantedPerson.init(row:offset:)),
            people(.missingPersons, condition, arguments, MissingPerson.init(row:offset:)))
    }

    private func people<Record>(_ list: ListKind, _ condition: String, _ arguments: [String],
                                _ decode: (RawRow, Int) -> Record, order: String = "") throws -> ListLookup<Record> {
        let (table, columns) = list == .wantedPersons ? ("wanted_person", Self.wantedColumns) : ("missing_person", Self.missingColumns)
        return try lookup { db in
            let statement = try db.cachedStatement(sql: """
                SELECT m.version, m.issued_at, m.expires_at, m.record_count, \(columns)
                FROM list_meta m LEFT JOIN \(table) v ON \(condition)
                WHERE m.list = '\(list.rawValue)' \(order) LIMIT \(Self.lookupLimit)
                """)
            statement.bindTexts(arguments)
            var meta = ListMeta.never(list)
            var records: [Record] = []
            try statement.forEachRawRow { row in
                meta = row.meta(list)
                if !row.isNull(4) { records.append(decode(row, 4)) }
            }
            return ListLookup(meta: meta, records: records)
        }
    }
}

// MARK: Any list, by its declaration

extension ListsStore {
    /// The records of `list` whose lookup column (`ListSchema.lookupColumn`) is `key`, each
    /// as its fields in column order, with the list's version and mode from the same
    /// snapshot. One statement, as the typed lookups above.
    public func records(_ list: ListKind, key: String) throws -> ListLookup<[String?]> {
        // One generation for the check and the lookup: one readlink on the check path.
        let generation = try readableGeneration()
        guard generation.received.contains(list) else { return ListLookup(meta: .never(list), records: []) }
        return try wrap { try generation.lookups.next().inDatabase { db in try Self.records(db, list, key: key) } }
    }

    /// A plate check's reads, from one generation on one connection (one readlink for both):
    /// the stolen vehicles with this folded key, and each of `documents` (the document lists
    /// that answer plate checks) by the compact plate; a document list the generation never
    /// received is left out.
    public func plate(plateKey: String, plate: String, documents: [ListKind])
        throws -> (vehicles: ListLookup<StoredVehicle>, documents: [(ListKind, ListLookup<[String?]>)]) {
        let generation = try readableGeneration()
        let held = documents.filter(generation.received.contains)
        return try wrap { try generation.lookups.next().inDatabase { db in
            let vehicles = try Self.vehicles(db, plateKey: plateKey, plate: plate)
            return (vehicles, try held.map { ($0, try Self.records(db, $0, key: plate)) })
        } }
    }

    static func records(_ db: Database, _ list: ListKind, key: String) throws -> ListLookup<[String?]> {
        let count = ListSchema.of(list).columns.count
        let statement = try db.cachedStatement(sql: recordsSQL[list]!)
        statement.bindTexts([key])
        var meta = ListMeta.never(list)
        var records: [[String?]] = []
        try statement.forEachRawRow { row in
            meta = row.meta(list)
            meta.mode = ListMode(rawValue: row.text(4)) ?? .full
            if !row.isNull(5) { records.append((0..<count).map { row.optionalText(5 + $0) }) }
        }
        return ListLookup(meta: meta, records: records)
    }

    /// Each list's lookup by its declaration, written once (the plate check runs one per check).
    private static let recordsSQL: [ListKind: String] = Dictionary(uniqueKeysWithValues: ListKind.allCases.map { list in
        let schema = ListSchema.of(list)
        return (list, """
            SELECT m.version, m.issued_at, m.expires_at, m.record_count, m.mode,
                   \(schema.columnNames.map { "v.\($0)" }.joined(separator: ", "))
            FROM list_meta m LEFT JOIN \(schema.table) v ON v.\(schema.lookupColumn) = ?
            WHERE m.list = '\(list.rawValue)' LIMIT \(lookupLimit)
            """)
    })
}

// MARK: The roster

extension ListsStore {
    /// The roster's record of `officerId` (nil when not listed), with the roster's version
    /// (`version == 0`: no roster received yet).
    public func officer(_ officerId: String) throws -> ListLookup<RosterOfficer> {
        try lookup { db in
            let statement = try db.cachedStatement(sql: """
                SELECT m.version, m.issued_at, m.expires_at, m.record_count,
                       v.record_id, v.officer_id, v.name, v.units, v.status, v.status_reason, v.pin_verifier, v.second_factor
                FROM list_meta m LEFT JOIN officer v ON v.officer_key = ?
                WHERE m.list = 'officers'
                """)
            statement.bindTexts([officerId])
            var meta = ListMeta.never(.officers)
            var records: [RosterOfficer] = []
            try statement.forEachRawRow { row in
                meta = row.meta(.officers)
                if !row.isNull(4) { records.append(RosterOfficer(row: row, offset: 4)) }
            }
            return ListLookup(meta: meta, records: records)
        }
    }
}

extension RosterOfficer {
    init(row: RawRow, offset o: Int) {
        self.init(recordId: row.text(o), officerId: row.text(o + 1), name: row.text(o + 2),
                  units: row.text(o + 3).split(separator: ";").map(String.init),
                  status: Status(rawValue: row.text(o + 4)) ?? .suspended, statusReason: row.text(o + 5),
                  pinVerifier: row.text(o + 6), secondFactor: row.optionalText(o + 7))
    }
}

// MARK: Row decoding (by position: the SELECTs above fix the order)

/// One result row read straight from SQLite. GRDB's `Row` builds a lower-cased column-name
/// table per query, which costs more than the index lookup itself on this hot path.
struct RawRow {
    let handle: SQLiteStatement

    func isNull(_ i: Int) -> Bool { sqlite3_column_type(handle, Int32(i)) == SQLITE_NULL }

    func text(_ i: Int) -> String {
        guard let p = sqlite3_column_text(handle, Int32(i)) else { return "" }
        return String(decoding: UnsafeBufferPointer(start: p, count: Int(sqlite3_column_bytes(handle, Int32(i)))), as: UTF8.self)
    }

    func optionalText(_ i: Int) -> String? { isNull(i) ? nil : text(i) }
    func int(_ i: Int) -> Int64 { sqlite3_column_int64(handle, Int32(i)) }
    func optionalInt(_ i: Int) -> Int64? { isNull(i) ? nil : int(i) }

    /// Columns 0–3: list_meta's version, issued_at, expires_at, record_count.
    func meta(_ list: ListKind) -> ListMeta {
        ListMeta(list: list, version: int(0), issuedAt: optionalInt(1), expiresAt: optionalInt(2), recordCount: int(3))
    }
}

extension Statement {
    /// Binds `values` to parameters 1…n. GRDB's `StatementArguments` goes through generic
    /// conversions that cost more than the index lookup on the check path.
    func bindTexts(_ values: [String]) {
        let handle = sqliteStatement
        sqlite3_clear_bindings(handle)
        for (index, value) in values.enumerated() {
            var value = value
            _ = value.withUTF8 { text in
                sqlite3_bind_text(handle, Int32(index + 1), text.baseAddress, Int32(text.count), SQLITE_TRANSIENT)
            }
        }
    }

    /// Steps a statement whose arguments are set, handing each row to `body`, and resets it
    /// so the implicit read transaction ends.
    func forEachRawRow(_ body: (RawRow) throws -> Void) throws {
        let handle = sqliteStatement
        defer { sqlite3_reset(handle) }
        while true {
            let code = sqlite3_step(handle)
            if code == SQLITE_DONE { return }
            guard code == SQLITE_ROW else {
                throw StoreError(.database, "lists database: \(String(cString: sqlite3_errmsg(sqlite3_db_handle(handle))))")
            }
            try body(RawRow(handle: handle))
        }
    }
}

extension StoredVehicle {
    init(row: RawRow, offset o: Int) {
        let compact = row.text(o + 1)
        compactPlate = compact
        vehicle = StolenVehicle(
            recordId: row.text(o),
            plate: Plate.display(compact: compact, format: PlateFormat.recognise(Array(compact.utf8))),
            vehicleKind: row.text(o + 2), make: row.text(o + 3), model: row.text(o + 4), colour: row.text(o + 5),
            vin: row.optionalText(o + 6), engineNumber: row.optionalText(o + 7), reportedAt: row.text(o + 8),
            caseNumber: row.text(o + 9), reportingUnit: row.text(o + 10))
    }
}

extension WantedPerson {
    init(row: RawRow, offset o: Int) {
        let flags = row.text(o + 8)
        self.init(
            recordId: row.text(o), idNumber: row.optionalText(o + 1), name: row.text(o + 2),
            dateOfBirth: storedDate(row.text(o + 3)), sex: row.text(o + 4), warrantNumber: row.text(o + 5),
            offence: row.text(o + 6), issuingAuthority: row.text(o + 7),
            cautionFlags: flags.isEmpty ? [] : flags.split(separator: ";").map(String.init),
            photos: storedPhotos(row.optionalText(o + 9)))
    }
}

extension MissingPerson {
    init(row: RawRow, offset o: Int) {
        self.init(
            recordId: row.text(o), idNumber: row.optionalText(o + 1), name: row.text(o + 2),
            dateOfBirth: storedDate(row.text(o + 3)), sex: row.text(o + 4), missingSince: row.text(o + 5),
            description: row.text(o + 6), vulnerable: row.int(o + 7) != 0, contactUnit: row.text(o + 8),
            photos: storedPhotos(row.optionalText(o + 9)))
    }
}

/// Photo fields are validated on load, so a stored one always parses.
private func storedPhotos(_ text: String?) -> [PhotoReference] {
    text.flatMap { PhotoReference.parse(field: $0) } ?? []
}

/// Dates are validated on load, so a stored one always parses.
private func storedDate(_ text: String) -> CalendarDate {
    (try? CalendarDate(parsing: text)) ?? CalendarDate(year: 1900, month: 1, day: 1)!
}
