import FieldWire
import Foundation
import GRDB
import Watchlist

/// Urgent bulletins and hit confirmation at the center (docs/sync-protocol.md, "Bulletins",
/// "Hit confirmation"): bulletins numbered center-wide and signed with the manifest key,
/// pushed over the dispatch long poll to the units of their region and listed in the next
/// manifest; the center's current records (kept by `publish --uplink-db`), against which a
/// unit's confirmation request is answered the moment it is ingested.
extension UplinkDatabase {
    static func registerBulletinsAndConfirmations(_ migrator: inout DatabaseMigrator) {
        migrator.registerMigration("v7-bulletins-confirmations") { db in
            try db.execute(sql: """
                CREATE TABLE bulletin (
                    serial INTEGER PRIMARY KEY AUTOINCREMENT,
                    id TEXT NOT NULL UNIQUE,
                    kind TEXT NOT NULL,
                    region TEXT,
                    summary TEXT NOT NULL,
                    issued_at INTEGER NOT NULL,
                    expires_at INTEGER NOT NULL,
                    envelope TEXT NOT NULL
                );
                -- The records as last published: active, or withdrawn since a version.
                CREATE TABLE center_record (
                    list TEXT NOT NULL,
                    record_id TEXT NOT NULL,
                    fields TEXT NOT NULL,
                    active INTEGER NOT NULL,
                    version INTEGER NOT NULL,
                    changed_at INTEGER NOT NULL,
                    PRIMARY KEY (list, record_id)
                ) WITHOUT ROWID;
                -- Answers to units' confirmation requests: the poll's cursor.
                CREATE TABLE confirmation (
                    cursor INTEGER PRIMARY KEY AUTOINCREMENT,
                    unit TEXT NOT NULL,
                    request_id TEXT NOT NULL,
                    answer TEXT NOT NULL,
                    UNIQUE (unit, request_id)
                );
                CREATE INDEX confirmation_unit ON confirmation(unit, cursor);
                """)
        }
    }

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
        try pool.write { db in
            let serial = (try Int64.fetchOne(db, sql: "SELECT max(serial) FROM bulletin") ?? 0) + 1
            let bulletin = Bulletin(id: UUIDv7.make(milliseconds: now * 1000), serial: serial, subject: subject, region: region,
                                    summary: summary, issuedAt: now, expiresAt: now + validFor)
            try bulletin.validate()
            let envelope = try bulletin.signed(by: [key])
            try db.execute(sql: """
                INSERT INTO bulletin (serial, id, kind, region, summary, issued_at, expires_at, envelope) VALUES (?, ?, ?, ?, ?, ?, ?, ?)
                """, arguments: [serial, bulletin.id, subject.kind.rawValue, region, summary, now, bulletin.expiresAt, WireJSON.text(envelope)])
            return bulletin
        }
    }

    /// Unexpired bulletins after `serial` for a unit in `region` (nil: every region's), by
    /// serial, with the highest serial looked at.
    public func bulletins(after serial: Int64, region: String?, now: Int64) throws -> (envelopes: [SignedEnvelope], cursor: Int64) {
        try pool.read { db in
            let rows = try Row.fetchAll(db, sql: """
                SELECT serial, envelope FROM bulletin
                WHERE serial > ?1 AND expires_at > ?2 AND (?3 IS NULL OR region IS NULL OR region = ?3) ORDER BY serial
                """, arguments: [serial, now, region])
            return (try rows.map { try WireJSON.decode(SignedEnvelope.self, from: Data(($0[1] as String).utf8)) },
                    rows.last.map { $0[0] } ?? serial)
        }
    }

    /// Every bulletin, newest first.
    public func bulletinStatuses(now: Int64) throws -> [BulletinStatus] {
        try pool.read { db in
            try Row.fetchAll(db, sql: "SELECT serial, id, kind, region, summary, issued_at, expires_at FROM bulletin ORDER BY serial DESC").map {
                BulletinStatus(serial: $0[0], id: $0[1], kind: $0[2], region: $0[3], summary: $0[4], issuedAt: $0[5], expiresAt: $0[6],
                               expired: ($0[6] as Int64) <= now)
            }
        }
    }

    // MARK: The center's records

    /// Makes `center_record` hold `rows` as the list's version `version`: new and changed
    /// rows active, rows no longer there withdrawn (kept, with when). One transaction.
    public func keepRecords(_ list: ListKind, rows: [ListRow], version: Int64, now: Int64) throws {
        let columns = Dataset.columns(list)
        try pool.write { db in
            try db.execute(sql: "CREATE TEMP TABLE IF NOT EXISTS published (record_id TEXT PRIMARY KEY) WITHOUT ROWID")
            try db.execute(sql: "DELETE FROM published")
            let upsert = try db.cachedStatement(sql: """
                INSERT INTO center_record (list, record_id, fields, active, version, changed_at) VALUES (?1, ?2, ?3, 1, ?4, ?5)
                ON CONFLICT (list, record_id) DO UPDATE SET fields = excluded.fields, active = 1, version = excluded.version,
                    changed_at = excluded.changed_at
                WHERE center_record.fields != excluded.fields OR center_record.active = 0
                """)
            let seen = try db.cachedStatement(sql: "INSERT INTO published (record_id) VALUES (?)")
            for row in rows {
                var fields: [String: String] = [:]
                for (name, value) in zip(columns, row.fields) { if let value, !value.isEmpty { fields[name] = value } }
                try upsert.execute(arguments: [list.rawValue, row.recordId, WireJSON.text(fields), version, now])
                try seen.execute(arguments: [row.recordId])
            }
            try db.execute(sql: """
                UPDATE center_record SET active = 0, version = ?2, changed_at = ?3
                WHERE list = ?1 AND active = 1 AND record_id NOT IN (SELECT record_id FROM published)
                """, arguments: [list.rawValue, version, now])
            try db.execute(sql: "DELETE FROM published")
        }
    }

    /// How many records of `list` the center holds active.
    public func activeRecordCount(_ list: ListKind) throws -> Int {
        try pool.read { db in
            try Int.fetchOne(db, sql: "SELECT count(*) FROM center_record WHERE list = ? AND active = 1", arguments: [list.rawValue]) ?? 0
        }
    }

    // MARK: Confirmation

    /// Answers a unit's confirmation request from the center's records now, and queues the
    /// answer for the unit's long poll (once per request).
    func answerConfirmation(_ db: Database, unit: String, _ request: HitConfirmationRequest, now: Int64) throws {
        var records: [HitConfirmationAnswer.Record] = []
        for match in request.matches {
            if match.list == CheckRecordPayload.bulletinsList {
                let row = try Row.fetchOne(db, sql: "SELECT expires_at, summary FROM bulletin WHERE id = ?", arguments: [match.recordId])
                let state: HitConfirmationAnswer.State = row == nil ? .notFound : ((row![0] as Int64) > now / 1000 ? .stillActive : .noLongerActive)
                records.append(.init(list: match.list, recordId: match.recordId, state: state,
                                     fields: row.map { ["summary": $0[1]] },
                                     since: state == .noLongerActive ? row.map { Timestamp.iso8601(milliseconds: ($0[0] as Int64) * 1000) } : nil))
                continue
            }
            let row = try Row.fetchOne(db, sql: "SELECT fields, active, changed_at FROM center_record WHERE list = ? AND record_id = ?",
                                       arguments: [match.list, match.recordId])
            guard let row else {
                records.append(.init(list: match.list, recordId: match.recordId, state: .notFound))
                continue
            }
            let active: Bool = row[1]
            records.append(.init(list: match.list, recordId: match.recordId, state: active ? .stillActive : .noLongerActive,
                                 fields: try? WireJSON.decode([String: String].self, from: Data((row[0] as String).utf8)),
                                 since: active ? nil : Timestamp.iso8601(milliseconds: (row[2] as Int64) * 1000)))
        }
        try db.execute(sql: "INSERT INTO confirmation (unit, request_id, answer) VALUES (?, ?, '') ON CONFLICT (unit, request_id) DO NOTHING",
                       arguments: [unit, request.requestId])
        guard db.changesCount == 1 else { return }
        let cursor = db.lastInsertedRowID
        let answer = HitConfirmationAnswer(cursor: cursor, requestId: request.requestId, checkId: request.checkId, records: records,
                                           answeredAt: Timestamp.iso8601(milliseconds: now))
        try db.execute(sql: "UPDATE confirmation SET answer = ? WHERE cursor = ?", arguments: [WireJSON.text(answer), cursor])
    }

    /// The unit's confirmation answers after `cursor`, oldest first.
    public func confirmations(unit: String, after cursor: Int64) throws -> [HitConfirmationAnswer] {
        try pool.read { db in
            try String.fetchAll(db, sql: "SELECT answer FROM confirmation WHERE unit = ? AND cursor > ? ORDER BY cursor",
                                arguments: [unit, cursor]).map { try WireJSON.decode(HitConfirmationAnswer.self, from: Data($0.utf8)) }
        }
    }
}
