import Watchlist

/// One validated list record: its canonical field values — normalised as its list's
/// declaration says (`ListSchema`), in column order, nil for an empty optional field — and
/// the derived lookup key the table stores beside them, if the list has one. Snapshots carry
/// canonical values, and the content digest is taken over them.
public struct ListRow: Sendable, Equatable {
    public let list: ListKind
    public let fields: [String?]
    /// The derived key (`ListSchema.derivedKey`), nil for a list without one.
    public let key: String?

    public var recordId: String { fields[0]! }

    /// Validates a data set, snapshot or delta row and normalises it.
    /// - Throws: `DatasetError` naming the file, line and column.
    public init(_ list: ListKind, _ f: [String], file: String, line: Int) throws {
        try self.init(ListSchema.of(list), f, file: file, line: line)
    }

    public init(_ schema: ListSchema, _ f: [String], file: String, line: Int) throws {
        func bad(_ column: String, _ why: String) -> DatasetError {
            DatasetError("\(file):\(line): \(column): \(why)")
        }
        let columns = schema.columns
        guard f.count == columns.count else {
            throw DatasetError("\(file):\(line): \(f.count) fields, expected \(columns.count)")
        }
        guard !f[0].isEmpty, f[0].utf8.count <= 64 else { throw bad("record_id", "empty or longer than 64 bytes") }
        list = schema.list
        var fields: [String?] = []
        fields.reserveCapacity(columns.count)
        var key: String?
        for (i, column) in columns.enumerated() {
            let value = f[i]
            let stored: String?
            var folded: String?
            if value.isEmpty, column.isOptional {
                fields.append(nil)
                continue
            }
            switch column.rule {
            case .text, .optionalText:
                stored = value
            case .requiredText:
                guard !value.isEmpty else { throw bad(column.name, "empty") }
                stored = value
            case .plate:
                guard let plate = Plate.normalisedForList(value) else { throw bad(column.name, "not a plate") }
                stored = plate.compact
                folded = plate.foldedKey
            case .vin:
                guard let vin = VIN.normalisedForList(value) else { throw bad(column.name, "not a 17-character VIN") }
                stored = vin
            case .engineNumber:
                guard let number = EngineNumber.normalisedForList(value) else { throw bad(column.name, "not an engine number") }
                stored = number
            case .personID:
                guard let id = PersonID.normalisedForList(value) else { throw bad(column.name, "not a 10-character ID") }
                stored = id
            case .personName:
                guard let nameKey = PersonName.foldedForList(value) else { throw bad(column.name, "not a name") }
                stored = value
                folded = nameKey
            case .date:
                guard let date = try? CalendarDate(parsing: value) else { throw bad(column.name, "not a YYYY-MM-DD date") }
                stored = date.description
            case .flag:
                guard value == "0" || value == "1" else { throw bad(column.name, "must be 0 or 1") }
                stored = value
            case .oneOf(let values):
                guard values.contains(value) else { throw bad(column.name, "must be \(Self.alternatives(values))") }
                stored = value
            case .setOf(let values):
                let items = value.split(separator: ";").map(String.init)
                guard !items.isEmpty, items.allSatisfy(values.contains), Set(items).count == items.count else {
                    throw bad(column.name, "one or more of \(values.joined(separator: ", ")), separated by ';', none twice")
                }
                stored = items.joined(separator: ";")
            case .photos:
                guard PhotoReference.parse(field: value) != nil else {
                    throw bad(column.name, "kind:sha256:bytes per photo, separated by ';' (kinds: \(PhotoReference.Kind.allCases.map(\.rawValue).joined(separator: ", ")))")
                }
                stored = value
            case .identifier:
                do { try CheckContext.validateIdentifier(value, field: column.name) } catch { throw bad(column.name, error.message) }
                stored = value
            case .identifiers:
                let ids = value.split(separator: ";").map(String.init)
                guard !ids.isEmpty, ids.allSatisfy({ (try? CheckContext.validateIdentifier($0, field: column.name)) != nil }) else {
                    throw bad(column.name, "one or more ids separated by ';'")
                }
                stored = ids.joined(separator: ";")
            case .pinVerifier:
                do { _ = try PINVerifier(parsing: value) } catch { throw bad(column.name, error.message) }
                stored = value
            case .sealedTOTP:
                guard SealedTOTPSecret.isWellFormed(value) else { throw bad(column.name, "not a sealed TOTP secret") }
                stored = value
            }
            fields.append(stored)
            if let derived = schema.derivedKey, derived.source == i {
                switch derived.derivation {
                case .foldedPlate, .foldedName: key = folded
                case .same: key = stored
                }
            }
        }
        for requirement in schema.requirements {
            guard let column = schema.index(of: requirement.column), let when = schema.index(of: requirement.when) else { continue }
            if let value = fields[when], requirement.isIn.contains(value), (fields[column] ?? "").isEmpty {
                throw bad(requirement.column, requirement.why)
            }
        }
        self.fields = fields
        self.key = key
    }

    /// "a or b", "a, b or c".
    static func alternatives(_ values: [String]) -> String {
        values.count < 2 ? values.joined() : values.dropLast().joined(separator: ", ") + " or " + values.last!
    }

    /// The canonical fields as CSV text (nil as empty).
    public var csvFields: [String] { fields.map { $0 ?? "" } }

    /// The values in the table's column order (`ListSchema.tableColumns`).
    public var tableValues: [String?] {
        guard let derived = ListSchema.of(list).derivedKey else { return fields }
        var values = fields
        values.insert(key, at: derived.source + 1)
        return values
    }
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
