import FieldWire
import Watchlist

/// A request body the local API reads strictly: a JSON object with only `fields`, each of
/// its documented type. The server names the first unknown, missing or mistyped field.
public protocol StrictRequest: Codable, Sendable {
    static var fields: Set<String> { get }
}

// MARK: Checks

/// `POST /v1/checks/plate`.
public struct PlateCheckRequest: StrictRequest, Equatable, PurposeCarrying {
    public static let fields: Set<String> = ["plate", "purpose", "purposeReference"]
    public var plate: String
    public var purpose: String?
    public var purposeReference: String?
    public init(plate: String, purpose: String? = nil, purposeReference: String? = nil) {
        (self.plate, self.purpose, self.purposeReference) = (plate, purpose, purposeReference)
    }
}

/// `POST /v1/checks/vin`.
public struct VINCheckRequest: StrictRequest, Equatable, PurposeCarrying {
    public static let fields: Set<String> = ["vin", "purpose", "purposeReference"]
    public var vin: String
    public var purpose: String?
    public var purposeReference: String?
    public init(vin: String, purpose: String? = nil, purposeReference: String? = nil) {
        (self.vin, self.purpose, self.purposeReference) = (vin, purpose, purposeReference)
    }
}

/// `POST /v1/checks/engine`.
public struct EngineCheckRequest: StrictRequest, Equatable, PurposeCarrying {
    public static let fields: Set<String> = ["engineNumber", "purpose", "purposeReference"]
    public var engineNumber: String
    public var purpose: String?
    public var purposeReference: String?
    public init(engineNumber: String, purpose: String? = nil, purposeReference: String? = nil) {
        (self.engineNumber, self.purpose, self.purposeReference) = (engineNumber, purpose, purposeReference)
    }
}

/// `POST /v1/checks/person`: `id`, or `name` with `dateOfBirth`.
public struct PersonCheckRequest: StrictRequest, Equatable, PurposeCarrying {
    public static let fields: Set<String> = ["id", "name", "dateOfBirth", "purpose", "purposeReference"]
    public var id: String?
    public var name: String?
    public var dateOfBirth: String?
    /// Required: a code of `checks.purposes` (警察職權行使法 §6 grounds, dispatch, case, …).
    public var purpose: String?
    /// The dispatch id or case number, for the purposes that name one.
    public var purposeReference: String?

    public init(id: String? = nil, name: String? = nil, dateOfBirth: String? = nil, purpose: String? = nil, purposeReference: String? = nil) {
        (self.id, self.name, self.dateOfBirth, self.purpose, self.purposeReference) = (id, name, dateOfBirth, purpose, purposeReference)
    }

    /// The query, or nil for any other combination of fields.
    public var query: CheckQuery? {
        switch (id, name, dateOfBirth) {
        case let (id?, nil, nil): .personID(id)
        case let (nil, name?, dob?): .personName(name: name, dateOfBirth: dob)
        default: nil
        }
    }
}

/// `POST /v1/checks/licence`: the holder's ID.
public struct LicenceCheckRequest: StrictRequest, Equatable, PurposeCarrying {
    public static let fields: Set<String> = ["id", "purpose", "purposeReference"]
    public var id: String
    /// Required, as for a person check.
    public var purpose: String?
    public var purposeReference: String?
    public init(id: String, purpose: String? = nil, purposeReference: String? = nil) {
        (self.id, self.purpose, self.purposeReference) = (id, purpose, purposeReference)
    }
}

extension CheckQuery {
    /// Where the local API answers this query, and the body it takes.
    public func request(purpose: CheckPurpose? = nil) -> (path: String, body: any StrictRequest) {
        let (code, reference) = (purpose?.code, purpose?.reference)
        return switch self {
        case .plate(let plate): ("/v1/checks/plate", PlateCheckRequest(plate: plate, purpose: code, purposeReference: reference))
        case .vin(let vin): ("/v1/checks/vin", VINCheckRequest(vin: vin, purpose: code, purposeReference: reference))
        case .engineNumber(let number):
            ("/v1/checks/engine", EngineCheckRequest(engineNumber: number, purpose: code, purposeReference: reference))
        case .personID(let id): ("/v1/checks/person", PersonCheckRequest(id: id, purpose: code, purposeReference: reference))
        case .personName(let name, let dob):
            ("/v1/checks/person", PersonCheckRequest(name: name, dateOfBirth: dob, purpose: code, purposeReference: reference))
        case .licence(let id): ("/v1/checks/licence", LicenceCheckRequest(id: id, purpose: code, purposeReference: reference))
        }
    }
}

// MARK: Session and dispatch

/// `POST /v1/session`.
public struct SessionRequest: StrictRequest, Equatable {
    public static let fields: Set<String> = ["officerId", "pin", "otp", "currentPin"]
    public var officerId: String
    public var pin: String
    /// The one-time code, for officers the roster gives a second factor.
    public var otp: String?
    /// The signed-in officer's PIN, to replace them.
    public var currentPin: String?

    public init(officerId: String, pin: String, otp: String? = nil, currentPin: String? = nil) {
        (self.officerId, self.pin, self.otp, self.currentPin) = (officerId, pin, otp, currentPin)
    }
}

/// `POST /v1/session/unlock` and `POST /v1/session/sign-out` (a technician, as root, gives
/// no PIN: `{}`).
public struct SessionPINRequest: StrictRequest, Equatable {
    public static let fields: Set<String> = ["pin"]
    public var pin: String?
    public init(pin: String?) { self.pin = pin }
}

/// `POST /v1/dispatches/{id}/status`.
public struct DispatchStatusRequest: StrictRequest, Equatable {
    public static let fields: Set<String> = ["status", "disposition"]
    /// `en-route`, `on-scene` or `cleared` (`DispatchStatus`).
    public var status: String
    public var disposition: String?

    public init(status: String, disposition: String? = nil) {
        self.status = status
        self.disposition = disposition
    }
}

/// A check request's purpose fields.
public protocol PurposeCarrying {
    var purpose: String? { get }
    var purposeReference: String? { get }
}

extension PurposeCarrying {
    /// The purpose, validated against the terminal's codes; nil when none was given.
    /// - Throws: `InputError` (`purpose.unknown`, `purpose.reference`).
    public func checkPurpose(_ codes: CheckPurpose.Codes) throws -> CheckPurpose? {
        guard let purpose else {
            if purposeReference != nil { throw InputError(.purposeRequired, field: "purpose", "purposeReference without purpose") }
            return nil
        }
        return try CheckPurpose(code: purpose, reference: purposeReference, codes: codes)
    }
}

// MARK: Orders

/// `POST /v1/orders`: a signed order from the center, as `mpolice-central order` signed it
/// (one envelope of `orders/<unit>.json`).
extension SignedEnvelope: StrictRequest {
    public static let fields: Set<String> = ["payloadType", "payload", "signatures"]
}

// MARK: Field operations

/// `POST /v1/emergency/cancel`: the signed-in officer's PIN (a technician, as root, gives `{}`).
public typealias EmergencyCancelRequest = SessionPINRequest

/// `POST /v1/unit-status`.
public struct UnitStatusRequest: StrictRequest, Equatable {
    public static let fields: Set<String> = ["status"]
    /// `UnitStatus`: available, busy, en-route, on-scene, out-of-service, meal-break.
    public var status: String
    public init(status: String) { self.status = status }
}

/// `POST /v1/incidents`: a stop the officer starts at the current position.
public struct IncidentRequest: StrictRequest, Equatable {
    public static let fields: Set<String> = ["kind", "note"]
    /// `traffic-stop` or `person-stop`.
    public var kind: String
    /// At most 500 characters (e.g. the plate stopped).
    public var note: String?
    public init(kind: String, note: String? = nil) { (self.kind, self.note) = (kind, note) }
}

/// `POST /v1/incidents/{id}/close`.
public struct IncidentCloseRequest: StrictRequest, Equatable {
    public static let fields: Set<String> = ["note"]
    public var note: String?
    public init(note: String? = nil) { self.note = note }
}

/// `POST /v1/checks/{checkId}/outcome`.
public struct HitOutcomeRequest: StrictRequest, Equatable {
    public static let fields: Set<String> = ["outcome", "note"]
    /// `HitOutcome`: confirmed-acted, no-longer-wanted, not-the-person, released.
    public var outcome: String
    public var note: String?
    public init(outcome: String, note: String? = nil) { (self.outcome, self.note) = (outcome, note) }
}

/// `POST /v1/checks/{checkId}/confirm`.
public struct ConfirmationRequest: StrictRequest, Equatable {
    public static let fields: Set<String> = ["urgent"]
    /// 10 minutes for the center to answer when true (the default: a stop is under way), an hour otherwise.
    public var urgent: Bool?
    public init(urgent: Bool? = nil) { self.urgent = urgent }
}
