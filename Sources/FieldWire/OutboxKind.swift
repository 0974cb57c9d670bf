/// What the outbox carries to the center (docs/sync-protocol.md, "Uplink"). The priority
/// decides what goes first when the link returns: an officer's emergency (and its
/// breadcrumbs) and hit confirmation requests before anything, then order acknowledgements and hits, then dispatch status,
/// unit status, incidents and hit outcomes, then the other checks, session events and health
/// reports, then breadcrumbs.
public enum OutboxKind: String, Sendable, Codable, CaseIterable {
    case check
    case dispatchStatus = "dispatch-status"
    case breadcrumb
    /// A session event (sign-in, failure, lock, unlock, sign-out), chained with the checks.
    case audit
    /// What the terminal did with a lock or wipe order.
    case orderAck = "order-ack"
    /// "Officer needs help" raised or cleared.
    case emergency
    /// The unit's status (available, busy, en route, …), set by the officer or implied by a dispatch.
    case unitStatus = "unit-status"
    /// A traffic or person stop the officer started (opened or closed).
    case incident
    /// What the officer did after a hit.
    case hitOutcome = "hit-outcome"
    /// A request to confirm a hit with the center (the answer comes over the long poll).
    case hitConfirmation = "hit-confirmation"
    /// The terminal's health for the center's fleet view (`HealthReport`).
    case health

    /// The priority of the emergency and of the breadcrumbs sent while it is active.
    public static let emergencyPriority = 0

    /// 0 is sent first.
    public func priority(hit: Bool = false) -> Int {
        switch self {
        case .emergency, .hitConfirmation: Self.emergencyPriority
        case .orderAck: 1
        case .check: hit ? 1 : 3
        case .dispatchStatus, .unitStatus, .incident, .hitOutcome: 2
        case .audit, .health: 3
        case .breadcrumb: 4
        }
    }
}
