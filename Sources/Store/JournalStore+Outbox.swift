import TerminalConfiguration
import FieldWire
import GRDB

/// One item waiting for the center's acknowledgement.
public struct OutboxItem: Sendable, Equatable {
    /// The row: order of insertion.
    public var seq: Int64
    /// UUIDv7: the idempotency id the center deduplicates on.
    public var id: String
    public var kind: OutboxKind
    /// 0 first (`OutboxKind.priority`).
    public var priority: Int
    /// A JSON object, the item's content on the wire.
    public var payload: String
    /// Unix milliseconds.
    public var createdAt: Int64
    public var attempts: Int

    /// The item as a batch carries it.
    public var stored: UplinkBatch.StoredItem {
        UplinkBatch.StoredItem(id: id, kind: kind, createdAt: createdAt, attempt: attempts + 1, payloadJSON: payload)
    }
}

/// An item the center refused; kept, shown and not sent again.
public struct RejectedOutboxItem: Sendable, Equatable, Codable {
    public var id: String
    public var kind: String
    public var reason: String
    public var createdAt: Int64
    public var rejectedAt: Int64
}

/// The outbox as status and diagnostics show it.
public struct OutboxStatus: Sendable, Equatable, Codable {
    /// Items waiting to be sent (rejected ones not counted).
    public var pending: Int
    public var pendingByKind: [String: Int]
    /// Age of the oldest pending item, seconds.
    public var oldestAgeSeconds: Int64?
    public var rejected: Int
    /// Breadcrumbs dropped under the size bound since the journal was created.
    public var shedBreadcrumbs: Int64
    public var maxItems: Int
    public var warnItems: Int
    /// Set from `warnItems` pending items on.
    public var warning: String?
}

/// How the center answered one item.
public enum OutboxSettlement: Sendable, Equatable {
    /// Accepted now or already held: the item is done.
    case acknowledged
    /// Refused for good, with the center's reason.
    case rejected(String)
    /// Not acknowledged (left out of the answer, or the center asked for a retry).
    case retry
}

extension JournalStore {
    static func registerOutboxUniqueIDs(_ migrator: inout DatabaseMigrator) {
        migrator.registerMigration("v7-outbox-unique-id") { db in
            // An id is the center's idempotency key: two items with one id would make the
            // second a "duplicate" there and lose it. Ids are UUIDv7 (time-ordered), so the
            // index grows at its right edge: one more page in a check's commit, the same one
            // check after check. Any repeat an older version may have queued keeps its first.
            try db.execute(sql: """
                DELETE FROM outbox WHERE seq NOT IN (SELECT min(seq) FROM outbox GROUP BY id);
                CREATE UNIQUE INDEX outbox_id ON outbox(id);
                """)
        }
    }

    static func registerOutbox(_ migrator: inout DatabaseMigrator) {
        migrator.registerMigration("v4-outbox") { db in
            // Every index on this table costs a page write in the check's durable commit, so
            // there are only partial ones that a new item does not enter: items are found
            // by `seq` (the rowid) and the batch query scans the table (fine at the bound).
            try db.execute(sql: """
                CREATE TABLE outbox (
                    seq INTEGER PRIMARY KEY AUTOINCREMENT,
                    id TEXT NOT NULL,
                    kind TEXT NOT NULL,
                    priority INTEGER NOT NULL,
                    payload TEXT NOT NULL,
                    created_at INTEGER NOT NULL,
                    attempts INTEGER NOT NULL DEFAULT 0,
                    next_attempt_at INTEGER NOT NULL DEFAULT 0,
                    last_error TEXT,
                    rejected_reason TEXT,
                    rejected_at INTEGER
                );
                CREATE INDEX outbox_rejected ON outbox(rejected_at) WHERE rejected_reason IS NOT NULL;
                """)
        }
    }

    /// Queues an item inside the caller's transaction. Past the bound the oldest
    /// breadcrumbs are shed. The bound is judged on a kept estimate of the pending count
    /// (counting rows on every check would cost more than the check), made exact whenever it
    /// passes the bound and after every upload.
    /// - Parameter id: the idempotency id; a check uses its check id, so the center's record
    ///   and the terminal's journal name the same check.
    /// - Parameter priority: instead of the kind's (the breadcrumbs of an active emergency).
    func enqueue(_ db: Database, id: String? = nil, kind: OutboxKind, hit: Bool = false, priority: Int? = nil, payload: String,
                 now: Int64) throws {
        let statement = try db.cachedStatement(sql: """
            INSERT INTO outbox (id, kind, priority, payload, created_at) VALUES (?, ?, ?, ?, ?)
            """)
        let priority = priority ?? kind.priority(hit: hit)
        try statement.execute(arguments: [id ?? UUIDv7.make(milliseconds: now), kind.rawValue, priority, payload, now])
        if priority == OutboxKind.emergencyPriority { urgentQueued.store(true, ordering: .relaxed) }
        let estimate = try outboxPending.withLock { kept -> Int in
            let next = try kept.map { $0 + 1 } ?? Self.pendingCount(db)
            kept = next
            return next
        }
        guard estimate > outboxLimits.maxItems else { return }
        let pending = try Self.pendingCount(db)
        var shed = 0
        if pending > outboxLimits.maxItems {
            try db.execute(sql: """
                DELETE FROM outbox WHERE seq IN (
                    SELECT seq FROM outbox WHERE kind = 'breadcrumb' AND priority > 0 AND rejected_reason IS NULL ORDER BY seq LIMIT ?)
                """, arguments: [pending - outboxLimits.maxItems])
            shed = db.changesCount
        }
        if shed > 0 {
            try db.execute(sql: """
                INSERT INTO uplink_state (key, value) VALUES ('shed_breadcrumbs', ?)
                ON CONFLICT (key) DO UPDATE SET value = CAST(value AS INTEGER) + excluded.value
                """, arguments: [String(shed)])
        }
        // With nothing left to shed (only checks and dispatch status), the bound gives way;
        // it is looked at again after 1,024 more items rather than on every one.
        let limit = outboxLimits.maxItems
        outboxPending.withLock { $0 = shed > 0 ? pending - shed : limit - 1_024 }
    }

    /// Whether an emergency item (or an emergency's breadcrumb) waits for the center.
    public func urgentPending() throws -> Bool {
        try read { db in
            try Bool.fetchOne(db, sql: "SELECT 1 FROM outbox WHERE priority = ? AND rejected_reason IS NULL LIMIT 1",
                              arguments: [OutboxKind.emergencyPriority]) ?? false
        }
    }

    static func pendingCount(_ db: Database) throws -> Int {
        try Int.fetchOne(db, sql: "SELECT count(*) FROM outbox WHERE rejected_reason IS NULL")!
    }

    /// The next batch to send: due items, highest priority first and in order of creation
    /// within a priority, up to `maxItems` and `maxBytes` of payload (at least one item).
    public func dueOutboxItems(now: Int64, maxItems: Int, maxBytes: Int) throws -> [OutboxItem] {
        try read { db in
            let rows = try Row.fetchCursor(db, sql: """
                SELECT seq, id, kind, priority, payload, created_at, attempts FROM outbox
                WHERE rejected_reason IS NULL AND next_attempt_at <= ?
                ORDER BY priority, seq LIMIT ?
                """, arguments: [now, maxItems])
            var items: [OutboxItem] = []
            var bytes = 0
            while let row = try rows.next() {
                let payload: String = row[4]
                if !items.isEmpty, bytes + payload.utf8.count > maxBytes { break }
                bytes += payload.utf8.count
                items.append(OutboxItem(seq: row[0], id: row[1], kind: OutboxKind(rawValue: row[2]) ?? .check, priority: row[3],
                                        payload: payload, createdAt: row[5], attempts: row[6]))
            }
            return items
        }
    }

    /// Records the center's answer for a batch in one transaction: acknowledged items are
    /// deleted, rejected ones kept with their reason, the rest counted as an attempt and
    /// held back until `retryAt` (an emergency item for a second only). A dispatch status
    /// change the center refused is marked refused in the dispatch's history.
    /// `answers` is keyed by item id.
    public func settleOutbox(_ items: [OutboxItem], answers: [String: OutboxSettlement], now: Int64, retryAt: Int64) throws {
        try write { db in
            let delete = try db.cachedStatement(sql: "DELETE FROM outbox WHERE seq = ?")
            let reject = try db.cachedStatement(sql: """
                UPDATE outbox SET rejected_reason = ?, rejected_at = ?, attempts = attempts + 1
                WHERE seq = ? AND rejected_reason IS NULL
                """)
            let retry = try db.cachedStatement(sql: """
                UPDATE outbox SET attempts = attempts + 1, next_attempt_at = ?, last_error = 'not acknowledged' WHERE seq = ?
                """)
            for item in items {
                switch answers[item.id] ?? .retry {
                case .acknowledged: try delete.execute(arguments: [item.seq])
                case .rejected(let reason):
                    try reject.execute(arguments: [reason, now, item.seq])
                    if item.kind == .dispatchStatus { try markRefusedChange(db, item.payload, reason: reason) }
                case .retry:
                    try retry.execute(arguments: [item.priority == OutboxKind.emergencyPriority ? now + 1_000 : retryAt, item.seq])
                }
            }
        }
        let settled = items.filter { if case .retry = answers[$0.id] ?? .retry { false } else { true } }.count
        outboxPending.withLock { kept in kept = kept.map { Swift.max(0, $0 - settled) } }
    }

    /// Makes the kept pending count exact (other processes may have queued items too), from
    /// a reader, outside the writer lock the checks need. The uploader calls it after a flush.
    public func recountOutbox() throws {
        let pending = try read { try Self.pendingCount($0) }
        outboxPending.withLock { $0 = pending }
    }

    /// A batch that did not reach the center (or got no usable answer): each item's attempt
    /// is counted and the error kept for diagnostics; when to try again is the uploader's
    /// backoff, so a returning link is used at once.
    public func outboxAttemptFailed(_ items: [OutboxItem], error: String) throws {
        try write { db in
            let statement = try db.cachedStatement(sql: "UPDATE outbox SET attempts = attempts + 1, last_error = ? WHERE seq = ?")
            for item in items { try statement.execute(arguments: [error, item.seq]) }
        }
    }

    public func outboxStatus(now: Int64) throws -> OutboxStatus {
        try read { db in
            var byKind: [String: Int] = [:]
            for row in try Row.fetchAll(db, sql: "SELECT kind, count(*) FROM outbox WHERE rejected_reason IS NULL GROUP BY kind") {
                byKind[row[0]] = row[1]
            }
            let pending = byKind.values.reduce(0, +)
            let oldest = pending > 0 ? try Int64.fetchOne(db, sql: "SELECT min(created_at) FROM outbox WHERE rejected_reason IS NULL") : nil
            let rejected = try Int.fetchOne(db, sql: "SELECT count(*) FROM outbox INDEXED BY outbox_rejected WHERE rejected_reason IS NOT NULL")!
            let shed = try String.fetchOne(db, sql: "SELECT value FROM uplink_state WHERE key = 'shed_breadcrumbs'").flatMap { Int64($0) } ?? 0
            let warning: String? = pending >= outboxLimits.warnItems
                ? "\(pending) items wait for the center (bound \(outboxLimits.maxItems); breadcrumbs are shed past it)"
                : nil
            return OutboxStatus(pending: pending, pendingByKind: byKind, oldestAgeSeconds: oldest.map { max(0, (now - $0) / 1000) },
                                rejected: rejected, shedBreadcrumbs: shed, maxItems: outboxLimits.maxItems,
                                warnItems: outboxLimits.warnItems, warning: warning)
        }
    }

    /// Items the center refused, newest first.
    public func rejectedOutboxItems(limit: Int = 100) throws -> [RejectedOutboxItem] {
        try read { db in
            try Row.fetchAll(db, sql: """
                SELECT id, kind, rejected_reason, created_at, rejected_at FROM outbox
                WHERE rejected_reason IS NOT NULL ORDER BY rejected_at DESC LIMIT ?
                """, arguments: [limit]).map {
                RejectedOutboxItem(id: $0[0], kind: $0[1], reason: $0[2], createdAt: $0[3], rejectedAt: $0[4])
            }
        }
    }
}
