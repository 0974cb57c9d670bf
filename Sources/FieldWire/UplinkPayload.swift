import Foundation
import Watchlist

/// A check as the center receives it: the terminal journal's record of it (who, when,
/// where, what was asked, the outcome and which records matched in which list versions —
/// not the records themselves: the center has those).
public struct CheckRecordPayload: Sendable, Equatable, Codable {
    public struct Match: Sendable, Equatable, Codable {
        public var list: String
        public var recordId: String
        public var how: String

        public init(list: String, recordId: String, how: String) {
            (self.list, self.recordId, self.how) = (list, recordId, how)
        }
    }

    /// Also the outbox item's id.
    public var checkId: String
    public var checkedAt: String
    public var officerId: String
    public var unitId: String
    public var kind: String
    /// The normalised entry (and, for a name search, the date of birth).
    public var query: String
    public var outcome: String
    public var matches: [Match]
    /// List name → version.
    public var listVersions: [String: Int64]
    public var location: CheckLocation
    /// `pin`, `pin+otp` or `technician`; absent in records made before terminals said.
    public var authentication: String?
    public var purpose: CheckPurpose?
    /// The officer's stop (`POST /v1/incidents`) open when the check was made.
    public var incidentId: String?
    /// Its place in the terminal's audit chain (set when the journal records it).
    public var chain: ChainLink?

    /// The `list` of a match against an urgent bulletin (its `recordId` is the bulletin's id).
    public static let bulletinsList = "bulletins"

    /// The record of an answer.
    public init(_ a: CheckAnswer) {
        checkId = a.checkId
        checkedAt = a.checkedAt
        officerId = a.officerId
        unitId = a.unitId
        kind = a.kind.rawValue
        query = a.query.normalized + (a.query.dateOfBirth.map { " \($0)" } ?? "")
        outcome = a.outcome.rawValue
        matches = a.lists.flatMap { list in
            list.matches.map { Match(list: list.list.rawValue, recordId: $0.record.recordId, how: $0.how.rawValue) }
        } + (a.bulletins ?? []).map { Match(list: Self.bulletinsList, recordId: $0.bulletinId, how: $0.how.rawValue) }
        listVersions = Dictionary(uniqueKeysWithValues: a.lists.map { ($0.list.rawValue, $0.version.version) })
        var location = a.location
        location.ageSeconds = location.ageSeconds.map { ($0 * 10).rounded() / 10 }
        self.location = location
        authentication = a.authentication.rawValue
        purpose = a.purpose
        incidentId = a.incidentId
    }
}

/// A record's place in its terminal's audit chain (docs/sync-protocol.md, "Audit chain"):
/// check records and session events are numbered from 1, and each carries the SHA-256 of the
/// previous one's payload as sent, so the center sees a record edited, removed or moved.
public struct ChainLink: Sendable, Equatable, Codable {
    public var seq: Int64
    /// Lower-case hex SHA-256 of the previous chained payload; `genesis` before the first.
    public var prev: String

    public static let genesis = String(repeating: "0", count: 64)

    public init(seq: Int64, prev: String) { (self.seq, self.prev) = (seq, prev) }

    /// The hash a chained payload is known by: SHA-256 of its wire JSON.
    public static func hash(_ payloadJSON: String) -> String { SHA256Hex.of(Data(payloadJSON.utf8)) }
}

/// The newest chained record a terminal has made, sent with every batch: records after the
/// last received one that never arrive show as a gap, not as nothing.
public struct ChainHead: Sendable, Equatable, Codable {
    public var seq: Int64
    public var hash: String

    public init(seq: Int64, hash: String) { (self.seq, self.hash) = (seq, hash) }
}

/// A session event: sign-in, a failed attempt, a lockout, the idle lock, unlock, sign-out.
public struct AuditEventPayload: Sendable, Equatable, Codable {
    public enum Event: String, Sendable, Codable, CaseIterable {
        case signIn = "sign-in"
        case signInFailed = "sign-in-failed"
        case lockedOut = "locked-out"
        case locked
        case unlocked
        case signOut = "sign-out"
        /// A technician lifted the officer's lockout (`mpolicectl lift-lockout`).
        case lockoutLifted = "lockout-lifted"
    }

    public var eventId: String
    /// ISO 8601.
    public var at: String
    public var officerId: String
    public var unitId: String
    public var event: Event
    /// `pin`, `pin+otp` or `technician` (who acted, for sign-out and unlock).
    public var authentication: String?
    /// The refusal's code for a failure (`session.bad-credentials`, …).
    public var reason: String?
    public var chain: ChainLink?

    public init(eventId: String, at: String, officerId: String, unitId: String, event: Event, authentication: String?, reason: String?) {
        (self.eventId, self.at, self.officerId, self.unitId, self.event) = (eventId, at, officerId, unitId, event)
        (self.authentication, self.reason) = (authentication, reason)
    }
}

/// A position report kept for the center.
public struct BreadcrumbPayload: Sendable, Equatable, Codable {
    /// The fix's own time, ISO 8601.
    public var fixTime: String
    public var latitude: Double
    public var longitude: Double
    public var speed: Double?
    public var track: Double?
    public var horizontalError: Double?
    public var mode: String
    /// Set on the breadcrumbs recorded (every 2 s) while an emergency is active.
    public var emergencyId: String?

    public init(fixTime: String, latitude: Double, longitude: Double, speed: Double?, track: Double?, horizontalError: Double?,
                mode: String, emergencyId: String? = nil) {
        (self.fixTime, self.latitude, self.longitude, self.speed, self.track) = (fixTime, latitude, longitude, speed, track)
        (self.horizontalError, self.mode, self.emergencyId) = (horizontalError, mode, emergencyId)
    }
}

/// One change of a dispatch's status, with when, who and where.
public struct DispatchStatusPayload: Sendable, Equatable, Codable {
    public var dispatchId: String
    /// Numbers a dispatch's changes from 1 (`received`, sent by the terminal on its own).
    public var sequence: Int
    public var status: DispatchStatus
    public var disposition: String?
    /// ISO 8601.
    public var at: String
    /// Empty for `received`.
    public var officerId: String
    public var location: CheckLocation

    public init(dispatchId: String, sequence: Int, status: DispatchStatus, disposition: String?, at: String, officerId: String,
                location: CheckLocation) {
        (self.dispatchId, self.sequence, self.status, self.disposition, self.at) = (dispatchId, sequence, status, disposition, at)
        (self.officerId, self.location) = (officerId, location)
    }
}

/// An item's content, by kind.
public enum UplinkPayload: Sendable, Equatable {
    case check(CheckRecordPayload)
    case dispatchStatus(DispatchStatusPayload)
    case breadcrumb(BreadcrumbPayload)
    case audit(AuditEventPayload)
    case orderAck(OrderAckPayload)
    case emergency(EmergencyPayload)
    case unitStatus(UnitStatusPayload)
    case incident(IncidentPayload)
    case hitOutcome(HitOutcomePayload)
    case hitConfirmation(HitConfirmationRequest)
    case health(HealthReport)

    public var kind: OutboxKind {
        switch self {
        case .check: .check
        case .dispatchStatus: .dispatchStatus
        case .breadcrumb: .breadcrumb
        case .audit: .audit
        case .orderAck: .orderAck
        case .emergency: .emergency
        case .unitStatus: .unitStatus
        case .incident: .incident
        case .hitOutcome: .hitOutcome
        case .hitConfirmation: .hitConfirmation
        case .health: .health
        }
    }

    /// The audit chain link of a chained record.
    public var chain: ChainLink? {
        switch self {
        case .check(let p): p.chain
        case .audit(let p): p.chain
        case .dispatchStatus, .breadcrumb, .orderAck, .emergency, .unitStatus, .incident, .hitOutcome, .hitConfirmation, .health: nil
        }
    }

    /// The unit the item says it is from (the center holds it to the certificate's); nil for
    /// kinds that do not say.
    public var unitId: String? {
        switch self {
        case .check(let p): p.unitId
        case .audit(let p): p.unitId
        case .orderAck(let p): p.unitId
        case .emergency(let p): p.unitId
        case .unitStatus(let p): p.unitId
        case .incident(let p): p.unitId
        case .hitOutcome(let p): p.unitId
        case .hitConfirmation(let p): p.unitId
        case .health(let p): p.unitId
        case .dispatchStatus, .breadcrumb: nil
        }
    }

    /// The emergency an item belongs to: the emergency itself, or a breadcrumb sent while it was active.
    public var emergencyId: String? {
        switch self {
        case .emergency(let p): p.emergencyId
        case .breadcrumb(let p): p.emergencyId
        default: nil
        }
    }

    /// The payload object's JSON, as the outbox stores it and the batch carries it.
    public var json: String { WireJSON.text(self) }

    func encode(to container: inout KeyedEncodingContainer<UplinkItem.CodingKeys>) throws {
        switch self {
        case .check(let p): try container.encode(p, forKey: .payload)
        case .dispatchStatus(let p): try container.encode(p, forKey: .payload)
        case .breadcrumb(let p): try container.encode(p, forKey: .payload)
        case .audit(let p): try container.encode(p, forKey: .payload)
        case .orderAck(let p): try container.encode(p, forKey: .payload)
        case .emergency(let p): try container.encode(p, forKey: .payload)
        case .unitStatus(let p): try container.encode(p, forKey: .payload)
        case .incident(let p): try container.encode(p, forKey: .payload)
        case .hitOutcome(let p): try container.encode(p, forKey: .payload)
        case .hitConfirmation(let p): try container.encode(p, forKey: .payload)
        case .health(let p): try container.encode(p, forKey: .payload)
        }
    }

    init(kind: OutboxKind, from container: KeyedDecodingContainer<UplinkItem.CodingKeys>) throws {
        switch kind {
        case .check: self = .check(try container.decode(CheckRecordPayload.self, forKey: .payload))
        case .dispatchStatus: self = .dispatchStatus(try container.decode(DispatchStatusPayload.self, forKey: .payload))
        case .breadcrumb: self = .breadcrumb(try container.decode(BreadcrumbPayload.self, forKey: .payload))
        case .audit: self = .audit(try container.decode(AuditEventPayload.self, forKey: .payload))
        case .orderAck: self = .orderAck(try container.decode(OrderAckPayload.self, forKey: .payload))
        case .emergency: self = .emergency(try container.decode(EmergencyPayload.self, forKey: .payload))
        case .unitStatus: self = .unitStatus(try container.decode(UnitStatusPayload.self, forKey: .payload))
        case .incident: self = .incident(try container.decode(IncidentPayload.self, forKey: .payload))
        case .hitOutcome: self = .hitOutcome(try container.decode(HitOutcomePayload.self, forKey: .payload))
        case .hitConfirmation: self = .hitConfirmation(try container.decode(HitConfirmationRequest.self, forKey: .payload))
        case .health: self = .health(try container.decode(HealthReport.self, forKey: .payload))
        }
    }
}

extension UplinkPayload: Encodable {
    /// The payload object alone (`json` is this encoding).
    public func encode(to encoder: any Encoder) throws {
        switch self {
        case .check(let p): try p.encode(to: encoder)
        case .dispatchStatus(let p): try p.encode(to: encoder)
        case .breadcrumb(let p): try p.encode(to: encoder)
        case .audit(let p): try p.encode(to: encoder)
        case .orderAck(let p): try p.encode(to: encoder)
        case .emergency(let p): try p.encode(to: encoder)
        case .unitStatus(let p): try p.encode(to: encoder)
        case .incident(let p): try p.encode(to: encoder)
        case .hitOutcome(let p): try p.encode(to: encoder)
        case .hitConfirmation(let p): try p.encode(to: encoder)
        case .health(let p): try p.encode(to: encoder)
        }
    }

    /// A stored payload read back by its kind.
    public static func decode(kind: OutboxKind, json: String) throws -> UplinkPayload {
        let data = Data(json.utf8)
        switch kind {
        case .check: return .check(try WireJSON.decode(CheckRecordPayload.self, from: data))
        case .dispatchStatus: return .dispatchStatus(try WireJSON.decode(DispatchStatusPayload.self, from: data))
        case .breadcrumb: return .breadcrumb(try WireJSON.decode(BreadcrumbPayload.self, from: data))
        case .audit: return .audit(try WireJSON.decode(AuditEventPayload.self, from: data))
        case .orderAck: return .orderAck(try WireJSON.decode(OrderAckPayload.self, from: data))
        case .emergency: return .emergency(try WireJSON.decode(EmergencyPayload.self, from: data))
        case .unitStatus: return .unitStatus(try WireJSON.decode(UnitStatusPayload.self, from: data))
        case .incident: return .incident(try WireJSON.decode(IncidentPayload.self, from: data))
        case .hitOutcome: return .hitOutcome(try WireJSON.decode(HitOutcomePayload.self, from: data))
        case .hitConfirmation: return .hitConfirmation(try WireJSON.decode(HitConfirmationRequest.self, from: data))
        case .health: return .health(try WireJSON.decode(HealthReport.self, from: data))
        }
    }
}
