import FieldWire
import Foundation

/// Lock and wipe orders (docs/sync-protocol.md, "Orders"): numbered per unit, signed with
/// the orders key, kept as sent; served over the dispatch long poll and published as
/// `orders/<unit>.json` for terminals that only reach the static server.
extension UplinkDatabase {
    /// An order as `mpolice-central order list` shows it: what was sent and what the
    /// terminal answered.
    public struct OrderStatus: Encodable, Sendable {
        public var unit: String
        public var sequence: Int64
        public var kind: TerminalOrder.Kind
        public var issuedAt: Int64
        public var expiresAt: Int64
        /// `executed` or `refused` once the terminal acknowledged it.
        public var outcome: String?
        public var reason: String?
        public var acknowledgedAt: String?
    }

    /// Signs and queues the unit's next order; returns it with its envelope.
    public func createOrder(unit: String, kind: TerminalOrder.Kind, certificateSHA256: String?, eraseKeySlots: Bool,
                            validFor: Int64, key: SigningKey, now: Int64) throws -> (TerminalOrder, SignedEnvelope) {
        try backend.write { db in
            // One unit's orders are numbered one at a time (PostgreSQL: other center processes wait).
            if db.dialect == .postgres { _ = try db.query("SELECT pg_advisory_xact_lock(hashtext(?))", "order:\(unit)") }
            let sequence = (try db.queryOne("SELECT max(sequence) FROM terminal_order WHERE unit = ?", unit)?.optionalInt(0) ?? 0) + 1
            let order = TerminalOrder(kind: kind, unit: unit, certificateSHA256: certificateSHA256?.lowercased(), sequence: sequence,
                                      issuedAt: now, expiresAt: now + validFor, eraseKeySlots: eraseKeySlots ? true : nil)
            let envelope = try order.signed(by: [key])
            try db.execute("""
                INSERT INTO terminal_order (unit, sequence, kind, issued_at, expires_at, envelope) VALUES (?, ?, ?, ?, ?, ?)
                """, unit, sequence, kind.rawValue, order.issuedAt, order.expiresAt, WireJSON.text(envelope))
            try db.notify(.unit(unit))
            return (order, envelope)
        }
    }

    /// The unit's unexpired orders after `sequence`, oldest first.
    public func orders(unit: String, after sequence: Int64 = 0, now: Int64) throws -> [SignedEnvelope] {
        try backend.read { db in try orders(db, unit: unit, after: sequence, now: now) }
    }

    func orders(_ db: any SQLSession, unit: String, after sequence: Int64, now: Int64) throws -> [SignedEnvelope] {
        try db.query("SELECT envelope FROM terminal_order WHERE unit = ? AND sequence > ? AND expires_at > ? ORDER BY sequence", unit, sequence, now)
            .map { try WireJSON.decode(SignedEnvelope.self, from: Data($0.text(0).utf8)) }
    }

    /// Every order of `unit` (or of all units), with the terminal's acknowledgement.
    public func orderStatuses(unit: String?) throws -> [OrderStatus] {
        try backend.read { db in
            let d = db.dialect
            return try db.query("""
                SELECT o.unit, o.sequence, o.kind, o.issued_at, o.expires_at,
                       \(d.jsonText("i.payload", "outcome")), \(d.jsonText("i.payload", "reason")), \(d.jsonText("i.payload", "at"))
                FROM terminal_order o
                LEFT JOIN item i ON i.unit = o.unit AND i.kind = 'order-ack' AND \(d.jsonInteger("i.payload", "sequence")) = o.sequence
                    AND i.received_seq = (SELECT max(received_seq) FROM item j WHERE j.unit = o.unit AND j.kind = 'order-ack'
                                          AND \(d.jsonInteger("j.payload", "sequence")) = o.sequence)
                WHERE CAST(?1 AS TEXT) IS NULL OR o.unit = ?1 ORDER BY o.unit, o.sequence
                """, unit).map {
                OrderStatus(unit: $0.text(0), sequence: $0.int(1), kind: TerminalOrder.Kind(rawValue: $0.text(2)) ?? .lock, issuedAt: $0.int(3),
                            expiresAt: $0.int(4), outcome: $0.optionalText(5), reason: $0.optionalText(6), acknowledgedAt: $0.optionalText(7))
            }
        }
    }

    /// Writes `orders/<unit>.json` (the unit's unexpired orders) into a published directory,
    /// atomically and world-readable like every published file.
    public func publishOrders(unit: String, to directory: URL, now: Int64) throws {
        let feed = OrderFeed(orders: try orders(unit: unit, now: now))
        let url = directory.appendingPathComponent(OrderFeed.path(unit: unit))
        try FileManager.default.createDirectory(at: url.deletingLastPathComponent(), withIntermediateDirectories: true,
                                                attributes: [.posixPermissions: 0o755])
        try WireJSON.encode(feed).write(to: url, options: .atomic)
        try FileManager.default.setAttributes([.posixPermissions: 0o644], ofItemAtPath: url.path)
    }
}
