import FieldWire
import Foundation
import GRDB
import Watchlist

/// A dispatch from the 110 command center to this unit, as the terminal holds it.
public struct Dispatch: Sendable, Equatable, Codable {
    /// One status change, with when, who and where.
    public struct Change: Sendable, Equatable, Codable {
        public var status: DispatchStatus
        public var disposition: String?
        /// ISO 8601.
        public var at: String
        /// Empty for `received` (the terminal acknowledges on its own).
        public var officerId: String
        public var location: CheckLocation
        /// The center's refusal of this change (e.g. `dispatch.cancelled: …`, a change made
        /// offline after the center had called the dispatch off).
        public var refused: String?
    }

    /// A change the center made after creating the dispatch.
    public struct CenterChange: Sendable, Equatable, Codable {
        public var change: DispatchOrder.Change
        /// ISO 8601, at the center.
        public var at: String
        public var reason: String?
    }

    public var order: DispatchOrder
    /// ISO 8601, when the terminal stored it.
    public var receivedAt: String
    public var status: DispatchStatus
    public var disposition: String?
    /// Oldest first.
    public var history: [Change]
    /// The center's updates, cancellation or reassignment, oldest first.
    public var centerChanges: [CenterChange]

    public func encode(to encoder: any Encoder) throws {
        var c = encoder.container(keyedBy: CodingKeys.self)
        try c.encode(order.id, forKey: .id)
        try c.encode(order.createdAt, forKey: .createdAt)
        try c.encode(order.priority, forKey: .priority)
        try c.encode(order.summary, forKey: .summary)
        try c.encodeIfPresent(order.latitude, forKey: .latitude)
        try c.encodeIfPresent(order.longitude, forKey: .longitude)
        try c.encodeIfPresent(order.address, forKey: .address)
        try c.encodeIfPresent(order.incidentType, forKey: .incidentType)
        try c.encodeIfPresent(order.callbackNumber, forKey: .callbackNumber)
        try c.encodeIfPresent(order.notes, forKey: .notes)
        try c.encode(receivedAt, forKey: .receivedAt)
        try c.encode(status, forKey: .status)
        try c.encodeIfPresent(disposition, forKey: .disposition)
        try c.encode(history, forKey: .history)
        try c.encode(centerChanges, forKey: .centerChanges)
    }

    public init(from decoder: any Decoder) throws {
        let c = try decoder.container(keyedBy: CodingKeys.self)
        order = DispatchOrder(id: try c.decode(String.self, forKey: .id), cursor: 0, createdAt: try c.decode(String.self, forKey: .createdAt),
                      priority: try c.decode(String.self, forKey: .priority), summary: try c.decode(String.self, forKey: .summary),
                      latitude: try c.decodeIfPresent(Double.self, forKey: .latitude),
                      longitude: try c.decodeIfPresent(Double.self, forKey: .longitude),
                      address: try c.decodeIfPresent(String.self, forKey: .address),
                      incidentType: try c.decodeIfPresent(String.self, forKey: .incidentType),
                      callbackNumber: try c.decodeIfPresent(String.self, forKey: .callbackNumber),
                      notes: try c.decodeIfPresent(String.self, forKey: .notes))
        receivedAt = try c.decode(String.self, forKey: .receivedAt)
        status = try c.decode(DispatchStatus.self, forKey: .status)
        disposition = try c.decodeIfPresent(String.self, forKey: .disposition)
        history = try c.decode([Change].self, forKey: .history)
        centerChanges = try c.decodeIfPresent([CenterChange].self, forKey: .centerChanges) ?? []
    }

    init(order: DispatchOrder, receivedAt: String, status: DispatchStatus, disposition: String?, history: [Change],
         centerChanges: [CenterChange] = []) {
        (self.order, self.receivedAt, self.status, self.disposition, self.history) = (order, receivedAt, status, disposition, history)
        self.centerChanges = centerChanges
    }

    private enum CodingKeys: String, CodingKey {
        case id, createdAt, priority, summary, latitude, longitude, address, incidentType, callbackNumber, notes, receivedAt, status,
             disposition, history, centerChanges
    }
}

/// A dispatch log entry the terminal applied: what changed, and the dispatch after it.
public struct AppliedDispatchChange: Sendable, Equatable {
    public var change: DispatchOrder.Change
    public var dispatch: Dispatch
}

extension JournalStore {
    static func registerDispatch(_ migrator: inout DatabaseMigrator) {
        migrator.registerMigration("v5-dispatch") { db in
            try db.execute(sql: """
                CREATE TABLE dispatch (
                    id TEXT PRIMARY KEY NOT NULL,
                    cursor INTEGER NOT NULL,
                    created_at TEXT NOT NULL,
                    priority TEXT NOT NULL,
                    summary TEXT NOT NULL,
                    latitude REAL,
                    longitude REAL,
                    received_at TEXT NOT NULL,
                    status TEXT NOT NULL,
                    disposition TEXT
                );
                CREATE TABLE dispatch_change (
                    seq INTEGER PRIMARY KEY AUTOINCREMENT,
                    dispatch_id TEXT NOT NULL REFERENCES dispatch(id),
                    status TEXT NOT NULL,
                    disposition TEXT,
                    at TEXT NOT NULL,
                    officer_id TEXT NOT NULL,
                    location TEXT NOT NULL
                );
                CREATE INDEX dispatch_change_dispatch ON dispatch_change(dispatch_id, seq);
                -- Small named values of the uplink: the dispatch poll cursor, the last upload.
                CREATE TABLE uplink_state (key TEXT PRIMARY KEY NOT NULL, value TEXT NOT NULL);
                """)
        }
    }

    /// Applies the unit's dispatch log entries from the center, in cursor order, in one
    /// transaction with the poll cursor: a new dispatch is stored and its `received`
    /// acknowledgement queued; an update changes its details; a cancellation or
    /// reassignment closes it (and a unit status the dispatch implied becomes `available`).
    /// An entry delivered again (after a crash between storing and the next poll) is ignored.
    /// - Returns: the entries that changed something, in order.
    public func storeDispatches(_ orders: [DispatchOrder], cursor: Int64, unitId: String = "", location: CheckLocation,
                                now: Int64) throws -> [AppliedDispatchChange] {
        let at = Timestamp.iso8601(milliseconds: now)
        let stored = try enqueueing { db -> [AppliedDispatchChange] in
            var applied: [AppliedDispatchChange] = []
            for order in orders {
                try db.execute(sql: "INSERT OR IGNORE INTO dispatch_event (cursor, dispatch_id, change, at, reason) VALUES (?, ?, ?, ?, ?)",
                               arguments: [order.cursor, order.id, order.kindOfChange.rawValue, order.changedAt ?? order.createdAt, order.reason])
                guard db.changesCount == 1 else { continue }
                switch order.kindOfChange {
                case .created:
                    try db.execute(sql: """
                        INSERT OR IGNORE INTO dispatch (id, cursor, created_at, priority, summary, latitude, longitude, received_at, status,
                                                        address, incident_type, callback_number, notes)
                        VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
                        """, arguments: [order.id, order.cursor, order.createdAt, order.priority, order.summary, order.latitude,
                                         order.longitude, at, DispatchStatus.received.rawValue, order.address, order.incidentType,
                                         order.callbackNumber, order.notes])
                    guard db.changesCount == 1 else { continue }
                    let change = Dispatch.Change(status: .received, disposition: nil, at: at, officerId: "", location: location)
                    try appendChange(db, dispatchId: order.id, change, sequence: 1, now: now)
                case .updated:
                    try db.execute(sql: """
                        UPDATE dispatch SET priority = ?, summary = ?, latitude = ?, longitude = ?, address = ?, incident_type = ?,
                                            callback_number = ?, notes = ?
                        WHERE id = ?
                        """, arguments: [order.priority, order.summary, order.latitude, order.longitude, order.address, order.incidentType,
                                         order.callbackNumber, order.notes, order.id])
                    guard db.changesCount == 1 else { continue }
                case .cancelled, .reassigned:
                    let closed: DispatchStatus = order.kindOfChange == .cancelled ? .cancelled : .reassigned
                    try db.execute(sql: """
                        UPDATE dispatch SET status = ? WHERE id = ? AND status NOT IN ('cleared', 'cancelled', 'reassigned')
                        """, arguments: [closed.rawValue, order.id])
                    guard db.changesCount == 1 else { continue }
                    // The unit was busy with this dispatch: it is free again.
                    if let current = try unitStatus(db), current.source == .dispatch, current.dispatchId == order.id {
                        try setUnitStatus(db, .available, source: .dispatch, dispatchId: order.id, officerId: current.officerId,
                                          unitId: unitId, location: location, now: now)
                    }
                }
                if let dispatch = try dispatch(db, id: order.id) {
                    applied.append(AppliedDispatchChange(change: order.kindOfChange, dispatch: dispatch))
                }
            }
            try Self.raiseCursor(db, "dispatch_cursor", to: cursor)
            return applied
        }
        return stored
    }

    /// The cursor after the last stored dispatch (0 before the first).
    public func dispatchCursor() throws -> Int64 {
        try read { db in try Self.cursor(db, "dispatch_cursor") }
    }

    // MARK: Cursors (`uplink_state`): where each part of the long poll resumes

    static func cursor(_ db: Database, _ key: String) throws -> Int64 {
        try String.fetchOne(db, sql: "SELECT value FROM uplink_state WHERE key = ?", arguments: [key]).flatMap { Int64($0) } ?? 0
    }

    /// Moves a cursor on, never back.
    static func raiseCursor(_ db: Database, _ key: String, to value: Int64) throws {
        guard value > (try cursor(db, key)) else { return }
        try db.execute(sql: "INSERT OR REPLACE INTO uplink_state (key, value) VALUES (?, ?)", arguments: [key, String(value)])
    }

    /// Moves a dispatch to `status` and queues the change for the center, in one transaction.
    /// - Throws: `DispatchError` (unknown dispatch, a step out of order, a missing or
    ///   misplaced disposition).
    /// A status that implies the unit's (`UnitStatus.implied`) changes it in the same transaction.
    public func changeDispatch(_ id: String, to status: DispatchStatus, disposition: String?, officerId: String, unitId: String = "",
                               location: CheckLocation, now: Int64) throws -> Dispatch {
        try enqueueing { db in
            guard let current = try String.fetchOne(db, sql: "SELECT status FROM dispatch WHERE id = ?", arguments: [id])
                .flatMap(DispatchStatus.init(rawValue:)) else {
                throw DispatchError(.unknown, "no dispatch \(id) on this terminal")
            }
            let kept = try current.validate(next: status, disposition: disposition)
            let change = Dispatch.Change(status: status, disposition: kept, at: Timestamp.iso8601(milliseconds: now),
                                         officerId: officerId, location: location)
            try db.execute(sql: "UPDATE dispatch SET status = ?, disposition = ? WHERE id = ?", arguments: [status.rawValue, kept, id])
            let sequence = try Int.fetchOne(db, sql: "SELECT count(*) FROM dispatch_change WHERE dispatch_id = ?", arguments: [id])! + 1
            try appendChange(db, dispatchId: id, change, sequence: sequence, now: now)
            if let implied = UnitStatus.implied(by: status) {
                try setUnitStatus(db, implied, source: .dispatch, dispatchId: id, officerId: officerId, unitId: unitId, location: location,
                                  now: now)
            }
            return try dispatch(db, id: id)!
        }
    }

    private func appendChange(_ db: Database, dispatchId: String, _ change: Dispatch.Change, sequence: Int, now: Int64) throws {
        let location = WireJSON.text(change.location)
        try db.execute(sql: """
            INSERT INTO dispatch_change (dispatch_id, status, disposition, at, officer_id, location) VALUES (?, ?, ?, ?, ?, ?)
            """, arguments: [dispatchId, change.status.rawValue, change.disposition, change.at, change.officerId, location])
        let payload = DispatchStatusPayload(dispatchId: dispatchId, sequence: sequence, status: change.status,
                                            disposition: change.disposition, at: change.at, officerId: change.officerId,
                                            location: change.location)
        try enqueue(db, kind: .dispatchStatus, payload: WireJSON.text(payload), now: now)
    }

    /// Open dispatches first (newest first), then cleared ones (newest first).
    public func dispatches(limit: Int = 100) throws -> [Dispatch] {
        try read { db in
            let ids = try String.fetchAll(db, sql: """
                SELECT id FROM dispatch ORDER BY status IN ('cleared', 'cancelled', 'reassigned'), cursor DESC LIMIT ?
                """, arguments: [limit])
            return try ids.compactMap { try dispatch(db, id: $0) }
        }
    }

    public func dispatch(id: String) throws -> Dispatch? {
        try read { db in try dispatch(db, id: id) }
    }

    private func dispatch(_ db: Database, id: String) throws -> Dispatch? {
        guard let row = try Row.fetchOne(db, sql: """
            SELECT id, cursor, created_at, priority, summary, latitude, longitude, received_at, status, disposition,
                   address, incident_type, callback_number, notes
            FROM dispatch WHERE id = ?
            """, arguments: [id]) else { return nil }
        let history = try Row.fetchAll(db, sql: """
            SELECT status, disposition, at, officer_id, location, refused FROM dispatch_change WHERE dispatch_id = ? ORDER BY seq
            """, arguments: [id]).map { r in
            Dispatch.Change(status: DispatchStatus(rawValue: r[0]) ?? .received, disposition: r[1], at: r[2], officerId: r[3],
                            location: (try? WireJSON.decode(CheckLocation.self, from: Data((r[4] as String).utf8))) ?? .notAvailable,
                            refused: r[5])
        }
        let centerChanges = try Row.fetchAll(db, sql: """
            SELECT change, at, reason FROM dispatch_event WHERE dispatch_id = ? AND change != 'created' ORDER BY cursor
            """, arguments: [id]).map { r in
            Dispatch.CenterChange(change: DispatchOrder.Change(rawValue: r[0]) ?? .updated, at: r[1], reason: r[2])
        }
        return Dispatch(order: DispatchOrder(id: row[0], cursor: row[1], createdAt: row[2], priority: row[3], summary: row[4],
                                              latitude: row[5], longitude: row[6], address: row[10], incidentType: row[11],
                                              callbackNumber: row[12], notes: row[13]),
                        receivedAt: row[7], status: DispatchStatus(rawValue: row[8]) ?? .received, disposition: row[9], history: history,
                        centerChanges: centerChanges)
    }

    /// Marks the change a refused dispatch-status item carried (by its sequence) as refused.
    func markRefusedChange(_ db: Database, _ payloadJSON: String, reason: String) throws {
        guard let payload = try? WireJSON.decode(DispatchStatusPayload.self, from: Data(payloadJSON.utf8)) else { return }
        try db.execute(sql: """
            UPDATE dispatch_change SET refused = ? WHERE seq = (
                SELECT seq FROM dispatch_change WHERE dispatch_id = ? ORDER BY seq LIMIT 1 OFFSET ?)
            """, arguments: [reason, payload.dispatchId, payload.sequence - 1])
    }

    /// The last upload, for status and diagnostics.
    public func recordUpload(_ summary: UploadSummary) throws {
        let data = WireJSON.text(summary)
        try write { db in
            try db.execute(sql: "INSERT OR REPLACE INTO uplink_state (key, value) VALUES ('last_upload', ?)", arguments: [data])
        }
    }

    public func lastUpload() throws -> UploadSummary? {
        try read { db in
            try String.fetchOne(db, sql: "SELECT value FROM uplink_state WHERE key = 'last_upload'")
                .flatMap { try? WireJSON.decode(UploadSummary.self, from: Data($0.utf8)) }
        }
    }
}

/// One upload to the center, as status shows it.
public struct UploadSummary: Sendable, Equatable, Codable {
    /// Unix milliseconds.
    public var at: Int64
    public var ok: Bool
    public var acknowledged: Int
    public var rejected: Int
    public var error: String?

    public init(at: Int64, ok: Bool, acknowledged: Int, rejected: Int, error: String?) {
        (self.at, self.ok, self.acknowledged, self.rejected, self.error) = (at, ok, acknowledged, rejected, error)
    }
}
