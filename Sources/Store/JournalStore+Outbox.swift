import GRDB

/// What the outbox carries to the center. The priority decides what goes first when the
/// link returns: hits, then dispatch status changes, then the other checks, then breadcrumbs.
public enum OutboxKind: String, Sendable, Codable, CaseIterable {
    case check
    case dispatchStatus = "dispatch-status"
    case breadcrumb
}

/// How large the outbox may grow while the terminal is offline. Past `maxItems`, the oldest
/// breadcrumbs are shed (they are thinned positions, and the local track keeps its own copy);
/// checks and dispatch status changes are never shed — the outbox then grows past the bound,
/// limited only by the disk. Status warns from `warnItems` on, long before.
public struct OutboxLimits: Sendable, Equatable {
    public var maxItems: Int
    public var warnItems: Int

    public init(maxItems: Int = 200_000, warnItems: Int = 50_000) {
        precondition(warnItems <= maxItems)
        self.maxItems = maxItems
        self.warnItems = warnItems
    }
}

/// One item waiting for the center's acknowledgement.
public struct OutboxItem: Sendable, Equatable {
    /// UUIDv7: the idempotency id the center deduplicates on.
    public var id: String
    public var kind: OutboxKind
    /// 0 first. See `OutboxItem.priority(kind:hit:)`.
    public var priority: Int
    /// A JSON object, the item's content on the wire.
    public var payload: String
    /// Unix milliseconds.
    public var createdAt: Int64
    public var attempts: Int

    static func priority(_ kind: OutboxKind, hit: Bool) -> Int {
        switch kind {
        case .check: hit ? 0 : 2
        case .dispatchStatus: 1
        case .breadcrumb: 3
        }
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
    static func registerOutbox(_ migrator: inout DatabaseMigrator) {
        migrator.registerMigration("v4-outbox") { db in
            try db.execute(sql: """
                CREATE TABLE outbox (
                    seq INTEGER PRIMARY KEY AUTOINCREMENT,
                    id TEXT NOT NULL UNIQUE,
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
                CREATE INDEX outbox_due ON outbox(priority, seq) WHERE rejected_reason IS NULL;
                CREATE INDEX outbox_rejected ON outbox(rejected_at) WHERE rejected_reason IS NOT NULL;
                CREATE INDEX outbox_breadcrumbs ON outbox(seq) WHERE kind = 'breadcrumb';
                -- Kept counts, so neither the size bound nor status has to count rows.
                CREATE TABLE outbox_stats (
                    id INTEGER PRIMARY KEY CHECK (id = 1),
                    depth INTEGER NOT NULL,
                    rejected INTEGER NOT NULL,
                    shed_breadcrumbs INTEGER NOT NULL
                );
                INSERT INTO outbox_stats VALUES (1, 0, 0, 0);
                CREATE TRIGGER outbox_added AFTER INSERT ON outbox BEGIN
                    UPDATE outbox_stats SET depth = depth + 1 WHERE id = 1;
                END;
                CREATE TRIGGER outbox_removed AFTER DELETE ON outbox BEGIN
                    UPDATE outbox_stats SET depth = depth - 1,
                        rejected = rejected - (OLD.rejected_reason IS NOT NULL) WHERE id = 1;
                END;
                CREATE TRIGGER outbox_refused AFTER UPDATE OF rejected_reason ON outbox
                    WHEN OLD.rejected_reason IS NULL AND NEW.rejected_reason IS NOT NULL BEGIN
                    UPDATE outbox_stats SET rejected = rejected + 1 WHERE id = 1;
                END;
                """)
        }
    }

    /// Queues an item inside the caller's transaction, shedding the oldest breadcrumbs when
    /// the outbox is past its bound.
    /// - Parameter id: the idempotency id; a check uses its check id, so the center's record
    ///   and the terminal's journal name the same check.
    func enqueue(_ db: Database, id: String? = nil, kind: OutboxKind, hit: Bool = false, payload: String, now: Int64) throws {
        let statement = try db.cachedStatement(sql: """
            INSERT INTO outbox (id, kind, priority, payload, created_at) VALUES (?, ?, ?, ?, ?)
            """)
        try statement.execute(arguments: [id ?? UUIDv7.make(milliseconds: now), kind.rawValue, OutboxItem.priority(kind, hit: hit), payload, now])
        let depth = try Int.fetchOne(db.cachedStatement(sql: "SELECT depth - rejected FROM outbox_stats WHERE id = 1"))!
        if depth > outboxLimits.maxItems {
            try db.execute(sql: """
                DELETE FROM outbox WHERE seq IN (
                    SELECT seq FROM outbox WHERE kind = 'breadcrumb' AND rejected_reason IS NULL ORDER BY seq LIMIT ?)
                """, arguments: [depth - outboxLimits.maxItems])
            let shed = db.changesCount
            if shed > 0 {
                try db.execute(sql: "UPDATE outbox_stats SET shed_breadcrumbs = shed_breadcrumbs + ? WHERE id = 1", arguments: [shed])
            }
        }
    }

    /// The next batch to send: due items, highest priority first and in order of creation
    /// within a priority, up to `maxItems` and `maxBytes` of payload (at least one item).
    public func dueOutboxItems(now: Int64, maxItems: Int, maxBytes: Int) throws -> [OutboxItem] {
        try read { db in
            let rows = try Row.fetchCursor(db, sql: """
                SELECT id, kind, priority, payload, created_at, attempts FROM outbox
                WHERE rejected_reason IS NULL AND next_attempt_at <= ?
                ORDER BY priority, seq LIMIT ?
                """, arguments: [now, maxItems])
            var items: [OutboxItem] = []
            var bytes = 0
            while let row = try rows.next() {
                let payload: String = row[3]
                if !items.isEmpty, bytes + payload.utf8.count > maxBytes { break }
                bytes += payload.utf8.count
                items.append(OutboxItem(id: row[0], kind: OutboxKind(rawValue: row[1]) ?? .check, priority: row[2],
                                        payload: payload, createdAt: row[4], attempts: row[5]))
            }
            return items
        }
    }

    /// Records the center's answer for a batch in one transaction: acknowledged items are
    /// deleted, rejected ones kept with their reason, the rest counted as an attempt and
    /// held back until `retryAt`.
    public func settleOutbox(_ answers: [String: OutboxSettlement], now: Int64, retryAt: Int64) throws {
        try write { db in
            let delete = try db.cachedStatement(sql: "DELETE FROM outbox WHERE id = ?")
            let reject = try db.cachedStatement(sql: """
                UPDATE outbox SET rejected_reason = ?, rejected_at = ?, attempts = attempts + 1
                WHERE id = ? AND rejected_reason IS NULL
                """)
            let retry = try db.cachedStatement(sql: """
                UPDATE outbox SET attempts = attempts + 1, next_attempt_at = ?, last_error = 'not acknowledged' WHERE id = ?
                """)
            for (id, answer) in answers {
                switch answer {
                case .acknowledged: try delete.execute(arguments: [id])
                case .rejected(let reason): try reject.execute(arguments: [reason, now, id])
                case .retry: try retry.execute(arguments: [retryAt, id])
                }
            }
        }
    }

    /// A batch that did not reach the center (or got no usable answer): each item's attempt
    /// is counted and the error kept for diagnostics; when to try again is the uploader's
    /// backoff, so a returning link is used at once.
    public func outboxAttemptFailed(ids: [String], error: String) throws {
        try write { db in
            let statement = try db.cachedStatement(sql: "UPDATE outbox SET attempts = attempts + 1, last_error = ? WHERE id = ?")
            for id in ids { try statement.execute(arguments: [error, id]) }
        }
    }

    public func outboxStatus(now: Int64) throws -> OutboxStatus {
        try read { db in
            let stats = try Row.fetchOne(db, sql: "SELECT depth, rejected, shed_breadcrumbs FROM outbox_stats WHERE id = 1")!
            let depth: Int = stats[0], rejected: Int = stats[1]
            let pending = depth - rejected
            var byKind: [String: Int] = [:]
            var oldest: Int64?
            if pending > 0 {
                for row in try Row.fetchAll(db, sql: "SELECT kind, count(*) FROM outbox WHERE rejected_reason IS NULL GROUP BY kind") {
                    byKind[row[0]] = row[1]
                }
                oldest = try Int64.fetchOne(db, sql: "SELECT min(created_at) FROM outbox WHERE rejected_reason IS NULL")
            }
            let warning: String? = pending >= outboxLimits.warnItems
                ? "\(pending) items wait for the center (bound \(outboxLimits.maxItems); breadcrumbs are shed past it)"
                : nil
            return OutboxStatus(pending: pending, pendingByKind: byKind, oldestAgeSeconds: oldest.map { max(0, (now - $0) / 1000) },
                                rejected: rejected, shedBreadcrumbs: stats[2], maxItems: outboxLimits.maxItems,
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
