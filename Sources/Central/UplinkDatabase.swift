import FieldWire
import Foundation
import GRDB
import Watchlist

/// The reference central's uplink store (`central.db`): every item a unit delivered, once
/// per idempotency id, and the dispatches queued for units.
public final class UplinkDatabase: Sendable {
    let pool: DatabasePool

    public init(path: String) throws {
        var config = Configuration()
        config.busyMode = .timeout(10)
        do {
            pool = try DatabasePool(path: path, configuration: config)
        } catch {
            throw CentralError("cannot open \(path): \(error)")
        }
        var migrator = DatabaseMigrator()
        migrator.registerMigration("v1") { db in
            try db.execute(sql: """
                CREATE TABLE item (
                    received_seq INTEGER PRIMARY KEY AUTOINCREMENT,
                    id TEXT NOT NULL UNIQUE,
                    unit TEXT NOT NULL,
                    kind TEXT NOT NULL,
                    created_at INTEGER NOT NULL,
                    payload TEXT NOT NULL,
                    received_at INTEGER NOT NULL
                );
                CREATE TABLE dispatch (
                    cursor INTEGER PRIMARY KEY AUTOINCREMENT,
                    id TEXT NOT NULL UNIQUE,
                    unit TEXT NOT NULL,
                    created_at TEXT NOT NULL,
                    priority TEXT NOT NULL,
                    summary TEXT NOT NULL,
                    latitude REAL,
                    longitude REAL,
                    status TEXT NOT NULL DEFAULT 'queued'
                );
                CREATE INDEX dispatch_unit ON dispatch(unit, cursor);
                """)
        }
        migrator.registerMigration("v2-unique-per-unit") { db in
            // An item id is unique per unit: one unit's ids cannot collide with — or be
            // used to shadow — another's.
            try db.execute(sql: """
                CREATE TABLE item_per_unit (
                    received_seq INTEGER PRIMARY KEY AUTOINCREMENT,
                    id TEXT NOT NULL,
                    unit TEXT NOT NULL,
                    kind TEXT NOT NULL,
                    created_at INTEGER NOT NULL,
                    payload TEXT NOT NULL,
                    received_at INTEGER NOT NULL,
                    UNIQUE (unit, id)
                );
                INSERT INTO item_per_unit SELECT received_seq, id, unit, kind, created_at, payload, received_at FROM item;
                DROP TABLE item;
                ALTER TABLE item_per_unit RENAME TO item;
                """)
        }
        migrator.registerMigration("v3-deliveries") { db in
            // Every answer given, per delivery: what makes "exactly once" checkable from
            // outside (one `accepted` per item, any number of `duplicate`s after it).
            try db.execute(sql: """
                CREATE TABLE delivery (
                    seq INTEGER PRIMARY KEY AUTOINCREMENT,
                    unit TEXT NOT NULL,
                    id TEXT NOT NULL,
                    status TEXT NOT NULL,
                    received_at INTEGER NOT NULL
                );
                """)
        }
        migrator.registerMigration("v4-audit-chain") { db in
            // The newest chain head each unit reported, and chained items by position.
            try db.execute(sql: """
                CREATE TABLE unit_chain (
                    unit TEXT PRIMARY KEY NOT NULL,
                    seq INTEGER NOT NULL,
                    hash TEXT NOT NULL,
                    reported_at INTEGER NOT NULL
                );
                ALTER TABLE item ADD COLUMN chain_seq INTEGER;
                CREATE INDEX item_chain ON item(unit, chain_seq) WHERE chain_seq IS NOT NULL;
                """)
        }
        migrator.registerMigration("v5-orders") { db in
            // Lock and wipe orders, numbered per unit, each kept as the signed document sent.
            try db.execute(sql: """
                CREATE TABLE terminal_order (
                    unit TEXT NOT NULL,
                    sequence INTEGER NOT NULL,
                    kind TEXT NOT NULL,
                    issued_at INTEGER NOT NULL,
                    expires_at INTEGER NOT NULL,
                    envelope TEXT NOT NULL,
                    PRIMARY KEY (unit, sequence)
                );
                """)
        }
        try migrator.migrate(pool)
    }

    // MARK: Items

    /// Stores a batch in one transaction; each item accepted, a duplicate, or rejected.
    func ingest(unit: String, _ items: [Result<UplinkItem, ItemRefusal>], chainHead: ChainHead? = nil, now: Int64) throws -> [UplinkAnswer.Result] {
        try pool.write { db in
            if let chainHead {
                try db.execute(sql: """
                    INSERT INTO unit_chain (unit, seq, hash, reported_at) VALUES (?1, ?2, ?3, ?4)
                    ON CONFLICT (unit) DO UPDATE SET seq = excluded.seq, hash = excluded.hash, reported_at = excluded.reported_at
                        WHERE excluded.seq >= unit_chain.seq
                    """, arguments: [unit, chainHead.seq, chainHead.hash, now])
            }
            let insert = try db.cachedStatement(sql: """
                INSERT INTO item (id, unit, kind, created_at, payload, received_at, chain_seq) VALUES (?, ?, ?, ?, ?, ?, ?)
                ON CONFLICT (unit, id) DO NOTHING
                """)
            var results: [UplinkAnswer.Result] = []
            for parsed in items {
                let item: UplinkItem
                switch parsed {
                case .failure(let refusal):
                    results.append(.init(id: refusal.id, status: .rejected, reason: refusal.reason))
                    continue
                case .success(let i): item = i
                }
                if case .check(let check) = item.payload, check.unitId != unit {
                    results.append(.init(id: item.id, status: .rejected,
                                         reason: "check.unit-mismatch: the record names unit \(check.unitId); the certificate is unit \(unit)"))
                    continue
                }
                if case .audit(let event) = item.payload, event.unitId != unit {
                    results.append(.init(id: item.id, status: .rejected,
                                         reason: "check.unit-mismatch: the event names unit \(event.unitId); the certificate is unit \(unit)"))
                    continue
                }
                if case .orderAck(let ack) = item.payload, ack.unitId != unit {
                    results.append(.init(id: item.id, status: .rejected,
                                         reason: "check.unit-mismatch: the acknowledgement names unit \(ack.unitId); the certificate is unit \(unit)"))
                    continue
                }
                if case .dispatchStatus(let change) = item.payload {
                    guard try Bool.fetchOne(db, sql: "SELECT 1 FROM dispatch WHERE id = ? AND unit = ?", arguments: [change.dispatchId, unit]) == true else {
                        results.append(.init(id: item.id, status: .rejected, reason: "dispatch.unknown: no dispatch \(change.dispatchId) for unit \(unit)"))
                        continue
                    }
                }
                try insert.execute(arguments: [item.id, unit, item.kind.rawValue, item.createdAt, item.payload.json, now, item.payload.chain?.seq])
                guard db.changesCount == 1 else {
                    results.append(.init(id: item.id, status: .duplicate))
                    continue
                }
                if case .dispatchStatus(let change) = item.payload {
                    try db.execute(sql: "UPDATE dispatch SET status = ? WHERE id = ?", arguments: [change.status.rawValue, change.dispatchId])
                }
                results.append(.init(id: item.id, status: .accepted))
            }
            // Every answer logged, in the same transaction as what it answers for.
            let log = try db.cachedStatement(sql: "INSERT INTO delivery (unit, id, status, received_at) VALUES (?, ?, ?, ?)")
            for result in results { try log.execute(arguments: [unit, result.id, result.status.rawValue, now]) }
            return results
        }
    }

    /// A received item, as `mpolice-central records` lists it.
    public struct Record: Encodable, Sendable {
        public var receivedSeq: Int64
        public var id: String
        public var unit: String
        public var kind: OutboxKind
        public var createdAt: Int64
        public var receivedAt: Int64
        public var payload: UplinkPayload
    }

    /// One answer the center gave to one delivery of an item.
    public struct Delivery: Encodable, Sendable {
        public var seq: Int64
        public var unit: String
        public var id: String
        public var status: String
        public var receivedAt: Int64
    }

    /// Every answer given, in order.
    public func deliveries() throws -> [Delivery] {
        try pool.read { db in
            try Row.fetchAll(db, sql: "SELECT seq, unit, id, status, received_at FROM delivery ORDER BY seq").map {
                Delivery(seq: $0[0], unit: $0[1], id: $0[2], status: $0[3], receivedAt: $0[4])
            }
        }
    }

    public func records(kind: OutboxKind? = nil) throws -> [Record] {
        try pool.read { db in
            try Row.fetchAll(db, sql: """
                SELECT received_seq, id, unit, kind, created_at, received_at, payload FROM item
                WHERE ?1 IS NULL OR kind = ?1 ORDER BY received_seq
                """, arguments: [kind?.rawValue]).map { row in
                let kind = OutboxKind(rawValue: row[3]) ?? .check
                return Record(receivedSeq: row[0], id: row[1], unit: row[2], kind: kind, createdAt: row[4], receivedAt: row[5],
                              payload: try UplinkPayload.decode(kind: kind, json: row[6]))
            }
        }
    }

    // MARK: Dispatch

    /// Queues a dispatch for `unit`; returns it as the unit will receive it.
    public func createDispatch(unit: String, priority: String, summary: String, latitude: Double?, longitude: Double?,
                               now: Int64) throws -> DispatchOrder {
        let id = UUIDv7.make(milliseconds: now)
        let createdAt = Timestamp.iso8601(milliseconds: now)
        let cursor = try pool.write { db -> Int64 in
            try db.execute(sql: """
                INSERT INTO dispatch (id, unit, created_at, priority, summary, latitude, longitude) VALUES (?, ?, ?, ?, ?, ?, ?)
                """, arguments: [id, unit, createdAt, priority, summary, latitude, longitude])
            return db.lastInsertedRowID
        }
        return DispatchOrder(id: id, cursor: cursor, createdAt: createdAt, priority: priority, summary: summary,
                              latitude: latitude, longitude: longitude)
    }

    /// The unit's dispatches after `cursor`, oldest first.
    func dispatches(unit: String, after cursor: Int64, limit: Int = 100) throws -> [DispatchOrder] {
        try pool.read { db in
            try Row.fetchAll(db, sql: """
                SELECT id, cursor, created_at, priority, summary, latitude, longitude FROM dispatch
                WHERE unit = ? AND cursor > ? ORDER BY cursor LIMIT ?
                """, arguments: [unit, cursor, limit]).map {
                DispatchOrder(id: $0[0], cursor: $0[1], createdAt: $0[2], priority: $0[3], summary: $0[4], latitude: $0[5], longitude: $0[6])
            }
        }
    }
}
