import FieldWire
import Foundation
import Watchlist

/// Urgent bulletins and hit confirmation at the center (docs/sync-protocol.md, "Bulletins",
/// "Hit confirmation"): bulletins numbered center-wide and signed with the manifest key,
/// pushed over the dispatch long poll to the units of their region and listed in the next
/// manifest; the center's current records (kept by `publish --uplink-db`), against which a
/// unit's confirmation request is answered the moment it is ingested.
extension UplinkDatabase {
    // MARK: Bulletins

    /// A bulletin as `mpolice-central bulletin list` shows it.
    public struct BulletinStatus: Encodable, Sendable {
        public var serial: Int64
        public var id: String
        public var kind: String
        public var region: String?
        public var summary: String
        public var issuedAt: Int64
        public var expiresAt: Int64
        public var expired: Bool
    }

    /// Signs and stores the next bulletin: the long polls of the region's units answer with it
    /// at once, and the next `publish --uplink-db` lists it in the manifest.
    public func createBulletin(subject: Bulletin.Subject, region: String?, summary: String, validFor: Int64, key: SigningKey,
                               now: Int64) throws -> Bulletin {
        try backend.write { db in
            // Serials are handed out one at a time (PostgreSQL: other center processes wait).
            if db.dialect == .postgres { try db.execute("LOCK TABLE bulletin IN EXCLUSIVE MODE") }
            let serial = (try db.queryOne("SELECT max(serial) FROM bulletin")?.optionalInt(0) ?? 0) + 1
            let bulletin = Bulletin(id: UUIDv7.make(milliseconds: now * 1000), serial: serial, subject: subject, region: region,
                                    summary: summary, issuedAt: now, expiresAt: now + validFor)
            try bulletin.validate()
            let envelope = try bulletin.signed(by: [key])
            try db.execute("""
                INSERT INTO bulletin (serial, id, kind, region, summary, issued_at, expires_at, envelope) VALUES (?, ?, ?, ?, ?, ?, ?, ?)
                """, serial, bulletin.id, subject.kind.rawValue, region, summary, now, bulletin.expiresAt, WireJSON.text(envelope))
            try db.notify(.everyone)
            return bulletin
        }
    }

    /// Unexpired bulletins after `serial` for a unit in `region` (nil: every region's), by
    /// serial, with the highest serial looked at.
    public func bulletins(after serial: Int64, region: String?, now: Int64) throws -> (envelopes: [SignedEnvelope], cursor: Int64) {
        try backend.read { db in try bulletins(db, after: serial, region: region, now: now) }
    }

    func bulletins(_ db: any SQLSession, after serial: Int64, region: String?, now: Int64) throws -> (envelopes: [SignedEnvelope], cursor: Int64) {
        let rows = try db.query("""
            SELECT serial, envelope FROM bulletin
            WHERE serial > ?1 AND expires_at > ?2 AND (CAST(?3 AS TEXT) IS NULL OR region IS NULL OR region = ?3) ORDER BY serial
            """, serial, now, region)
        return (try rows.map { try WireJSON.decode(SignedEnvelope.self, from: Data($0.text(1).utf8)) }, rows.last?.int(0) ?? serial)
    }

    /// Every bulletin, newest first.
    public func bulletinStatuses(now: Int64) throws -> [BulletinStatus] {
        try backend.read { db in
            try db.query("SELECT serial, id, kind, region, summary, issued_at, expires_at FROM bulletin ORDER BY serial DESC").map {
                BulletinStatus(serial: $0.int(0), id: $0.text(1), kind: $0.text(2), region: $0.optionalText(3), summary: $0.text(4),
                               issuedAt: $0.int(5), expiresAt: $0.int(6), expired: $0.int(6) <= now)
            }
        }
    }

    // MARK: The center's records

    /// Makes `center_record` hold `rows` as the list's version `version`: new and changed
    /// rows active, rows no longer there withdrawn (kept, with when). One transaction.
    public func keepRecords(_ list: ListKind, rows: [ListRow], version: Int64, now: Int64) throws {
        let columns = Dataset.columns(list)
        try backend.write { db in
            try db.execute(db.dialect == .sqlite ? "CREATE TEMP TABLE IF NOT EXISTS published (record_id TEXT PRIMARY KEY) WITHOUT ROWID"
                                                 : "CREATE TEMP TABLE IF NOT EXISTS published (record_id TEXT PRIMARY KEY)")
            try db.execute("DELETE FROM published")
            let stored = rows.map { row -> [any SQLBindable] in
                var fields: [String: String] = [:]
                for (name, value) in zip(columns, row.fields) { if let value, !value.isEmpty { fields[name] = value } }
                return [list.rawValue, row.recordId, WireJSON.text(fields), version, now]
            }
            try Self.insertRows(db, "INSERT INTO center_record (list, record_id, fields, active, version, changed_at) VALUES",
                                row: "(?, ?, ?, 1, ?, ?)", stored, suffix: """
                ON CONFLICT (list, record_id) DO UPDATE SET fields = excluded.fields, active = 1, version = excluded.version,
                    changed_at = excluded.changed_at
                WHERE center_record.fields != excluded.fields OR center_record.active = 0
                """)
            try Self.insertRows(db, "INSERT INTO published (record_id) VALUES", row: "(?)", rows.map { [$0.recordId] })
            try db.execute("""
                UPDATE center_record SET active = 0, version = ?2, changed_at = ?3
                WHERE list = ?1 AND active = 1 AND record_id NOT IN (SELECT record_id FROM published)
                """, list.rawValue, version, now)
            try db.execute("DELETE FROM published")
        }
    }

    /// How many records of `list` the center holds active.
    public func activeRecordCount(_ list: ListKind) throws -> Int {
        try backend.read { db in
            Int(try db.queryOne("SELECT count(*) FROM center_record WHERE list = ? AND active = 1", list.rawValue)?.int(0) ?? 0)
        }
    }

    // MARK: Confirmation

    /// Answers a unit's confirmation request from the center's records now, and queues the
    /// answer for the unit's long poll (once per request).
    func answerConfirmation(_ db: any SQLSession, unit: String, _ request: HitConfirmationRequest, now: Int64) throws {
        var records: [HitConfirmationAnswer.Record] = []
        for match in request.matches {
            if match.list == CheckRecordPayload.bulletinsList {
                let row = try db.queryOne("SELECT expires_at, summary FROM bulletin WHERE id = ?", match.recordId)
                let state: HitConfirmationAnswer.State = row.map { $0.int(0) > now / 1000 ? .stillActive : .noLongerActive } ?? .notFound
                records.append(.init(list: match.list, recordId: match.recordId, state: state,
                                     fields: row.map { ["summary": $0.text(1)] },
                                     since: state == .noLongerActive ? row.map { Timestamp.iso8601(milliseconds: $0.int(0) * 1000) } : nil))
                continue
            }
            let row = try db.queryOne("SELECT fields, active, changed_at FROM center_record WHERE list = ? AND record_id = ?",
                                      match.list, match.recordId)
            guard let row else {
                records.append(.init(list: match.list, recordId: match.recordId, state: .notFound))
                continue
            }
            let active = row.bool(1)
            records.append(.init(list: match.list, recordId: match.recordId, state: active ? .stillActive : .noLongerActive,
                                 fields: try? WireJSON.decode([String: String].self, from: Data(row.text(0).utf8)),
                                 since: active ? nil : Timestamp.iso8601(milliseconds: row.int(2) * 1000)))
        }
        guard let cursor = try db.queryOne("""
            INSERT INTO confirmation (unit, request_id, answer) VALUES (?, ?, '') ON CONFLICT (unit, request_id) DO NOTHING RETURNING cursor
            """, unit, request.requestId)?.int(0) else { return }
        let answer = HitConfirmationAnswer(cursor: cursor, requestId: request.requestId, checkId: request.checkId, records: records,
                                           answeredAt: Timestamp.iso8601(milliseconds: now))
        try db.execute("UPDATE confirmation SET answer = ? WHERE cursor = ?", WireJSON.text(answer), cursor)
        try db.notify(.unit(unit))
    }

    /// The unit's confirmation answers after `cursor`, oldest first.
    public func confirmations(unit: String, after cursor: Int64) throws -> [HitConfirmationAnswer] {
        try backend.read { db in try confirmations(db, unit: unit, after: cursor) }
    }

    func confirmations(_ db: any SQLSession, unit: String, after cursor: Int64) throws -> [HitConfirmationAnswer] {
        try db.query("SELECT answer FROM confirmation WHERE unit = ? AND cursor > ? ORDER BY cursor", unit, cursor)
            .map { try WireJSON.decode(HitConfirmationAnswer.self, from: Data($0.text(0).utf8)) }
    }
}
