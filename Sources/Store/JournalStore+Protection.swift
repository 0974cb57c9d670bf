import FieldWire
import Foundation
import GRDB
import Watchlist

/// Why the terminal refuses its API: a lock order, or a wipe (which leaves it locked).
public struct TerminalLock: Codable, Sendable, Equatable {
    public enum Cause: String, Codable, Sendable {
        case lockOrder = "lock-order"
        case wipeLists = "wipe-lists"
        case wipeAll = "wipe-all"
        /// `security.wipe_after_offline` passed: the lists were wiped without an order.
        case deadMan = "dead-man"
    }

    public var cause: Cause
    /// The order's sequence.
    public var orderSequence: Int64
    /// ISO 8601.
    public var since: String

    public init(cause: Cause, orderSequence: Int64, since: String) {
        (self.cause, self.orderSequence, self.since) = (cause, orderSequence, since)
    }
}

/// What journal.db keeps for the lost-terminal protections (docs/operations.md): the last
/// order executed, the lock, and the judged time of the dead-man timer.
public struct ProtectionRecord: Sendable, Equatable {
    public var lastOrderSequence: Int64
    public var lock: TerminalLock?
    /// The judged time last written (Unix milliseconds): time only moves forward from it.
    public var judgedAt: Int64
    /// The judged time a manifest was last verified — or the journal was first used, before
    /// the first sync.
    public var lastVerifiedAt: Int64
}

/// One order the terminal received, as it was handled.
public struct ReceivedOrder: Sendable, Equatable {
    public var envelopeSHA256: String
    public var sequence: Int64?
    public var kind: TerminalOrder.Kind?
    public var outcome: OrderAckPayload.Outcome
    public var reason: String?
    /// `poll`, `file` or `api`.
    public var source: String
    public var receivedAt: Int64

    public init(envelopeSHA256: String, sequence: Int64?, kind: TerminalOrder.Kind?, outcome: OrderAckPayload.Outcome, reason: String?,
                source: String, receivedAt: Int64) {
        (self.envelopeSHA256, self.sequence, self.kind, self.outcome, self.reason) = (envelopeSHA256, sequence, kind, outcome, reason)
        (self.source, self.receivedAt) = (source, receivedAt)
    }
}

extension JournalStore {
    static func registerProtection(_ migrator: inout DatabaseMigrator) {
        migrator.registerMigration("v11-protection") { db in
            try db.execute(sql: """
                CREATE TABLE protection (
                    id INTEGER PRIMARY KEY CHECK (id = 1),
                    last_order_sequence INTEGER NOT NULL DEFAULT 0,
                    lock TEXT,
                    judged_at INTEGER NOT NULL,
                    last_verified_at INTEGER NOT NULL
                );
                CREATE TABLE received_order (
                    envelope_sha256 TEXT PRIMARY KEY NOT NULL,
                    sequence INTEGER,
                    kind TEXT,
                    outcome TEXT NOT NULL,
                    reason TEXT,
                    source TEXT NOT NULL,
                    received_at INTEGER NOT NULL
                );
                """)
        }
    }

    /// The protection record; created at `now` (Unix milliseconds) on first use, so a
    /// terminal that never synced counts its offline time from then.
    public func protection(now: Int64) throws -> ProtectionRecord {
        if let record = try read(Self.readProtection) { return record }
        return try write { db in
            try db.execute(sql: "INSERT OR IGNORE INTO protection (id, judged_at, last_verified_at) VALUES (1, ?1, ?1)", arguments: [now])
            return try Self.readProtection(db)!
        }
    }

    static func readProtection(_ db: Database) throws -> ProtectionRecord? {
        try Row.fetchOne(db, sql: "SELECT last_order_sequence, lock, judged_at, last_verified_at FROM protection WHERE id = 1").map {
            let lock: String? = $0[1]
            return ProtectionRecord(lastOrderSequence: $0[0], lock: lock.flatMap { try? WireJSON.decode(TerminalLock.self, from: Data($0.utf8)) },
                                    judgedAt: $0[2], lastVerifiedAt: $0[3])
        }
    }

    /// Moves the judged time on to `judged` (never back).
    public func advanceJudgedTime(to judged: Int64) throws {
        try write { db in
            try db.execute(sql: "UPDATE protection SET judged_at = max(judged_at, ?) WHERE id = 1", arguments: [judged])
        }
    }

    /// A manifest was verified at the judged time `judged`: the dead-man timer starts again.
    public func recordVerifiedManifest(judged: Int64) throws {
        try write { db in
            try db.execute(sql: """
                INSERT INTO protection (id, judged_at, last_verified_at) VALUES (1, ?1, ?1)
                ON CONFLICT (id) DO UPDATE SET judged_at = max(judged_at, ?1), last_verified_at = max(last_verified_at, ?1)
                """, arguments: [judged])
        }
    }

    /// Sets or lifts the lock.
    public func setTerminalLock(_ lock: TerminalLock?) throws {
        try write { db in
            try db.execute(sql: "UPDATE protection SET lock = ? WHERE id = 1", arguments: [lock.map { WireJSON.text($0) }])
        }
    }

    /// Whether an envelope with this SHA-256 was handled before with its signature holding
    /// (a feed repeats its orders until they expire; one that failed its signature is looked
    /// at again — the terminal may since have walked to the root that signs it).
    public func hasVerifiedOrder(envelopeSHA256: String) throws -> Bool {
        try read { db in
            try Bool.fetchOne(db, sql: "SELECT 1 FROM received_order WHERE envelope_sha256 = ? AND sequence IS NOT NULL",
                              arguments: [envelopeSHA256]) ?? false
        }
    }

    /// The highest sequence of a validly signed order handled, executed or refused (the
    /// dispatch poll's `orders_after`).
    public func ordersCursor() throws -> Int64 {
        try read { db in try Int64.fetchOne(db, sql: "SELECT max(sequence) FROM received_order") ?? 0 }
    }

    /// Records how an order was handled and queues its acknowledgement, in one transaction;
    /// an executed order also moves the sequence on, and `lock` is set (`.some(nil)` lifts
    /// it). Returns false when the envelope was recorded before with the same answer: no
    /// second acknowledgement (the lock and sequence are still applied — a wipe completed
    /// after a crash records its order again).
    @discardableResult
    public func recordOrder(_ order: ReceivedOrder, unitId: String, lock: TerminalLock?? = .none) throws -> Bool {
        try enqueueing { db in
            // A refusal that may pass later (a root not yet walked to) is recorded again
            // when its answer changes; anything else once.
            try db.execute(sql: """
                INSERT INTO received_order (envelope_sha256, sequence, kind, outcome, reason, source, received_at)
                VALUES (?, ?, ?, ?, ?, ?, ?)
                ON CONFLICT (envelope_sha256) DO UPDATE SET sequence = excluded.sequence, kind = excluded.kind, outcome = excluded.outcome,
                    reason = excluded.reason, source = excluded.source, received_at = excluded.received_at
                WHERE received_order.outcome = 'refused' AND received_order.reason IS NOT excluded.reason
                """, arguments: [order.envelopeSHA256, order.sequence, order.kind?.rawValue, order.outcome.rawValue, order.reason,
                                 order.source, order.receivedAt])
            let inserted = db.changesCount == 1
            if case .some(let lock) = lock {
                try db.execute(sql: "UPDATE protection SET lock = ? WHERE id = 1", arguments: [lock.map { WireJSON.text($0) }])
            }
            if order.outcome == .executed, let sequence = order.sequence {
                try db.execute(sql: "UPDATE protection SET last_order_sequence = max(last_order_sequence, ?) WHERE id = 1", arguments: [sequence])
            }
            guard inserted else { return false }
            let ack = OrderAckPayload(unitId: unitId, sequence: order.sequence, kind: order.kind, outcome: order.outcome, reason: order.reason,
                                      at: Timestamp.iso8601(milliseconds: order.receivedAt), envelopeSHA256: order.envelopeSHA256)
            try enqueue(db, kind: .orderAck, payload: WireJSON.text(ack), now: order.receivedAt)
            return true
        }
    }

    /// What a lists wipe's deadline (`security.wipe_journal_after`) takes: every record of a
    /// person, plate or place — check records, session events, dispatches, the track — and the
    /// outbox items carrying them, delivered or not. Order acknowledgements stay: the center
    /// must still learn what this terminal did. The chain head stays, so the center sees the
    /// records that never came as a gap, not as nothing.
    /// - Returns: the outbox items discarded undelivered.
    @discardableResult
    public func discardRecordsAfterWipe() throws -> Int {
        try write { db in
            try db.execute(sql: "DELETE FROM outbox WHERE kind <> 'order-ack'")
            let discarded = db.changesCount
            try db.execute(sql: """
                DELETE FROM check_record WHERE coalesce(chain_seq < (SELECT max(chain_seq) FROM check_record), 1);
                DELETE FROM audit_event WHERE chain_seq < (SELECT max(chain_seq) FROM audit_event);
                DELETE FROM dispatch_change;
                DELETE FROM dispatch;
                DELETE FROM breadcrumb;
                """)
            outboxPending.withLock { $0 = nil }
            return discarded
        }
    }

    /// Order acknowledgements not yet delivered.
    public func pendingOrderAcknowledgements() throws -> Int {
        try read { db in
            try Int.fetchOne(db, sql: "SELECT count(*) FROM outbox WHERE kind = 'order-ack' AND rejected_reason IS NULL") ?? 0
        }
    }

    /// Orders received, newest first (status, diagnostics, tests).
    public func receivedOrders(limit: Int = 20) throws -> [ReceivedOrder] {
        try read { db in
            try Row.fetchAll(db, sql: """
                SELECT envelope_sha256, sequence, kind, outcome, reason, source, received_at FROM received_order
                ORDER BY received_at DESC, rowid DESC LIMIT ?
                """, arguments: [limit]).map {
                let kind: String? = $0[2]
                let outcome: String = $0[3]
                return ReceivedOrder(envelopeSHA256: $0[0], sequence: $0[1], kind: kind.flatMap(TerminalOrder.Kind.init(rawValue:)),
                                     outcome: OrderAckPayload.Outcome(rawValue: outcome) ?? .refused, reason: $0[4], source: $0[5],
                                     receivedAt: $0[6])
            }
        }
    }
}
