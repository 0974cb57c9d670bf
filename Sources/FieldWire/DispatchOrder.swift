/// A dispatch from the 110 command center to a unit, as the center sends it: one entry of
/// the unit's dispatch log, which says what changed (`change`) and carries the dispatch as
/// it stands after the change. The terminal applies the entries in cursor order.
public struct DispatchOrder: Sendable, Equatable, Codable {
    /// What an entry of the log does to the dispatch.
    public enum Change: String, Sendable, Codable, CaseIterable {
        /// A new dispatch for this unit (also: one reassigned to it).
        case created
        /// Its address, incident type, call-back number, notes, summary or priority changed.
        case updated
        /// Called off by the center: the unit's status changes after it are refused.
        case cancelled
        /// Given to another unit: closed for this one.
        case reassigned
    }

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
    /// Absent from centers that predate dispatch changes: `created`.
    public var change: Change?
    public var address: String?
    /// The 110 call's type, e.g. `traffic-collision`, `robbery`.
    public var incidentType: String?
    /// The caller's call-back number.
    public var callbackNumber: String?
    public var notes: String?
    /// Why it was cancelled or reassigned (and, for `reassigned`, to which unit).
    public var reason: String?
    /// ISO 8601: when the center made this change (`createdAt` for `created`).
    public var changedAt: String?

    public init(id: String, cursor: Int64, createdAt: String, priority: String, summary: String,
                latitude: Double?, longitude: Double?, change: Change? = nil, address: String? = nil, incidentType: String? = nil,
                callbackNumber: String? = nil, notes: String? = nil, reason: String? = nil, changedAt: String? = nil) {
        (self.id, self.cursor, self.createdAt, self.priority, self.summary) = (id, cursor, createdAt, priority, summary)
        (self.latitude, self.longitude) = (latitude, longitude)
        (self.change, self.address, self.incidentType, self.callbackNumber, self.notes) = (change, address, incidentType, callbackNumber, notes)
        (self.reason, self.changedAt) = (reason, changedAt)
    }

    /// `created` when the center did not say.
    public var kindOfChange: Change { change ?? .created }
}

/// `GET /uplink/dispatches`: the unit's dispatches after a cursor, its signed orders after
/// `orders_after`, the bulletins for its region after `bulletins_after`, and the answers to
/// its confirmation requests after `confirmations_after` (the poll answers at once when any
/// has something).
public struct DispatchPoll: Sendable, Equatable, Codable {
    /// Resume after this.
    public var cursor: Int64
    public var dispatches: [DispatchOrder]
    /// Lock and wipe orders (`TerminalOrder`), oldest first; absent when there are none.
    public var orders: [SignedEnvelope]?
    /// Signed bulletins (`Bulletin`), by serial; absent when there are none.
    public var bulletins: [SignedEnvelope]?
    /// The highest bulletin serial answered: the next poll's `bulletins_after`.
    public var bulletinCursor: Int64?
    /// Answers to this unit's confirmation requests, by cursor; absent when there are none.
    public var confirmations: [HitConfirmationAnswer]?

    /// Whether the poll carries anything (an empty one ends only at its deadline).
    public var hasNews: Bool {
        !dispatches.isEmpty || orders != nil || bulletins != nil || confirmations != nil
    }

    public init(cursor: Int64, dispatches: [DispatchOrder], orders: [SignedEnvelope]? = nil, bulletins: [SignedEnvelope]? = nil,
                bulletinCursor: Int64? = nil, confirmations: [HitConfirmationAnswer]? = nil) {
        self.cursor = cursor
        self.dispatches = dispatches
        self.orders = orders
        self.bulletins = bulletins
        self.bulletinCursor = bulletinCursor
        self.confirmations = confirmations
    }
}
