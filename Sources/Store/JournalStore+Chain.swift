import FieldWire
import Foundation
import GRDB
import Watchlist

/// The audit chain (docs/sync-protocol.md, "Audit chain"): every check record and session
/// event is numbered and carries the SHA-256 of the previous one's payload, in the same
/// transaction that records it. An edit, a deletion or a reordering in journal.db or in the
/// outbox breaks the chain where the center can see it.
extension JournalStore {
    static func registerChain(_ migrator: inout DatabaseMigrator) {
        migrator.registerMigration("v10-audit-chain") { db in
            // Records from before the chain keep NULL: the chain starts at the first new one.
            try db.execute(sql: """
                ALTER TABLE check_record ADD COLUMN chain_seq INTEGER;
                ALTER TABLE check_record ADD COLUMN chain_hash TEXT;
                CREATE TABLE audit_event (
                    id TEXT PRIMARY KEY NOT NULL,
                    at TEXT NOT NULL,
                    officer_id TEXT NOT NULL,
                    event TEXT NOT NULL,
                    payload TEXT NOT NULL,
                    chain_seq INTEGER NOT NULL,
                    chain_hash TEXT NOT NULL
                );
                """)
        }
    }

    /// The newest chained record; nil before the first.
    public func chainHead() throws -> ChainHead? {
        if case .some(let cached) = chain.withLock({ $0 }) { return cached }
        return try read { db in try Self.readHead(db) }
    }

    /// Makes the next link, lets `payload` encode the record with it, and advances the head
    /// — inside the caller's write transaction. A transaction that fails afterwards leaves
    /// the head to be read again from what committed.
    func chained(_ db: Database, _ payload: (ChainLink) throws -> String) throws -> (json: String, link: (seq: Int64, hash: String)) {
        let head: ChainHead? = try chain.withLock { cached in
            if let known = cached { return known }
            let read = try Self.readHead(db)
            cached = .some(read)
            return read
        }
        let link = ChainLink(seq: (head?.seq ?? 0) + 1, prev: head?.hash ?? ChainLink.genesis)
        let json = try payload(link)
        let hash = ChainLink.hash(json)
        chain.withLock { $0 = .some(ChainHead(seq: link.seq, hash: hash)) }
        db.afterNextTransaction(onCommit: { _ in }, onRollback: { [weak self] _ in
            self?.chain.withLock { $0 = nil }
        })
        return (json, (link.seq, hash))
    }

    static func readHead(_ db: Database) throws -> ChainHead? {
        try Row.fetchOne(db, sql: """
            SELECT chain_seq, chain_hash FROM (
                SELECT chain_seq, chain_hash FROM check_record WHERE chain_seq IS NOT NULL
                UNION ALL SELECT chain_seq, chain_hash FROM audit_event)
            ORDER BY chain_seq DESC LIMIT 1
            """).map { ChainHead(seq: $0[0], hash: $0[1]) }
    }

    /// Durably records a session event, chained, and queues it for the center.
    public func recordAudit(_ event: AuditEventPayload, now: Int64) throws {
        var event = event
        try enqueueing { db in
            let (payload, link) = try chained(db) { link in
                event.chain = link
                return WireJSON.text(event)
            }
            try db.execute(sql: """
                INSERT INTO audit_event (id, at, officer_id, event, payload, chain_seq, chain_hash) VALUES (?, ?, ?, ?, ?, ?, ?)
                """, arguments: [event.eventId, event.at, event.officerId, event.event.rawValue, payload, link.seq, link.hash])
            try enqueue(db, id: event.eventId, kind: .audit, payload: payload, now: now)
        }
    }

    /// Session events, newest first (`mpolicectl status` and tests).
    public func recentAuditEvents(limit: Int = 50) throws -> [AuditEventPayload] {
        try read { db in
            try String.fetchAll(db, sql: "SELECT payload FROM audit_event ORDER BY chain_seq DESC LIMIT ?", arguments: [limit])
                .map { try WireJSON.decode(AuditEventPayload.self, from: Data($0.utf8)) }
        }
    }
}
