import FieldWire
import Foundation
import GRDB
import Watchlist

/// A bulletin as the terminal holds it.
public struct HeldBulletin: Sendable, Equatable, Codable {
    public var bulletin: Bulletin
    /// `poll` (pushed) or `manifest` (listed with the lists).
    public var source: String
    /// ISO 8601.
    public var receivedAt: String
}

/// What a check needs of one held bulletin, without a query: the subject as it matches.
struct BulletinIndexEntry: Sendable {
    var bulletin: Bulletin
    /// Plates: the confusable-folded key (`Plate.foldedKey`).
    var foldedPlate: String?
}

extension JournalStore {
    static func registerBulletinsAndConfirmations(_ migrator: inout DatabaseMigrator) {
        migrator.registerMigration("v13-bulletins-confirmations") { db in
            try db.execute(sql: """
                -- Held until expiry, then deleted (a replay after that is refused as expired).
                CREATE TABLE bulletin (
                    id TEXT PRIMARY KEY NOT NULL,
                    serial INTEGER NOT NULL,
                    expires_at INTEGER NOT NULL,
                    body TEXT NOT NULL,
                    source TEXT NOT NULL,
                    received_at TEXT NOT NULL
                );
                CREATE TABLE hit_confirmation (
                    request_id TEXT PRIMARY KEY NOT NULL,
                    check_id TEXT NOT NULL UNIQUE,
                    urgent INTEGER NOT NULL,
                    requested_at TEXT NOT NULL,
                    deadline_ms INTEGER NOT NULL,
                    officer_id TEXT NOT NULL,
                    answer TEXT,
                    answered_at TEXT,
                    overdue_at TEXT
                );
                CREATE INDEX hit_confirmation_pending ON hit_confirmation(deadline_ms) WHERE answer IS NULL AND overdue_at IS NULL;
                """)
        }
    }

    // MARK: Bulletins

    private func bulletinIndex() throws -> [BulletinIndexEntry] {
        if let kept = bulletins.withLock({ $0 }) { return kept }
        let held = try heldBulletins()
        let index = held.map(Self.indexEntry)
        bulletins.withLock { $0 = index }
        return index
    }

    static func indexEntry(_ held: HeldBulletin) -> BulletinIndexEntry {
        let b = held.bulletin
        return BulletinIndexEntry(bulletin: b, foldedPlate: b.subject.kind == .plate ? (try? Plate(parsing: b.subject.value))?.foldedKey : nil)
    }

    /// Every held bulletin, by serial (expired ones too, until `dropExpiredBulletins`).
    public func heldBulletins() throws -> [HeldBulletin] {
        try read { db in
            try Row.fetchAll(db, sql: "SELECT body, source, received_at FROM bulletin ORDER BY serial").compactMap { r in
                guard let b = try? WireJSON.decode(Bulletin.self, from: Data((r[0] as String).utf8)) else { return nil }
                return HeldBulletin(bulletin: b, source: r[1], receivedAt: r[2])
            }
        }
    }

    /// Whether a bulletin with this id is held.
    public func holdsBulletin(id: String) -> Bool {
        ((try? bulletinIndex()) ?? []).contains { $0.bulletin.id == id }
    }

    /// Stores a verified bulletin; the next check matches it.
    /// - Returns: false when it was held already.
    @discardableResult
    public func storeBulletin(_ bulletin: Bulletin, source: String, now: Int64) throws -> Bool {
        let held = HeldBulletin(bulletin: bulletin, source: source, receivedAt: Timestamp.iso8601(milliseconds: now))
        let stored = try write { db -> Bool in
            try db.execute(sql: """
                INSERT OR IGNORE INTO bulletin (id, serial, expires_at, body, source, received_at) VALUES (?, ?, ?, ?, ?, ?)
                """, arguments: [bulletin.id, bulletin.serial, bulletin.expiresAt, WireJSON.text(bulletin), source, held.receivedAt])
            let inserted = db.changesCount > 0
            try Self.raiseCursor(db, "bulletin_cursor", to: bulletin.serial)
            return inserted
        }
        if stored { bulletins.withLock { $0?.append(Self.indexEntry(held)) } }
        return stored
    }

    /// The serial the push resumes after.
    public func bulletinCursor() throws -> Int64 {
        try read { db in try Self.cursor(db, "bulletin_cursor") }
    }

    /// Moves the push's cursor on (never back): what the center answered, held or not.
    public func raiseBulletinCursor(to serial: Int64) throws {
        try write { db in try Self.raiseCursor(db, "bulletin_cursor", to: serial) }
    }

    /// Deletes the bulletins past their expiry.
    /// - Parameter now: the judged time, Unix seconds.
    /// - Returns: those dropped.
    public func dropExpiredBulletins(now: Int64) throws -> [Bulletin] {
        let expired = try bulletinIndex().map(\.bulletin).filter { $0.expiresAt <= now }
        guard !expired.isEmpty else { return [] }
        try write { db in
            for b in expired { try db.execute(sql: "DELETE FROM bulletin WHERE id = ?", arguments: [b.id]) }
        }
        let gone = Set(expired.map(\.id))
        bulletins.withLock { $0?.removeAll { gone.contains($0.bulletin.id) } }
        return expired
    }

    /// Deletes every held bulletin (a `wipe-lists` order: they name plates and people like
    /// the lists do). The push's cursor stays; the next manifest lists the unexpired ones again.
    public func forgetBulletins() throws {
        try write { db in try db.execute(sql: "DELETE FROM bulletin") }
        bulletins.withLock { $0 = [] }
    }

    /// Unexpired held bulletins, by serial.
    /// - Parameter now: the judged time, Unix seconds.
    public func activeBulletins(now: Int64) throws -> [Bulletin] {
        try bulletinIndex().map(\.bulletin).filter { $0.expiresAt > now }
    }

    /// The unexpired bulletins an answer's query matches: a plate exactly, or by
    /// OCR-confusable characters (a possible hit); an ID exactly; a name's folded key with
    /// its date of birth. No query: the index is in memory.
    /// - Parameter now: the judged time, Unix seconds.
    public func bulletinMatches(for answer: CheckAnswer, now: Int64, language: MessageLanguage) -> [CheckAnswer.BulletinMatch] {
        guard let index = try? bulletinIndex(), !index.isEmpty else { return [] }
        let q = answer.query
        let foldedPlate = answer.kind == .plate ? (try? Plate(parsing: q.normalized))?.foldedKey : nil
        var found: [CheckAnswer.BulletinMatch] = []
        for entry in index where entry.bulletin.expiresAt > now {
            let b = entry.bulletin
            let how: CheckAnswer.Match.How?
            switch (answer.kind, b.subject.kind) {
            case (.plate, .plate):
                how = b.subject.value == q.normalized ? .exact : (entry.foldedPlate != nil && entry.foldedPlate == foldedPlate ? .confusable : nil)
            case (.personID, .personID):
                how = b.subject.value == q.normalized ? .exact : nil
            case (.personName, .personName):
                how = b.subject.value == q.normalized && b.subject.dateOfBirth == q.dateOfBirth ? .nameAndDateOfBirth : nil
            default:
                how = nil
            }
            guard let how else { continue }
            let notice = Notice(how == .confusable ? "bulletin.confusable" : "bulletin.match", ["summary": b.summary])
            found.append(CheckAnswer.BulletinMatch(
                bulletinId: b.id, how: how, subject: b.subject.shown, summary: b.summary, region: b.region,
                issuedAt: Timestamp.iso8601(milliseconds: b.issuedAt * 1000), expiresAt: Timestamp.iso8601(milliseconds: b.expiresAt * 1000),
                reason: MessageCatalogue.message(notice, in: language)))
        }
        return found.sorted { ($0.how == .confusable ? 1 : 0) < ($1.how == .confusable ? 1 : 0) }
    }
}
