import FieldWire
import Store
import Watchlist

/// `GET /v1/health`: `ok`, or `degraded` with what is wrong — the daemon serves, but not
/// everything works (the front-end shows it; checks say why when they are refused).
public struct HealthResponse: Codable, Sendable, Equatable {
    public struct Problem: Codable, Sendable, Equatable {
        /// `storage.full`, `lists.unavailable`.
        public var code: String
        public var message: String

        public init(code: String, message: String) {
            self.code = code
            self.message = message
        }
    }

    public var status: String
    public var problems: [Problem]

    public init(problems: [Problem] = []) {
        status = problems.isEmpty ? "ok" : "degraded"
        self.problems = problems
    }

    /// The problems the daemon knows of.
    public init(storageFull: Bool, listsUnavailable: String?) {
        var problems: [Problem] = []
        if storageFull { problems.append(Problem(code: "storage.full", message: "the disk is full: checks cannot be recorded")) }
        if let listsUnavailable { problems.append(Problem(code: "lists.unavailable", message: listsUnavailable)) }
        self.init(problems: problems)
    }
}

/// The signed-in officer (`GET /v1/session`, and in the status).
public struct SessionInfo: Codable, Sendable, Equatable {
    public var officerId: String
    /// As the roster gives it.
    public var name: String
    public var unitId: String
    /// ISO 8601.
    public var since: String
    /// `pin` or `pin+otp`.
    public var authentication: String
    /// Idle past `idleLockSeconds`, or locked: checks answer `session.locked` until unlocked.
    public var locked: Bool
    public var idleLockSeconds: Int

    public init(officerId: String, name: String, unitId: String, since: String, authentication: String, locked: Bool, idleLockSeconds: Int) {
        (self.officerId, self.name, self.unitId, self.since) = (officerId, name, unitId, since)
        (self.authentication, self.locked, self.idleLockSeconds) = (authentication, locked, idleLockSeconds)
    }
}

/// `POST /v1/sync`.
public struct SyncRequested: Codable, Sendable, Equatable {
    public var requested: Bool
    public init(requested: Bool = true) { self.requested = requested }
}

/// `GET /v1/dispatches`.
public struct DispatchList: Codable, Sendable, Equatable {
    public var dispatches: [Dispatch]
    public init(dispatches: [Dispatch]) { self.dispatches = dispatches }
}

/// Every error the local API answers: `{"error": {"code", "message", "field"?}}`, the code
/// stable (docs/api/openapi.yaml lists them).
public struct APIErrorBody: Codable, Sendable, Equatable {
    public struct Detail: Codable, Sendable, Equatable {
        public var code: String
        public var message: String
        /// The request field at fault, when one is.
        public var field: String?
    }

    public var error: Detail

    public init(code: String, message: String, field: String? = nil) {
        error = Detail(code: code, message: message, field: field)
    }
}

/// `POST /v1/orders` when the order was executed (a refusal is an error with the order's
/// code), and the `order-refused` event.
public struct OrderResult: Codable, Sendable, Equatable {
    public var sequence: Int64?
    /// `lock`, `unlock`, `wipe-lists`, `wipe-all`.
    public var kind: String?
    /// `executed` or `refused`.
    public var outcome: String
    /// The refusal's code (`order.replayed`, …).
    public var reason: String?
    public var message: String?

    public init(sequence: Int64?, kind: String?, outcome: String, reason: String?, message: String?) {
        (self.sequence, self.kind, self.outcome, self.reason, self.message) = (sequence, kind, outcome, reason, message)
    }
}

/// `GET /v1/checks`: the signed-in officer's checks, newest first.
public struct CheckHistory: Codable, Sendable, Equatable {
    public var checks: [CheckRecordPayload]
    /// Give as `before` for the next page; absent on the last.
    public var next: String?

    public init(checks: [CheckRecordPayload], next: String?) { (self.checks, self.next) = (checks, next) }
}

/// `GET /v1/emergency`: the active emergency, if any, and the last ones.
public struct EmergencyState: Codable, Sendable, Equatable {
    public var active: Emergency?
    /// Newest first, at most 20.
    public var recent: [Emergency]

    public init(active: Emergency?, recent: [Emergency]) { (self.active, self.recent) = (active, recent) }
}

/// `GET /v1/incidents`: the officer's stops, newest first.
public struct IncidentList: Codable, Sendable, Equatable {
    public var incidents: [Incident]
    public init(incidents: [Incident]) { self.incidents = incidents }
}

/// `GET /v1/bulletins`: the unexpired bulletins every check matches, by serial.
public struct BulletinList: Codable, Sendable, Equatable {
    public var bulletins: [BulletinView]
    public init(bulletins: [BulletinView]) { self.bulletins = bulletins }
}

/// `GET /v1/checks/{checkId}`: a check as recorded, with the center's confirmation and the
/// outcome the officer recorded, when there are.
public struct CheckDetail: Codable, Sendable, Equatable {
    public var check: CheckRecordPayload
    public var confirmation: HitConfirmation?
    public var outcome: RecordedHitOutcome?

    public init(check: CheckRecordPayload, confirmation: HitConfirmation?, outcome: RecordedHitOutcome?) {
        (self.check, self.confirmation, self.outcome) = (check, confirmation, outcome)
    }
}
