/// What the outbox carries to the center (docs/sync-protocol.md, "Uplink"). The priority
/// decides what goes first when the link returns: order acknowledgements and hits, then dispatch status changes, then
/// the other checks, then breadcrumbs.
public enum OutboxKind: String, Sendable, Codable, CaseIterable {
    case check
    case dispatchStatus = "dispatch-status"
    case breadcrumb
    /// A session event (sign-in, failure, lock, unlock, sign-out), chained with the checks.
    case audit
    /// What the terminal did with a lock or wipe order.
    case orderAck = "order-ack"

    /// 0 is sent first.
    public func priority(hit: Bool = false) -> Int {
        switch self {
        case .orderAck: 0
        case .check: hit ? 0 : 2
        case .dispatchStatus: 1
        case .audit: 2
        case .breadcrumb: 3
        }
    }
}
