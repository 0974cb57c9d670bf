import GRDB
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
        record_id, plate, vehicle_kind, make, model, colour, vin, engine_number, reported_at, case_number, reporting_unit
        """
    static let wantedColumns = """
        record_id, id_number, name, date_of_birth, sex, warrant_number, offence, issuing_authority, caution_flags
        """
    static let missingColumns = """
        record_id, id_number, name, date_of_birth, sex, missing_since, description, vulnerable, contact_unit
        """

    // MARK: Vehicles

    /// Every stolen vehicle whose plate has the folded key `plateKey`: the exact match and
    /// all OCR-confusable near matches in one index lookup.
    public func stolenVehicles(plateKey: String) throws -> ListLookup<StoredVehicle> {
        try vehicles(where: "plate_key = ?", plateKey)
    }

    public func stolenVehicles(vin: String) throws -> ListLookup<StoredVehicle> {
        try vehicles(where: "vin = ?", vin)
    }

    public func stolenVehicles(engineNumber: String) throws -> ListLookup<StoredVehicle> {
        try vehicles(where: "engine_number = ?", engineNumber)
    }

    private func vehicles(where condition: String, _ value: String) throws -> ListLookup<StoredVehicle> {
        try wrap {
            try reader.read { db in
                let meta = try ListMeta.fetch(db, .stolenVehicles)
                let statement = try db.cachedStatement(sql: "SELECT \(Self.vehicleColumns) FROM stolen_vehicle WHERE \(condition) LIMIT 50")
                statement.setUncheckedArguments([value])
                var records: [StoredVehicle] = []
                let rows = try Row.fetchCursor(statement)
                while let row = try rows.next() {
                    records.append(StoredVehicle(row: row))
                }
                return ListLookup(meta: meta, records: records)
            }
        }
    }

    // MARK: People

    /// Wanted and missing persons whose identifier is one of `idNumbers`.
    public func people(idNumbers: [String]) throws -> (wanted: ListLookup<WantedPerson>, missing: ListLookup<MissingPerson>) {
        guard !idNumbers.isEmpty else {
            let metas = try versions()
            return (ListLookup(meta: metas[.wantedPersons]!, records: []), ListLookup(meta: metas[.missingPersons]!, records: []))
        }
        let placeholders = Array(repeating: "?", count: idNumbers.count).joined(separator: ",")
        return try people(where: "id_number IN (\(placeholders))", StatementArguments(idNumbers))
    }

    /// Wanted and missing persons with this folded name and date of birth.
    public func people(nameKey: String, dateOfBirth: CalendarDate) throws -> (wanted: ListLookup<WantedPerson>, missing: ListLookup<MissingPerson>) {
        try people(where: "name_key = ? AND date_of_birth = ?", [nameKey, dateOfBirth.description])
    }

    private func people(where condition: String, _ arguments: StatementArguments) throws -> (wanted: ListLookup<WantedPerson>, missing: ListLookup<MissingPerson>) {
        try wrap {
            try reader.read { db in
                let metas = try ListMeta.fetchAll(db)
                let wanted = try Row.fetchAll(
                    db.cachedStatement(sql: "SELECT \(Self.wantedColumns) FROM wanted_person WHERE \(condition) LIMIT 50"),
                    arguments: arguments
                ).map(WantedPerson.init(row:))
                let missing = try Row.fetchAll(
                    db.cachedStatement(sql: "SELECT \(Self.missingColumns) FROM missing_person WHERE \(condition) LIMIT 50"),
                    arguments: arguments
                ).map(MissingPerson.init(row:))
                return (ListLookup(meta: metas[.wantedPersons]!, records: wanted),
                        ListLookup(meta: metas[.missingPersons]!, records: missing))
            }
        }
    }
}

extension ListMeta {
    static func fetch(_ db: Database, _ list: ListKind) throws -> ListMeta {
        let statement = try db.cachedStatement(sql: "SELECT version, issued_at, expires_at, record_count FROM list_meta WHERE list = ?")
        statement.setUncheckedArguments([list.rawValue])
        guard let row = try Row.fetchOne(statement) else { return .never(list) }
        return ListMeta(list: list, version: row[0], issuedAt: row[1], expiresAt: row[2], recordCount: row[3])
    }
}

// MARK: Row decoding (by position: the SELECTs above fix the order)

extension StoredVehicle {
    init(row: Row) {
        let compact: String = row[1]
        compactPlate = compact
        vehicle = StolenVehicle(
            recordId: row[0],
            plate: Plate.display(compact: compact, format: PlateFormat.recognise(Array(compact.utf8))),
            vehicleKind: row[2], make: row[3], model: row[4], colour: row[5],
            vin: row[6], engineNumber: row[7], reportedAt: row[8], caseNumber: row[9], reportingUnit: row[10])
    }
}

extension WantedPerson {
    init(row: Row) {
        let flags: String = row[8]
        self.init(
            recordId: row[0], idNumber: row[1], name: row[2],
            dateOfBirth: (try? CalendarDate(parsing: row[3] as String)) ?? CalendarDate(year: 1900, month: 1, day: 1)!,
            sex: row[4], warrantNumber: row[5], offence: row[6], issuingAuthority: row[7],
            cautionFlags: flags.isEmpty ? [] : flags.split(separator: ";").map(String.init))
    }
}

extension MissingPerson {
    init(row: Row) {
        self.init(
            recordId: row[0], idNumber: row[1], name: row[2],
            dateOfBirth: (try? CalendarDate(parsing: row[3] as String)) ?? CalendarDate(year: 1900, month: 1, day: 1)!,
            sex: row[4], missingSince: row[5], description: row[6], vulnerable: row[7], contactUnit: row[8])
    }
}
