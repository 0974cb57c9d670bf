/// The three watch lists the terminal carries.
public enum ListKind: String, Sendable, Codable, CaseIterable, Comparable {
    case stolenVehicles = "stolen-vehicles"
    case wantedPersons = "wanted-persons"
    case missingPersons = "missing-persons"
    /// Who may sign in on which units: not a watch list, but published, synced and verified
    /// exactly as the three are.
    case officers = "officers"

    public static func < (a: ListKind, b: ListKind) -> Bool {
        allCases.firstIndex(of: a)! < allCases.firstIndex(of: b)!
    }

    public var title: String {
        switch self {
        case .stolenVehicles: "stolen vehicles"
        case .wantedPersons: "wanted persons"
        case .missingPersons: "missing persons"
        case .officers: "officer roster"
        }
    }
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

    public init(recordId: String, idNumber: String?, name: String, dateOfBirth: CalendarDate, sex: String,
                warrantNumber: String, offence: String, issuingAuthority: String, cautionFlags: [String]) {
        (self.recordId, self.idNumber, self.name, self.dateOfBirth, self.sex) = (recordId, idNumber, name, dateOfBirth, sex)
        (self.warrantNumber, self.offence, self.issuingAuthority) = (warrantNumber, offence, issuingAuthority)
        self.cautionFlags = cautionFlags
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

    public init(recordId: String, idNumber: String?, name: String, dateOfBirth: CalendarDate, sex: String,
                missingSince: String, description: String, vulnerable: Bool, contactUnit: String) {
        (self.recordId, self.idNumber, self.name, self.dateOfBirth, self.sex) = (recordId, idNumber, name, dateOfBirth, sex)
        (self.missingSince, self.description, self.vulnerable) = (missingSince, description, vulnerable)
        self.contactUnit = contactUnit
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
