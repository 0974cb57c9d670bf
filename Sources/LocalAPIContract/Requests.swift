import Watchlist

/// A request body the local API reads strictly: a JSON object with only `fields`, each of
/// its documented type. The server names the first unknown, missing or mistyped field.
public protocol StrictRequest: Codable, Sendable {
    static var fields: Set<String> { get }
}

// MARK: Checks

/// `POST /v1/checks/plate`.
public struct PlateCheckRequest: StrictRequest, Equatable {
    public static let fields: Set<String> = ["plate"]
    public var plate: String
    public init(plate: String) { self.plate = plate }
}

/// `POST /v1/checks/vin`.
public struct VINCheckRequest: StrictRequest, Equatable {
    public static let fields: Set<String> = ["vin"]
    public var vin: String
    public init(vin: String) { self.vin = vin }
}

/// `POST /v1/checks/engine`.
public struct EngineCheckRequest: StrictRequest, Equatable {
    public static let fields: Set<String> = ["engineNumber"]
    public var engineNumber: String
    public init(engineNumber: String) { self.engineNumber = engineNumber }
}

/// `POST /v1/checks/person`: `id`, or `name` with `dateOfBirth`.
public struct PersonCheckRequest: StrictRequest, Equatable {
    public static let fields: Set<String> = ["id", "name", "dateOfBirth"]
    public var id: String?
    public var name: String?
    public var dateOfBirth: String?

    public init(id: String? = nil, name: String? = nil, dateOfBirth: String? = nil) {
        (self.id, self.name, self.dateOfBirth) = (id, name, dateOfBirth)
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

extension CheckQuery {
    /// Where the local API answers this query, and the body it takes.
    public var request: (path: String, body: any StrictRequest) {
        switch self {
        case .plate(let plate): ("/v1/checks/plate", PlateCheckRequest(plate: plate))
        case .vin(let vin): ("/v1/checks/vin", VINCheckRequest(vin: vin))
        case .engineNumber(let number): ("/v1/checks/engine", EngineCheckRequest(engineNumber: number))
        case .personID(let id): ("/v1/checks/person", PersonCheckRequest(id: id))
        case .personName(let name, let dob): ("/v1/checks/person", PersonCheckRequest(name: name, dateOfBirth: dob))
        }
    }
}

// MARK: Session and dispatch

/// `POST /v1/session`.
public struct SessionRequest: StrictRequest, Equatable {
    public static let fields: Set<String> = ["officerId"]
    public var officerId: String
    public init(officerId: String) { self.officerId = officerId }
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
