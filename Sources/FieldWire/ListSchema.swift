import Watchlist

/// A list kind, declared: its columns and how each is validated and normalised, the key a
/// lookup binds, the table it lives in, and — for document lists — which column is the
/// status and which checks read it. The data set reader, the list files, the loader, the
/// delta applier, the publisher and the generic lookup all follow the declaration, so a new
/// list is a new declaration (and its table's migration), not new code paths
/// (docs/dataset-format.md, docs/sync-protocol.md "List kinds").
public struct ListSchema: Sendable {
    /// How a field is validated and what is stored for it.
    public enum Rule: Sendable, Equatable {
        /// Any text, kept as given (may be empty).
        case text
        /// Text; an empty field is stored as NULL.
        case optionalText
        /// A plate, stored compact (`ABC1234`).
        case plate
        /// A 17-character VIN or empty (NULL).
        case vin
        /// An engine number or empty (NULL).
        case engineNumber
        /// A national ID or resident number, upper-cased; `optional`: empty is NULL.
        case personID(optional: Bool)
        /// A person's name, kept as given (the derived key folds it).
        case personName
        /// A name or other text that must not be empty.
        case requiredText
        /// `YYYY-MM-DD`; `optional`: empty is NULL.
        case date(optional: Bool)
        /// `0` or `1`.
        case flag
        /// One of the values.
        case oneOf([String])
        /// One or more of the values, separated by `;`.
        case setOf([String])
        /// `kind:sha256:bytes` per photo, `;` between (empty is NULL).
        case photos
        /// An officer or unit id (`CheckContext.validateIdentifier`).
        case identifier
        /// One or more identifiers separated by `;`.
        case identifiers
        /// A `PINVerifier` text form.
        case pinVerifier
        /// A sealed TOTP secret, or empty (NULL).
        case sealedTOTP
    }

    public struct Column: Sendable {
        public var name: String
        public var rule: Rule

        public var isOptional: Bool {
            switch rule {
            case .optionalText, .vin, .engineNumber, .photos, .sealedTOTP: true
            case .personID(let optional), .date(let optional): optional
            default: false
            }
        }
    }

    /// A lookup key computed from one column and stored beside the fields (not in list
    /// files: it is derived again wherever a row is read).
    public struct DerivedKey: Sendable {
        public enum Derivation: Sendable {
            /// `Plate.foldedKey`: exact and OCR-confusable plates share it.
            case foldedPlate
            /// `PersonName.foldedForList`.
            case foldedName
            /// The field as stored.
            case same
        }
        public var name: String
        /// The column it is made from.
        public var source: Int
        public var derivation: Derivation
    }

    /// A column that must not be empty when another one holds one of some values.
    public struct Requirement: Sendable {
        public var column: String
        public var when: String
        public var isIn: [String]
        public var why: String
    }

    /// Document lists: what the officer is told about the plate or ID.
    public struct Document: Sendable {
        /// The check kinds whose entry is looked up in this list (a plate check reads the
        /// registration, a licence check the licence).
        public var answers: [CheckAnswer.Kind]
        public var statusColumn: String
        /// The status that makes the document valid; every other one makes it invalid.
        public var validStatus: String
        /// Columns said beside an invalid status ("until 2027-03-01, 酒駕").
        public var detailColumns: [String]
    }

    public enum Role: Sendable {
        /// Records a check can hit (stolen vehicles, wanted and missing persons).
        case watchList
        /// The officer roster: read at sign-in.
        case roster
        case document(Document)
    }

    public let list: ListKind
    public let table: String
    public let columns: [Column]
    public let derivedKey: DerivedKey?
    /// The column a lookup binds: the derived key's, or a field's own.
    public let lookupColumn: String
    public let requirements: [Requirement]
    public let role: Role

    public var columnNames: [String] { columns.map(\.name) }

    /// The table's columns in order: the fields, with the derived key after its source.
    public var tableColumns: [String] {
        var names = columnNames
        if let derivedKey { names.insert(derivedKey.name, at: derivedKey.source + 1) }
        return names
    }

    public func index(of column: String) -> Int? { columns.firstIndex { $0.name == column } }

    public var document: Document? {
        if case .document(let document) = role { document } else { nil }
    }

    /// The rows an exceptions-only list keeps: invalid documents only (every row of any
    /// other list).
    public func isException(_ row: ListRow) -> Bool {
        guard let document, let status = index(of: document.statusColumn) else { return true }
        return row.fields[status] != document.validStatus
    }

    public static func of(_ list: ListKind) -> ListSchema { all[list]! }

    /// The document lists whose entry a check of `kind` looks up (worked out once: the
    /// check path asks on every check).
    public static func documents(answering kind: CheckAnswer.Kind) -> [ListSchema] { answering[kind] ?? [] }

    private static let answering: [CheckAnswer.Kind: [ListSchema]] = {
        var byKind: [CheckAnswer.Kind: [ListSchema]] = [:]
        for list in ListKind.allCases {
            for kind in of(list).document?.answers ?? [] { byKind[kind, default: []].append(of(list)) }
        }
        return byKind
    }()

    // MARK: The declarations

    private static let all: [ListKind: ListSchema] = Dictionary(uniqueKeysWithValues: [
        ListSchema(list: .stolenVehicles, table: "stolen_vehicle", columns: [
            Column(name: "record_id", rule: .text), Column(name: "plate", rule: .plate),
            Column(name: "vehicle_kind", rule: .text), Column(name: "make", rule: .text), Column(name: "model", rule: .text),
            Column(name: "colour", rule: .text), Column(name: "vin", rule: .vin), Column(name: "engine_number", rule: .engineNumber),
            Column(name: "reported_at", rule: .text), Column(name: "case_number", rule: .text),
            Column(name: "reporting_unit", rule: .text),
        ], derivedKey: DerivedKey(name: "plate_key", source: 1, derivation: .foldedPlate), lookupColumn: "plate_key",
           requirements: [], role: .watchList),
        ListSchema(list: .wantedPersons, table: "wanted_person", columns: [
            Column(name: "record_id", rule: .text), Column(name: "id_number", rule: .personID(optional: true)),
            Column(name: "name", rule: .personName), Column(name: "date_of_birth", rule: .date(optional: false)),
            Column(name: "sex", rule: .text), Column(name: "warrant_number", rule: .text), Column(name: "offence", rule: .text),
            Column(name: "issuing_authority", rule: .text), Column(name: "caution_flags", rule: .text),
            Column(name: "photos", rule: .photos),
        ], derivedKey: DerivedKey(name: "name_key", source: 2, derivation: .foldedName), lookupColumn: "id_number",
           requirements: [], role: .watchList),
        ListSchema(list: .missingPersons, table: "missing_person", columns: [
            Column(name: "record_id", rule: .text), Column(name: "id_number", rule: .personID(optional: true)),
            Column(name: "name", rule: .personName), Column(name: "date_of_birth", rule: .date(optional: false)),
            Column(name: "sex", rule: .text), Column(name: "missing_since", rule: .text), Column(name: "description", rule: .text),
            Column(name: "vulnerable", rule: .flag), Column(name: "contact_unit", rule: .text), Column(name: "photos", rule: .photos),
        ], derivedKey: DerivedKey(name: "name_key", source: 2, derivation: .foldedName), lookupColumn: "id_number",
           requirements: [], role: .watchList),
        ListSchema(list: .officers, table: "officer", columns: [
            Column(name: "record_id", rule: .text), Column(name: "officer_id", rule: .identifier),
            Column(name: "name", rule: .requiredText), Column(name: "units", rule: .identifiers),
            Column(name: "status", rule: .oneOf(["active", "suspended"])), Column(name: "status_reason", rule: .text),
            Column(name: "pin_verifier", rule: .pinVerifier), Column(name: "second_factor", rule: .sealedTOTP),
        ], derivedKey: DerivedKey(name: "officer_key", source: 1, derivation: .same), lookupColumn: "officer_key",
           requirements: [Requirement(column: "status_reason", when: "status", isIn: ["suspended"], why: "a suspension needs its reason")],
           role: .roster),
        ListSchema(list: .registrations, table: "registration", columns: [
            Column(name: "record_id", rule: .text), Column(name: "plate", rule: .plate),
            Column(name: "status", rule: .oneOf(["valid", "cancelled", "suspended", "inspection-overdue"])),
            Column(name: "vehicle_kind", rule: .requiredText), Column(name: "make", rule: .requiredText),
            Column(name: "model", rule: .text), Column(name: "colour", rule: .requiredText),
            Column(name: "company_owned", rule: .flag),
        ], derivedKey: nil, lookupColumn: "plate", requirements: [],
           role: .document(Document(answers: [.plate], statusColumn: "status", validStatus: "valid", detailColumns: []))),
        ListSchema(list: .licences, table: "licence", columns: [
            Column(name: "record_id", rule: .text), Column(name: "id_number", rule: .personID(optional: false)),
            Column(name: "classes", rule: .setOf(LicenceClass.allCases.map(\.rawValue))),
            Column(name: "status", rule: .oneOf(["valid", "suspended", "revoked", "expired"])),
            Column(name: "valid_until", rule: .date(optional: true)), Column(name: "reason", rule: .optionalText),
        ], derivedKey: nil, lookupColumn: "id_number",
           requirements: [Requirement(column: "reason", when: "status", isIn: ["suspended", "revoked"],
                                      why: "a suspension or revocation needs its reason")],
           role: .document(Document(answers: [.licence], statusColumn: "status", validStatus: "valid",
                                    detailColumns: ["valid_until", "reason"]))),
    ].map { ($0.list, $0) })
}

/// Driving-licence classes (道路交通安全規則 §53), as the licences list names them.
public enum LicenceClass: String, Sendable, CaseIterable {
    /// 普通輕型機車
    case lightMotorcycle = "light-motorcycle"
    /// 普通重型機車
    case motorcycle
    /// 大型重型機車
    case heavyMotorcycle = "heavy-motorcycle"
    /// 普通小型車
    case car
    /// 職業小型車
    case professionalCar = "professional-car"
    /// 大貨車
    case truck
    /// 大客車
    case bus
    /// 聯結車
    case trailer
}
