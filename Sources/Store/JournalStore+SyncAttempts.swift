import GRDB

/// One run of the list sync, as status and diagnostics show it.
public struct SyncAttempt: Sendable, Equatable, Codable {
    public enum Outcome: String, Sendable, Codable {
        /// New lists (or a newer manifest) applied.
        case updated
        /// The center had nothing newer.
        case upToDate = "up-to-date"
        case failed
    }

    /// Unix milliseconds.
    public var startedAt: Int64
    public var durationMs: Int64
    public var outcome: Outcome
    /// The failure's stable reason code (`SyncFailure.Reason`), when it failed.
    public var reason: String?
    public var message: String?
    /// The manifest applied or refused, when one was read.
    public var manifestSequence: Int64?
    public var bytesFetched: Int64

    public init(startedAt: Int64, durationMs: Int64, outcome: Outcome, reason: String?, message: String?,
                manifestSequence: Int64?, bytesFetched: Int64) {
        (self.startedAt, self.durationMs, self.outcome, self.reason) = (startedAt, durationMs, outcome, reason)
        (self.message, self.manifestSequence, self.bytesFetched) = (message, manifestSequence, bytesFetched)
    }
}

extension JournalStore {
    /// How many attempts the journal keeps.
    static let keptSyncAttempts = 200

    public func recordSyncAttempt(_ attempt: SyncAttempt) throws {
        try write { db in
            try db.execute(sql: """
                INSERT INTO sync_attempt (started_at, duration_ms, outcome, reason, message, manifest_sequence, bytes_fetched)
                VALUES (?, ?, ?, ?, ?, ?, ?)
                """, arguments: [attempt.startedAt, attempt.durationMs, attempt.outcome.rawValue, attempt.reason, attempt.message,
                                 attempt.manifestSequence, attempt.bytesFetched])
            try db.execute(sql: "DELETE FROM sync_attempt WHERE id <= (SELECT max(id) FROM sync_attempt) - ?",
                           arguments: [Self.keptSyncAttempts])
        }
    }

    /// The latest attempts, newest first.
    public func syncAttempts(limit: Int = 10) throws -> [SyncAttempt] {
        try read { db in
            try Row.fetchAll(db, sql: """
                SELECT started_at, duration_ms, outcome, reason, message, manifest_sequence, bytes_fetched
                FROM sync_attempt ORDER BY id DESC LIMIT ?
                """, arguments: [limit]).map { row in
                SyncAttempt(startedAt: row[0], durationMs: row[1], outcome: SyncAttempt.Outcome(rawValue: row[2]) ?? .failed,
                            reason: row[3], message: row[4], manifestSequence: row[5], bytesFetched: row[6])
            }
        }
    }
}
