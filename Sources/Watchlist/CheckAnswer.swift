/// The answer to one check, as the officer's screen, the CLI's `--json` and the local API
/// show it. Field names are a stable contract (docs/check-answer.md).
public struct CheckAnswer: Sendable, Equatable, Codable {
    public enum Kind: String, Sendable, Codable {
        case plate, vin, engineNumber = "engine-number", personID = "person-id", personName = "person-name", licence
    }

    public enum Outcome: String, Sendable, Codable, Comparable {
        /// No listed record matches.
        case noHit = "no-hit"
        /// No watch list matches, but a document is invalid: a cancelled or suspended
        /// registration, a suspended, revoked or expired licence, or (full lists) none at all.
        case documentInvalid = "document-invalid"
        /// A listed record matches only approximately: confusable plate characters, an ID
        /// one keystroke away, or name and date of birth without an ID.
        case possibleHit = "possible-hit"
        /// A listed record matches the identifier exactly.
        case hit

        public static func < (a: Outcome, b: Outcome) -> Bool {
            let order: [Outcome] = [.noHit, .documentInvalid, .possibleHit, .hit]
            return order.firstIndex(of: a)! < order.firstIndex(of: b)!
        }
    }

    /// What was asked, normalised.
    public struct Query: Sendable, Equatable, Codable {
        public var normalized: String
        /// Plates: the layout recognised ("current", …) or nil. IDs: the kind.
        public var format: String?
        /// Plates: layouts the entry would fit if confusables were misread.
        public var possibleFormats: [String]?
        /// IDs: "valid", "bad-checksum" or "bad-shape".
        public var idValidity: String?
        /// Name searches: the date of birth.
        public var dateOfBirth: String?

        public init(normalized: String, format: String? = nil, possibleFormats: [String]? = nil,
                    idValidity: String? = nil, dateOfBirth: String? = nil) {
            (self.normalized, self.format, self.possibleFormats) = (normalized, format, possibleFormats)
            (self.idValidity, self.dateOfBirth) = (idValidity, dateOfBirth)
        }
    }

    /// One listed record that matched, and how.
    public struct Match: Sendable, Equatable, Codable {
        public enum How: String, Sendable, Codable {
            case exact
            /// Plate differs only by OCR-confusable characters.
            case confusable
            /// ID differs by one character or one swapped pair.
            case idNeighbour = "id-neighbour"
            case nameAndDateOfBirth = "name-and-date-of-birth"
        }

        public var how: How
        /// `reasonDetail.message`, for clients that read only the words.
        public var reason: String
        /// Why it matched, as a stable code and words in the asked language.
        public var reasonDetail: CodedMessage
        /// Plate near matches: the differing characters.
        public var differences: [PlateComparison.Difference]?
        /// Plate near matches: how strongly the differences point to a misread.
        public var strength: PlateComparison.Strength?
        public var record: ListedRecord

        public init(how: How, reason: CodedMessage, differences: [PlateComparison.Difference]? = nil,
                    strength: PlateComparison.Strength? = nil, record: ListedRecord) {
            (self.how, self.reason, self.reasonDetail) = (how, reason.message, reason)
            (self.differences, self.strength, self.record) = (differences, strength, record)
        }
    }

    /// The result against one list.
    public struct ListResult: Sendable, Equatable, Codable {
        public var list: ListKind
        public var outcome: Outcome
        public var version: ListVersion
        public var matches: [Match]

        public init(list: ListKind, outcome: Outcome, version: ListVersion, matches: [Match]) {
            (self.list, self.outcome, self.version, self.matches) = (list, outcome, version, matches)
        }
    }

    /// An urgent bulletin from the center that the query matched (an overlay on the lists,
    /// pushed within seconds of its creation: docs/checks.md, "Bulletins").
    public struct BulletinMatch: Sendable, Equatable, Codable {
        public var bulletinId: String
        /// `exact`, `confusable` (plates) or `name-and-date-of-birth`.
        public var how: Match.How
        /// The plate, ID, or name and date of birth the bulletin names.
        public var subject: String
        public var summary: String
        public var region: String?
        /// ISO 8601.
        public var issuedAt: String
        /// ISO 8601.
        public var expiresAt: String
        /// Why it matched, as a stable code and words.
        public var reasonDetail: CodedMessage

        public init(bulletinId: String, how: Match.How, subject: String, summary: String, region: String?, issuedAt: String,
                    expiresAt: String, reason: CodedMessage) {
            (self.bulletinId, self.how, self.subject, self.summary, self.region) = (bulletinId, how, subject, summary, region)
            (self.issuedAt, self.expiresAt, self.reasonDetail) = (issuedAt, expiresAt, reason)
        }

        /// An exact match (or name and date of birth) is a hit; a confusable plate a possible hit.
        public var outcome: Outcome { how == .confusable ? .possibleHit : .hit }
    }

    public var checkId: String
    /// ISO 8601 UTC.
    public var checkedAt: String
    public var kind: Kind
    public var query: Query
    /// The strongest outcome over all lists.
    public var outcome: Outcome
    /// True on every cached hit or possible hit: the officer confirms with the center
    /// before acting on it.
    public var confirmBeforeActing: Bool
    public var lists: [ListResult]
    /// The urgent bulletins matched (empty when none; absent from answers recorded before bulletins).
    public var bulletins: [BulletinMatch]?
    /// Plate checks: the plate's registration as the registrations list holds it.
    public var registration: DocumentResult?
    /// Licence checks: the driving licence as the licences list holds it.
    public var licence: DocumentResult?
    /// Stale or missing lists, unrecognised layouts, bad checksums — said every time: the
    /// words of `warningDetails`, for clients that read only the words.
    public var warnings: [String]
    /// The same warnings as stable codes and words in the asked language.
    public var warningDetails: [CodedMessage]
    public var officerId: String
    public var unitId: String
    /// How the officer was authenticated: `pin`, `pin+otp` or `technician`.
    public var authentication: Authentication
    /// Why the check was made (always present on person checks).
    public var purpose: CheckPurpose?
    /// Where the check was made: the last fix and its age, or why there is none.
    public var location: CheckLocation
    /// The officer's stop (traffic or person stop) open when the check was made.
    public var incidentId: String?

    public init(checkId: String, checkedAt: String, kind: Kind, query: Query, lists: [ListResult],
                warnings: [CodedMessage], officerId: String, unitId: String, authentication: Authentication = .technician,
                purpose: CheckPurpose? = nil, location: CheckLocation = .notAvailable, incidentId: String? = nil) {
        self.incidentId = incidentId
        self.checkId = checkId
        self.checkedAt = checkedAt
        self.kind = kind
        self.query = query
        self.lists = lists
        self.warnings = warnings.map(\.message)
        self.warningDetails = warnings
        self.officerId = officerId
        self.unitId = unitId
        self.authentication = authentication
        self.purpose = purpose
        self.location = location
        outcome = lists.map(\.outcome).max() ?? .noHit
        confirmBeforeActing = outcome >= .possibleHit
    }

    /// Adds what a document list says (a plate's registration, a licence); an invalid
    /// document makes the outcome at least `document-invalid`.
    public mutating func add(document: DocumentResult) {
        switch document.list {
        case .registrations: registration = document
        case .licences: licence = document
        default: preconditionFailure("\(document.list.rawValue) is not a document list")
        }
        if document.valid == false { outcome = max(outcome, .documentInvalid) }
    }

    /// Adds the bulletins matched; the outcome is the strongest of the lists' and theirs.
    public mutating func add(bulletins matched: [BulletinMatch]) {
        bulletins = (bulletins ?? []) + matched
        outcome = max(outcome, matched.map(\.outcome).max() ?? .noHit)
        confirmBeforeActing = outcome >= .possibleHit
    }
}

/// What a document list (registrations, licences) says about the plate or ID checked.
public struct DocumentResult: Sendable, Equatable, Codable {
    public var list: ListKind
    /// Whether the terminal holds every document or only the invalid ones: a document not
    /// listed means "none issued" in the first, "no invalidity known" in the second.
    public var mode: ListMode
    public var version: ListVersion
    /// The listed status (`valid`, `suspended`, `cancelled`, …), `not-listed`, or `unknown`
    /// (the list became unreadable between deciding to look and looking).
    public var status: String
    /// False when the document is invalid (or, in a full list, absent); true when valid or
    /// no invalidity is listed; nil when the terminal cannot tell.
    public var valid: Bool?
    /// The listed record's fields (camelCase names), nil when none is listed.
    public var record: [String: String]?
    /// What the officer reads, as a stable code and words in the asked language.
    public var statement: CodedMessage

    public init(list: ListKind, mode: ListMode, version: ListVersion, status: String, valid: Bool?, record: [String: String]?,
                statement: CodedMessage) {
        (self.list, self.mode, self.version, self.status, self.valid) = (list, mode, version, status, valid)
        (self.record, self.statement) = (record, statement)
    }
}

/// One list's version as the terminal holds it.
public struct ListVersion: Sendable, Equatable, Codable {
    /// Center-assigned, increasing; 0 when the terminal has never received the list.
    public var version: Int64
    /// When the center issued this version (ISO 8601), nil if never received.
    public var updatedAt: String?
    /// Seconds since `updatedAt`, at the time of the check.
    public var ageSeconds: Int64?
    /// True when past its expiry or never received: the answer cannot be relied on.
    public var stale: Bool
    public var recordCount: Int64

    public init(version: Int64, updatedAt: String?, ageSeconds: Int64?, stale: Bool, recordCount: Int64) {
        (self.version, self.updatedAt, self.ageSeconds, self.stale, self.recordCount) = (version, updatedAt, ageSeconds, stale, recordCount)
    }
}

/// A matched record, tagged by list.
public enum ListedRecord: Sendable, Equatable, Codable {
    case stolenVehicle(StolenVehicle)
    case wantedPerson(WantedPerson)
    case missingPerson(MissingPerson)

    public var recordId: String {
        switch self {
        case .stolenVehicle(let r): r.recordId
        case .wantedPerson(let r): r.recordId
        case .missingPerson(let r): r.recordId
        }
    }

    /// A listed person's photos (none for a vehicle).
    public var photos: [PhotoReference] {
        switch self {
        case .stolenVehicle: []
        case .wantedPerson(let r): r.photos
        case .missingPerson(let r): r.photos
        }
    }

    /// Says per photo whether it is on the device.
    /// - Returns: the photos that are not.
    public mutating func markPhotos(onDevice: (String) -> Bool) -> [PhotoReference] {
        func mark(_ photos: inout [PhotoReference]) -> [PhotoReference] {
            for i in photos.indices { photos[i].onDevice = onDevice(photos[i].sha256) }
            return photos.filter { $0.onDevice == false }
        }
        switch self {
        case .stolenVehicle: return []
        case .wantedPerson(var r):
            defer { self = .wantedPerson(r) }
            return mark(&r.photos)
        case .missingPerson(var r):
            defer { self = .missingPerson(r) }
            return mark(&r.photos)
        }
    }

    private enum CodingKeys: String, CodingKey { case stolenVehicle, wantedPerson, missingPerson }

    public init(from decoder: any Decoder) throws {
        let c = try decoder.container(keyedBy: CodingKeys.self)
        if let r = try c.decodeIfPresent(StolenVehicle.self, forKey: .stolenVehicle) {
            self = .stolenVehicle(r)
        } else if let r = try c.decodeIfPresent(WantedPerson.self, forKey: .wantedPerson) {
            self = .wantedPerson(r)
        } else {
            self = .missingPerson(try c.decode(MissingPerson.self, forKey: .missingPerson))
        }
    }

    public func encode(to encoder: any Encoder) throws {
        var c = encoder.container(keyedBy: CodingKeys.self)
        switch self {
        case .stolenVehicle(let r): try c.encode(r, forKey: .stolenVehicle)
        case .wantedPerson(let r): try c.encode(r, forKey: .wantedPerson)
        case .missingPerson(let r): try c.encode(r, forKey: .missingPerson)
        }
    }
}

/// What an officer asks the terminal to check: the entry as typed, before parsing. The CLI
/// and the local API build one; `Checker.check` answers it.
public enum CheckQuery: Sendable, Equatable {
    case plate(String)
    case vin(String)
    case engineNumber(String)
    case personID(String)
    case personName(name: String, dateOfBirth: String)
    /// A driving licence, by the holder's ID.
    case licence(String)

    public var kind: CheckAnswer.Kind {
        switch self {
        case .plate: .plate
        case .vin: .vin
        case .engineNumber: .engineNumber
        case .personID: .personID
        case .personName: .personName
        case .licence: .licence
        }
    }

}
