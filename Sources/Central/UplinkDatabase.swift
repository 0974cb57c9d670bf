import FieldWire
import Foundation
import Watchlist

/// The reference central's uplink store (`central.db`): every item a unit delivered, once
/// per idempotency id, and the dispatches queued for units.
public final class UplinkDatabase: Sendable {
    let backend: any CenterBackend

    /// - Parameter location: a `postgresql://` (or `postgres://`) URL, or an SQLite file's
    ///   path (created when missing).
    public init(_ location: String, connections: Int = 8) throws {
        if location.hasPrefix("postgresql://") || location.hasPrefix("postgres://") {
            backend = try PostgresBackend(url: location, connections: connections)
        } else {
            backend = try SQLiteBackend(path: location)
        }
    }

    /// An uplink database that exists already (an SQLite file is not created).
    public static func existing(_ location: String) throws -> UplinkDatabase {
        if !location.contains("://"), !FileManager.default.fileExists(atPath: location) {
            throw CentralError("no uplink database at \(location)")
        }
        return try UplinkDatabase(location)
    }

    /// The engine, and where the database is (no password).
    public var description: String { "\(backend.dialect == .postgres ? "PostgreSQL" : "SQLite") \(backend.location)" }

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
        try backend.write { db in
            var emergencies: [RaisedEmergency] = []
            if let chainHead {
                try db.execute("""
                    INSERT INTO unit_chain (unit, seq, hash, reported_at) VALUES (?1, ?2, ?3, ?4)
                    ON CONFLICT (unit) DO UPDATE SET seq = excluded.seq, hash = excluded.hash, reported_at = excluded.reported_at
                        WHERE excluded.seq >= unit_chain.seq
                    """, unit, chainHead.seq, chainHead.hash, now)
            }
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
                let inserted = try db.execute("""
                    INSERT INTO item (id, unit, kind, created_at, payload, received_at, chain_seq) VALUES (?, ?, ?, ?, ?, ?, ?)
                    ON CONFLICT DO NOTHING
                    """, item.id, unit, item.kind.rawValue, item.createdAt, item.payload.json, now, item.payload.chain?.seq)
                guard inserted == 1 else {
                    results.append(.init(id: item.id, status: .duplicate))
                    continue
                }
                if case .dispatchStatus(let change) = item.payload { try apply(db, change) }
                if case .hitConfirmation(let request) = item.payload { try answerConfirmation(db, unit: unit, request, now: now) }
                if case .health(let report) = item.payload { try noteHealth(db, unit: unit, report, now: now) }
                try noteUnitState(db, unit: unit, item.payload, now: now)
                if case .emergency(let emergency) = item.payload, emergency.event == .raised {
                    let nearest = try emergency.location.latitude.flatMap { lat in try emergency.location.longitude.map { lon in
                        try unitsNear(db, latitude: lat, longitude: lon, excluding: unit, maxAge: 900, now: now, limit: 3)
                    } } ?? []
                    try db.execute("UPDATE item SET urgent = 1, nearest = ? WHERE unit = ? AND id = ? AND created_at = ?",
                                   WireJSON.text(nearest), unit, item.id, item.createdAt)
                    emergencies.append(RaisedEmergency(emergencyId: emergency.emergencyId, unit: unit, officerId: emergency.officerId,
                                                       location: emergency.location, nearestUnits: nearest))
                } else if item.kind == .emergency || item.payload.emergencyId != nil {
                    try db.execute("UPDATE item SET urgent = 1 WHERE unit = ? AND id = ? AND created_at = ?", unit, item.id, item.createdAt)
                }
                results.append(.init(id: item.id, status: .accepted))
            }
            // Every answer logged, in the same transaction as what it answers for.
            try Self.insertRows(db, "INSERT INTO delivery (unit, id, status, received_at) VALUES", row: "(?, ?, ?, ?)",
                                results.map { [unit, $0.id, $0.status.rawValue, now] })
            return Ingested(results: results, emergencies: emergencies)
        }
    }

    /// Inserts rows with one statement per up to 250 rows (a round trip each on PostgreSQL):
    /// `sql` ends with `VALUES`, `row` is one row's marks (`(?, ?, 1)`), `suffix` follows
    /// the rows (`ON CONFLICT …`).
    static func insertRows(_ db: any SQLSession, _ sql: String, row: String, _ rows: [[any SQLBindable]], suffix: String = "") throws {
        var start = 0
        while start < rows.count {
            let chunk = rows[start..<min(rows.count, start + 250)]
            try db.execute("\(sql) \(Array(repeating: row, count: chunk.count).joined(separator: ", ")) \(suffix)", chunk.flatMap { $0 })
            start += chunk.count
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
        try backend.read { db in
            try db.query("SELECT seq, unit, id, status, received_at FROM delivery ORDER BY seq").map {
                Delivery(seq: $0.int(0), unit: $0.text(1), id: $0.text(2), status: $0.text(3), receivedAt: $0.int(4))
            }
        }
    }

    /// Whether the unit's item `id` is stored (cheaper than `records` for a poll).
    public func holds(unit: String, id: String) throws -> Bool {
        try backend.read { db in try db.queryOne("SELECT 1 FROM item WHERE unit = ? AND id = ?", unit, id) != nil }
    }

    /// - Parameter urgentOnly: only emergencies and their breadcrumbs.
    public func records(kind: OutboxKind? = nil, urgentOnly: Bool = false) throws -> [Record] {
        try backend.read { db in
            try db.query("""
                SELECT received_seq, id, unit, kind, created_at, received_at, payload, urgent, nearest FROM item
                WHERE (CAST(?1 AS TEXT) IS NULL OR kind = ?1) AND (CAST(?2 AS INTEGER) = 0 OR urgent = 1) ORDER BY received_seq
                """, kind?.rawValue, urgentOnly).map { row in
                let kind = OutboxKind(rawValue: row.text(3)) ?? .check
                return Record(receivedSeq: row.int(0), id: row.text(1), unit: row.text(2), kind: kind, createdAt: row.int(4),
                              receivedAt: row.int(5), payload: try UplinkPayload.decode(kind: kind, json: row.text(6)), urgent: row.bool(7),
                              nearestUnits: try row.optionalText(8).map { try WireJSON.decode([UnitPosition].self, from: Data($0.utf8)) })
            }
        }
    }
}
