/// The lists the terminal carries: three watch lists, the officer roster and two document
/// lists. What each holds and how it is matched is declared once (`ListSchema`, FieldWire).
public enum ListKind: String, Sendable, Codable, CaseIterable, Comparable {
    case stolenVehicles = "stolen-vehicles"
    case wantedPersons = "wanted-persons"
    case missingPersons = "missing-persons"
    /// Who may sign in on which units: not a watch list, but published, synced and verified
    /// exactly as the three are.
    case officers = "officers"
    /// Vehicle registrations (車籍): plate → status, registered vehicle.
    case registrations = "registrations"
    /// Driving licences (駕籍): ID → classes, status.
    case licences = "licences"

    public static func < (a: ListKind, b: ListKind) -> Bool {
        allCases.firstIndex(of: a)! < allCases.firstIndex(of: b)!
    }

    public var title: String {
        switch self {
        case .stolenVehicles: "stolen vehicles"
        case .wantedPersons: "wanted persons"
        case .missingPersons: "missing persons"
        case .officers: "officer roster"
        case .registrations: "vehicle registrations"
        case .licences: "driving licences"
        }
    }
}

/// What a list holds: every record (`full`), or only the invalid ones (`exceptions`, for
/// small devices). The center chooses per fleet; the answer's wording says which
/// (docs/checks.md, "Documents").
public enum ListMode: String, Sendable, Codable, CaseIterable {
    case full
    case exceptions = "exceptions-only"
}

/// A vehicle reported stolen (失竊車輛).
public struct StolenVehicle: Sendable, Equatable, Codable {
    /// Stable id assigned by the center; deltas upsert and delete by it.
    public var recordId: String
    /// As printed, e.g. "ABC-1234".
    public var plate: String
    /// "car", "motorcycle", "truck", …
    public var vehicleKind: String
    public var make: String
    public var model: String
    public var colour: String
    public var vin: String?
    public var engineNumber: String?
    /// ISO 8601 timestamp of the theft report.
    public var reportedAt: String
    public var caseNumber: String
    public var reportingUnit: String

    public init(recordId: String, plate: String, vehicleKind: String, make: String, model: String, colour: String,
                vin: String?, engineNumber: String?, reportedAt: String, caseNumber: String, reportingUnit: String) {
        (self.recordId, self.plate, self.vehicleKind, self.make, self.model) = (recordId, plate, vehicleKind, make, model)
        (self.colour, self.vin, self.engineNumber, self.reportedAt) = (colour, vin, engineNumber, reportedAt)
        (self.caseNumber, self.reportingUnit) = (caseNumber, reportingUnit)
    }
}

/// A person with an outstanding warrant (通緝犯).
public struct WantedPerson: Sendable, Equatable, Codable {
    public var recordId: String
    /// National ID or resident certificate number.
    public var idNumber: String?
    public var name: String
    public var dateOfBirth: CalendarDate
    /// "M", "F" or "X".
    public var sex: String
    public var warrantNumber: String
    public var offence: String
    public var issuingAuthority: String
    /// Officer-safety flags: "armed", "violent", "escape-risk", "drugs", "self-harm".
    public var cautionFlags: [String]
    /// The person's photos, by content (the files travel apart: `photos/<sha256>.jpg`).
    public var photos: [PhotoReference]

    public init(recordId: String, idNumber: String?, name: String, dateOfBirth: CalendarDate, sex: String,
                warrantNumber: String, offence: String, issuingAuthority: String, cautionFlags: [String],
                photos: [PhotoReference] = []) {
        (self.recordId, self.idNumber, self.name, self.dateOfBirth, self.sex) = (recordId, idNumber, name, dateOfBirth, sex)
        (self.warrantNumber, self.offence, self.issuingAuthority) = (warrantNumber, offence, issuingAuthority)
        (self.cautionFlags, self.photos) = (cautionFlags, photos)
    }
}

/// A person reported missing (失蹤人口).
public struct MissingPerson: Sendable, Equatable, Codable {
    public var recordId: String
    public var idNumber: String?
    public var name: String
    public var dateOfBirth: CalendarDate
    public var sex: String
    /// ISO 8601 date the person was last seen.
    public var missingSince: String
    public var description: String
    /// Child, elderly with dementia, or at risk: handle with priority.
    public var vulnerable: Bool
    public var contactUnit: String
    /// The person's photos, by content (the files travel apart: `photos/<sha256>.jpg`).
    public var photos: [PhotoReference]

    public init(recordId: String, idNumber: String?, name: String, dateOfBirth: CalendarDate, sex: String,
                missingSince: String, description: String, vulnerable: Bool, contactUnit: String,
                photos: [PhotoReference] = []) {
        (self.recordId, self.idNumber, self.name, self.dateOfBirth, self.sex) = (recordId, idNumber, name, dateOfBirth, sex)
        (self.missingSince, self.description, self.vulnerable) = (missingSince, description, vulnerable)
        (self.contactUnit, self.photos) = (contactUnit, photos)
    }
}

/// A photo of a listed person, named by its content: the signed record carries its SHA-256
/// and size, so the photo file itself (`photos/<sha256>.jpg`, served by any static server)
/// needs no signature of its own.
public struct PhotoReference: Sendable, Equatable, Hashable, Codable {
    public enum Kind: String, Sendable, Codable, CaseIterable {
        case face
        case fullBody = "full-body"
        case tattoo
        case scar
        case other
    }

    /// Lower-case hex SHA-256 of the JPEG file.
    public var sha256: String
    public var bytes: Int
    public var kind: Kind
    /// In a check's answer: whether the photo is on the device now (`GET /v1/photos/{sha256}`
    /// serves it); absent in list rows.
    public var onDevice: Bool?

    /// The largest photo a record may name.
    public static let maxBytes = 2_000_000

    public init(sha256: String, bytes: Int, kind: Kind) {
        (self.sha256, self.bytes, self.kind) = (sha256, bytes, kind)
    }

    /// A content name: 64 lower-case hex digits.
    public static func isSHA256(_ text: some StringProtocol) -> Bool {
        text.utf8.count == 64 && text.utf8.allSatisfy { $0.isASCIIDigit || (0x61...0x66).contains($0) }
    }

    /// The list field: `kind:sha256:bytes` per photo, `;` between photos ("" for none).
    public static func field(_ photos: [PhotoReference]) -> String {
        photos.map { "\($0.kind.rawValue):\($0.sha256):\($0.bytes)" }.joined(separator: ";")
    }

    /// Reads the list field; nil when any photo in it is malformed (a kind not listed above,
    /// a SHA-256 that is not 64 lower-case hex digits, a size outside 1…`maxBytes`), or
    /// one photo is named twice.
    public static func parse(field: String) -> [PhotoReference]? {
        guard !field.isEmpty else { return [] }
        var photos: [PhotoReference] = []
        for entry in field.split(separator: ";", omittingEmptySubsequences: false) {
            let parts = entry.split(separator: ":", omittingEmptySubsequences: false)
            guard parts.count == 3, let kind = Kind(rawValue: String(parts[0])),
                  isSHA256(parts[1]),
                  let bytes = Int(parts[2]), (1...maxBytes).contains(bytes) else { return nil }
            let photo = PhotoReference(sha256: String(parts[1]), bytes: bytes, kind: kind)
            guard !photos.contains(where: { $0.sha256 == photo.sha256 }) else { return nil }
            photos.append(photo)
        }
        return photos
    }
}

/// An officer in the roster (員警名冊): the units they may sign in on, whether they may at
/// all, and their credentials' verifiers (never the credentials).
public struct RosterOfficer: Sendable, Equatable, Codable {
    public enum Status: String, Sendable, Codable {
        case active
        /// Refused at sign-in and at the next check from the sync that brings it.
        case suspended
    }

    public var recordId: String
    public var officerId: String
    public var name: String
    /// Unit ids this officer may sign in on.
    public var units: [String]
    public var status: Status
    /// Why suspended (empty when active).
    public var statusReason: String
    /// `PINVerifier`'s text form.
    public var pinVerifier: String
    /// A TOTP secret sealed under the PIN-derived key (`SealedTOTPSecret`), or nil when the
    /// officer signs in with the PIN alone.
    public var secondFactor: String?

    public init(recordId: String, officerId: String, name: String, units: [String], status: Status, statusReason: String,
                pinVerifier: String, secondFactor: String?) {
        (self.recordId, self.officerId, self.name, self.units, self.status) = (recordId, officerId, name, units, status)
        (self.statusReason, self.pinVerifier, self.secondFactor) = (statusReason, pinVerifier, secondFactor)
    }
}
