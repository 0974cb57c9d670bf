import FieldWire

/// Where an order reached the terminal.
public enum OrderSource: String, Sendable, Codable {
    /// The uplink's long poll.
    case poll
    /// `orders/<unit>.json` beside the manifest, fetched with every sync.
    case file
    /// Handed in through the local API (`mpolicectl order apply`), e.g. by a technician.
    case api
}

/// What the sync and the uplink need from the lost-terminal protections (the `Protection`
/// module implements it): orders handed over as they arrive, the lock that stops the sync,
/// and the verified manifests that reset the dead-man timer.
public protocol TerminalGuard: Sendable {
    /// The unit whose orders file the sync fetches.
    var unit: String { get }
    /// Verifies and executes the orders not handled before; blocks until they are.
    func receive(_ orders: [SignedEnvelope], source: OrderSource)
    /// While locked (by an order or a wipe) the sync fetches no lists.
    var isLocked: Bool { get }
    /// The highest sequence of a validly signed order handled: the poll asks for later ones.
    func ordersCursor() -> Int64
    /// A manifest was verified (the dead-man timer starts again).
    func manifestVerified()
}
