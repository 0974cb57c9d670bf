/// A dispatch from the 110 command center to a unit, as the center sends it.
public struct DispatchOrder: Sendable, Equatable, Codable {
    public var id: String
    /// The center's ordering of this unit's dispatches; the poll resumes after it.
    public var cursor: Int64
    /// ISO 8601, at the center.
    public var createdAt: String
    /// "urgent", "high", "routine" — shown, not interpreted.
    public var priority: String
    public var summary: String
    public var latitude: Double?
    public var longitude: Double?

    public init(id: String, cursor: Int64, createdAt: String, priority: String, summary: String,
                latitude: Double?, longitude: Double?) {
        (self.id, self.cursor, self.createdAt, self.priority, self.summary) = (id, cursor, createdAt, priority, summary)
        (self.latitude, self.longitude) = (latitude, longitude)
    }
}

/// `GET /uplink/dispatches`: the unit's dispatches after a cursor, and its signed orders
/// after `orders_after` (the poll answers at once when either has something).
public struct DispatchPoll: Sendable, Equatable, Codable {
    /// Resume after this.
    public var cursor: Int64
    public var dispatches: [DispatchOrder]
    /// Lock and wipe orders (`TerminalOrder`), oldest first; absent when there are none.
    public var orders: [SignedEnvelope]?

    public init(cursor: Int64, dispatches: [DispatchOrder], orders: [SignedEnvelope]? = nil) {
        self.cursor = cursor
        self.dispatches = dispatches
        self.orders = orders
    }
}
