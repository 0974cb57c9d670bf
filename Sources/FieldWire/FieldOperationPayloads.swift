import Watchlist

/// "Officer needs help": raised, then cleared with the officer's PIN. Both go first in the
/// outbox (`OutboxKind.emergencyPriority`); breadcrumbs sent while it is active name it.
public struct EmergencyPayload: Sendable, Equatable, Codable {
    public enum Event: String, Sendable, Codable, CaseIterable {
        case raised
        case cleared
    }

    public var emergencyId: String
    public var event: Event
    /// ISO 8601.
    public var at: String
    /// The signed-in officer; empty when the button was pressed with nobody signed in.
    public var officerId: String
    public var unitId: String
    public var location: CheckLocation

    public init(emergencyId: String, event: Event, at: String, officerId: String, unitId: String, location: CheckLocation) {
        (self.emergencyId, self.event, self.at, self.officerId, self.unitId, self.location) = (emergencyId, event, at, officerId, unitId, location)
    }
}

/// The unit's status changed.
public struct UnitStatusPayload: Sendable, Equatable, Codable {
    public enum Source: String, Sendable, Codable {
        /// Set by the officer.
        case officer
        /// Implied by a dispatch's status (`dispatchId` says which).
        case dispatch
    }

    public var status: UnitStatus
    public var source: Source
    public var dispatchId: String?
    /// ISO 8601.
    public var at: String
    public var officerId: String
    public var unitId: String
    public var location: CheckLocation

    public init(status: UnitStatus, source: Source, dispatchId: String?, at: String, officerId: String, unitId: String,
                location: CheckLocation) {
        (self.status, self.source, self.dispatchId, self.at, self.officerId, self.unitId) = (status, source, dispatchId, at, officerId, unitId)
        self.location = location
    }
}

/// A stop the officer started, opened or closed; the checks made during it name it.
public struct IncidentPayload: Sendable, Equatable, Codable {
    public enum Event: String, Sendable, Codable, CaseIterable {
        case opened
        case closed
    }

    public var incidentId: String
    public var kind: IncidentKind
    public var event: Event
    /// ISO 8601.
    public var at: String
    public var officerId: String
    public var unitId: String
    /// Where the stop was opened (or closed).
    public var location: CheckLocation
    /// A short note: the plate stopped, what was done.
    public var note: String?

    public init(incidentId: String, kind: IncidentKind, event: Event, at: String, officerId: String, unitId: String,
                location: CheckLocation, note: String?) {
        (self.incidentId, self.kind, self.event, self.at, self.officerId, self.unitId) = (incidentId, kind, event, at, officerId, unitId)
        (self.location, self.note) = (location, note)
    }
}

/// What the officer did after a hit.
public struct HitOutcomePayload: Sendable, Equatable, Codable {
    public var checkId: String
    public var outcome: HitOutcome
    /// The lists the check hit in (`stolen-vehicles`, `wanted-persons`, `missing-persons`):
    /// what the center counts a confirmed outcome as.
    public var lists: [String]
    /// ISO 8601.
    public var at: String
    public var officerId: String
    public var unitId: String
    public var note: String?

    public init(checkId: String, outcome: HitOutcome, lists: [String], at: String, officerId: String, unitId: String, note: String?) {
        (self.checkId, self.outcome, self.lists, self.at, self.officerId, self.unitId, self.note) = (checkId, outcome, lists, at, officerId, unitId, note)
    }
}
