import Foundation
import GRDB
import Watchlist

/// How much of what the center already has the journal keeps (`[journal]` in mpoliced.conf).
public struct JournalRetention: Sendable, Equatable {
    /// Check records (and cleared dispatches) older than this are deleted once the center
    /// has acknowledged them; those still in the outbox are never deleted.
    public var days: Int
    /// Items the center refused are kept for the helpdesk up to this many, newest first.
    public var maxRejected: Int

    public init(days: Int = 90, maxRejected: Int = 1_000) {
        self.days = days
        self.maxRejected = maxRejected
    }
}

extension JournalStore {
    /// What one pruning run removed.
    public struct Pruned: Sendable, Equatable {
        public var checkRecords = 0
        public var rejectedItems = 0
        public var dispatches = 0
    }

    /// Deletes what the retention allows: acknowledged check records and cleared dispatches
    /// older than `retention.days` at `now` (Unix milliseconds), and the oldest rejected
    /// items past `retention.maxRejected`. Nothing the center has not acknowledged goes.
    @discardableResult
    public func prune(_ retention: JournalRetention, now: Int64) throws -> Pruned {
        let cutoff = Timestamp.iso8601(milliseconds: now - Int64(retention.days) * 86_400_000)
        return try write { db in
            var pruned = Pruned()
            try db.execute(sql: """
                DELETE FROM check_record WHERE checked_at < ?1 AND id NOT IN (SELECT id FROM outbox)
                    AND coalesce(chain_seq < (SELECT max(chain_seq) FROM check_record), 1)
                """, arguments: [cutoff])
            pruned.checkRecords = db.changesCount
            // A confirmation goes with its check.
            try db.execute(sql: "DELETE FROM hit_confirmation WHERE check_id NOT IN (SELECT id FROM check_record)")
            // Session events go as check records do; the newest chained record of either
            // stays, so the chain goes on from it.
            try db.execute(sql: """
                DELETE FROM audit_event WHERE at < ?1 AND id NOT IN (SELECT id FROM outbox)
                    AND chain_seq < (SELECT max(chain_seq) FROM audit_event)
                """, arguments: [cutoff])
            try db.execute(sql: """
                DELETE FROM outbox WHERE rejected_reason IS NOT NULL AND seq NOT IN (
                    SELECT seq FROM outbox INDEXED BY outbox_rejected WHERE rejected_reason IS NOT NULL
                    ORDER BY rejected_at DESC LIMIT ?)
                """, arguments: [retention.maxRejected])
            pruned.rejectedItems = db.changesCount
            let stale = try String.fetchAll(db, sql: """
                SELECT d.id FROM dispatch d
                WHERE d.status = 'cleared' AND d.received_at < ?
                  AND NOT EXISTS (SELECT 1 FROM outbox o WHERE o.kind = 'dispatch-status' AND o.rejected_reason IS NULL
                                  AND o.payload LIKE '%' || d.id || '%')
                """, arguments: [cutoff])
            for id in stale {
                try db.execute(sql: "DELETE FROM dispatch_change WHERE dispatch_id = ?", arguments: [id])
                try db.execute(sql: "DELETE FROM dispatch WHERE id = ?", arguments: [id])
            }
            pruned.dispatches = stale.count
            return pruned
        }
    }
}
