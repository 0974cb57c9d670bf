import Watchlist

/// One validated list record: its canonical field values — normalised, in
/// `Dataset.columns` order, nil for an empty field — and the derived lookup key the table
/// stores beside them (`plate_key` for vehicles, `name_key` for persons, `officer_key` for
/// the roster). Snapshots carry
/// canonical values, and the content digest is taken over them.
public struct ListRow: Sendable, Equatable {
    public let list: ListKind
    public let fields: [String?]
    public let key: String

    public var recordId: String { fields[0]! }

    /// The field the derived key is made from; the key's table column follows it.
    public static func keySource(_ list: ListKind) -> Int {
        list == .wantedPersons || list == .missingPersons ? 2 : 1
    }

    /// The table column the derived key sits in, counted in the table's column order.
    public static func keyColumn(_ list: ListKind) -> Int { keySource(list) + 1 }

    /// The derived key's column name.
    public static func keyColumnName(_ list: ListKind) -> String {
        switch list {
        case .stolenVehicles: "plate_key"
        case .wantedPersons, .missingPersons: "name_key"
        case .officers: "officer_key"
        }
    }

    /// Validates a data set, snapshot or delta row and normalises it.
    /// - Throws: `DatasetError` naming the file, line and column.
    public init(_ list: ListKind, _ f: [String], file: String, line: Int) throws {
        func bad(_ column: String, _ why: String) -> DatasetError {
            DatasetError("\(file):\(line): \(column): \(why)")
        }
        let columns = Dataset.columns(list)
        guard f.count == columns.count else {
            throw DatasetError("\(file):\(line): \(f.count) fields, expected \(columns.count)")
        }
        guard !f[0].isEmpty, f[0].utf8.count <= 64 else { throw bad("record_id", "empty or longer than 64 bytes") }
        self.list = list
        switch list {
        case .stolenVehicles:
            guard let plate = Plate.normalisedForList(f[1]) else { throw bad("plate", "not a plate") }
            let vin: String? = f[6].isEmpty ? nil : VIN.normalisedForList(f[6])
            if !f[6].isEmpty, vin == nil { throw bad("vin", "not a 17-character VIN") }
            let engine: String? = f[7].isEmpty ? nil : EngineNumber.normalisedForList(f[7])
            if !f[7].isEmpty, engine == nil { throw bad("engine_number", "not an engine number") }
            fields = [f[0], plate.compact, f[2], f[3], f[4], f[5], vin, engine, f[8], f[9], f[10]]
            key = plate.foldedKey
        case .wantedPersons, .missingPersons:
            let id: String? = f[1].isEmpty ? nil : PersonID.normalisedForList(f[1])
            if !f[1].isEmpty, id == nil { throw bad("id_number", "not a 10-character ID") }
            guard let nameKey = PersonName.foldedForList(f[2]) else { throw bad("name", "not a name") }
            guard let dob = try? CalendarDate(parsing: f[3]) else { throw bad("date_of_birth", "not a YYYY-MM-DD date") }
            if list == .missingPersons, f[7] != "0", f[7] != "1" { throw bad("vulnerable", "must be 0 or 1") }
            guard PhotoReference.parse(field: f[9]) != nil else {
                throw bad("photos", "kind:sha256:bytes per photo, separated by ';' (kinds: \(PhotoReference.Kind.allCases.map(\.rawValue).joined(separator: ", ")))")
            }
            fields = [f[0], id, f[2], dob.description, f[4], f[5], f[6], f[7], f[8], f[9].isEmpty ? nil : f[9]]
            key = nameKey
        case .officers:
            do { try CheckContext.validateIdentifier(f[1], field: "officer_id") } catch { throw bad("officer_id", error.message) }
            guard !f[2].isEmpty else { throw bad("name", "empty") }
            let units = f[3].split(separator: ";").map(String.init)
            guard !units.isEmpty, units.allSatisfy({ (try? CheckContext.validateIdentifier($0, field: "units")) != nil }) else {
                throw bad("units", "one or more unit ids separated by ';'")
            }
            guard let status = RosterOfficer.Status(rawValue: f[4]) else { throw bad("status", "must be active or suspended") }
            if status == .suspended, f[5].isEmpty { throw bad("status_reason", "a suspension needs its reason") }
            do { _ = try PINVerifier(parsing: f[6]) } catch { throw bad("pin_verifier", error.message) }
            if !f[7].isEmpty, !SealedTOTPSecret.isWellFormed(f[7]) { throw bad("second_factor", "not a sealed TOTP secret") }
            fields = [f[0], f[1], f[2], units.joined(separator: ";"), f[4], f[5], f[6], f[7].isEmpty ? nil : f[7]]
            key = f[1]
        }
    }

    /// The canonical fields as CSV text (nil as empty).
    public var csvFields: [String] { fields.map { $0 ?? "" } }
}

extension RosterOfficer {
    /// The officer of a validated `officers` row (canonical fields).
    public init(_ row: ListRow) {
        precondition(row.list == .officers)
        let f = row.fields
        self.init(recordId: f[0]!, officerId: f[1]!, name: f[2]!, units: f[3]!.split(separator: ";").map(String.init),
                  status: Status(rawValue: f[4]!)!, statusReason: f[5] ?? "", pinVerifier: f[6]!, secondFactor: f[7])
    }
}
