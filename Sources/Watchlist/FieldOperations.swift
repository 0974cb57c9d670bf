/// Where a unit stands for the command center: what decides whether it is sent to the next
/// call. Set by the officer, or implied by a dispatch (`en-route` and `on-scene` when the
/// officer moves a dispatch there, `available` when it is cleared, cancelled or reassigned).
public enum UnitStatus: String, Sendable, Codable, CaseIterable {
    case available
    case busy
    case enRoute = "en-route"
    case onScene = "on-scene"
    case outOfService = "out-of-service"
    case mealBreak = "meal-break"

    /// The status a dispatch's status implies, if any.
    public static func implied(by dispatch: DispatchStatus) -> UnitStatus? {
        switch dispatch {
        case .received: nil
        case .enRoute: .enRoute
        case .onScene: .onScene
        case .cleared, .cancelled, .reassigned: .available
        }
    }
}

/// A stop the officer starts on their own (not dispatched).
public enum IncidentKind: String, Sendable, Codable, CaseIterable {
    case trafficStop = "traffic-stop"
    case personStop = "person-stop"
}

/// What happened after a hit, as the officer records it: what the center counts (vehicles
/// recovered, fugitives caught, missing people found).
public enum HitOutcome: String, Sendable, Codable, CaseIterable {
    /// The hit was confirmed and acted on (vehicle recovered, person arrested, missing person found).
    case confirmedActed = "confirmed-acted"
    /// Confirmed with the record's owner: no longer wanted or stolen (the list was behind).
    case noLongerWanted = "no-longer-wanted"
    /// Not the person (or vehicle) the record is about.
    case notThePerson = "not-the-person"
    /// Confirmed, but released (no grounds to hold, handed over).
    case released
}

/// Refusals of the field operations (emergency, unit status, incidents, hit outcomes).
public typealias FieldOperationError = CodedError<FieldOperationErrorCode>

public enum FieldOperationErrorCode: String, Sendable, CaseIterable {
    /// No emergency is active (cancelling one).
    case noEmergency = "emergency.none"
    /// A stop is already open: close it first.
    case incidentOpen = "incident.already-open"
    /// No such incident on this terminal.
    case unknownIncident = "incident.unknown"
    /// The incident is closed already.
    case incidentClosed = "incident.closed"
    /// No such check in this terminal's journal.
    case unknownCheck = "check.unknown"
    /// An outcome is recorded only for a check that hit.
    case notAHit = "check.not-a-hit"
    /// The check's outcome was recorded already.
    case outcomeRecorded = "check.outcome-recorded"
}
