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
        Self.registerFieldOperations(&migrator)
        Self.registerBulletinsAndConfirmations(&migrator)
        try migrator.migrate(pool)
    }

    // MARK: Items

    /// An emergency raised by a unit, as the center announces it.
    public struct RaisedEmergency: Sendable, Equatable, Codable {
        public var emergencyId: String
        public var unit: String
        public var officerId: String
        public var location: CheckLocation
        /// The nearest other units (straight-line), nearest first.
        public var nearestUnits: [UnitPosition]
    }

    /// A batch as stored: each item's answer, and the emergencies it raised.
    struct Ingested {
        var results: [UplinkAnswer.Result]
        var emergencies: [RaisedEmergency]
    }

    /// Stores a batch in one transaction; each item accepted, a duplicate, or rejected, and
    /// the emergencies the batch raised (an emergency item accepted now names the nearest
    /// other units, kept with the record).
    func ingest(unit: String, _ items: [Result<UplinkItem, ItemRefusal>], chainHead: ChainHead? = nil, now: Int64) throws -> Ingested {
        try pool.write { db in
            var emergencies: [RaisedEmergency] = []
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
                if let named = item.payload.unitId, named != unit {
                    results.append(.init(id: item.id, status: .rejected,
                                         reason: "check.unit-mismatch: the item names unit \(named); the certificate is unit \(unit)"))
                    continue
                }
                if case .dispatchStatus(let change) = item.payload, let refusal = try refusal(db, unit: unit, change) {
                    results.append(.init(id: item.id, status: .rejected, reason: refusal))
                    continue
                }
                try insert.execute(arguments: [item.id, unit, item.kind.rawValue, item.createdAt, item.payload.json, now, item.payload.chain?.seq])
                guard db.changesCount == 1 else {
                    results.append(.init(id: item.id, status: .duplicate))
                    continue
                }
                if case .dispatchStatus(let change) = item.payload { try apply(db, change) }
                if case .hitConfirmation(let request) = item.payload { try answerConfirmation(db, unit: unit, request, now: now) }
                try noteUnitState(db, unit: unit, item.payload, now: now)
                if case .emergency(let emergency) = item.payload, emergency.event == .raised {
                    let nearest = try emergency.location.latitude.flatMap { lat in try emergency.location.longitude.map { lon in
                        try unitsNear(db, latitude: lat, longitude: lon, excluding: unit, maxAge: 900, now: now, limit: 3)
                    } } ?? []
                    try db.execute(sql: "UPDATE item SET urgent = 1, nearest = ? WHERE unit = ? AND id = ?",
                                   arguments: [WireJSON.text(nearest), unit, item.id])
                    emergencies.append(RaisedEmergency(emergencyId: emergency.emergencyId, unit: unit, officerId: emergency.officerId,
                                                       location: emergency.location, nearestUnits: nearest))
                } else if item.kind == .emergency || item.payload.emergencyId != nil {
                    try db.execute(sql: "UPDATE item SET urgent = 1 WHERE unit = ? AND id = ?", arguments: [unit, item.id])
                }
                results.append(.init(id: item.id, status: .accepted))
            }
            // Every answer logged, in the same transaction as what it answers for.
            let log = try db.cachedStatement(sql: "INSERT INTO delivery (unit, id, status, received_at) VALUES (?, ?, ?, ?)")
            for result in results { try log.execute(arguments: [unit, result.id, result.status.rawValue, now]) }
            return Ingested(results: results, emergencies: emergencies)
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
        /// An emergency, or a breadcrumb sent while one was active.
        public var urgent: Bool
        /// For a raised emergency: the nearest other units when it arrived.
        public var nearestUnits: [UnitPosition]?
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

    /// Whether the unit's item `id` is stored (cheaper than `records` for a poll).
    public func holds(unit: String, id: String) throws -> Bool {
        try pool.read { db in try Bool.fetchOne(db, sql: "SELECT 1 FROM item WHERE unit = ? AND id = ?", arguments: [unit, id]) ?? false }
    }

    /// - Parameter urgentOnly: only emergencies and their breadcrumbs.
    public func records(kind: OutboxKind? = nil, urgentOnly: Bool = false) throws -> [Record] {
        try pool.read { db in
            try Row.fetchAll(db, sql: """
                SELECT received_seq, id, unit, kind, created_at, received_at, payload, urgent, nearest FROM item
                WHERE (?1 IS NULL OR kind = ?1) AND (?2 = 0 OR urgent = 1) ORDER BY received_seq
                """, arguments: [kind?.rawValue, urgentOnly]).map { row in
                let kind = OutboxKind(rawValue: row[3]) ?? .check
                let nearest: String? = row[8]
                return Record(receivedSeq: row[0], id: row[1], unit: row[2], kind: kind, createdAt: row[4], receivedAt: row[5],
                              payload: try UplinkPayload.decode(kind: kind, json: row[6]), urgent: row[7],
                              nearestUnits: try nearest.map { try WireJSON.decode([UnitPosition].self, from: Data($0.utf8)) })
            }
        }
    }
}
