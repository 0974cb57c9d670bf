import FieldWire
import Foundation
import GRDB
import Watchlist

/// A hit confirmation as the terminal tracks it: asked, then answered by the center or
/// overdue (still answered when the answer comes late).
public struct HitConfirmation: Sendable, Equatable, Codable {
    public enum State: String, Sendable, Codable {
        /// Queued or sent; no answer yet, the deadline not passed.
        case pending
        case answered
        /// The deadline passed without an answer (the answer may still come).
        case overdue
    }

    public var requestId: String
    public var checkId: String
    public var urgent: Bool
    /// ISO 8601.
    public var requestedAt: String
    /// ISO 8601: 10 minutes after the request when urgent, an hour otherwise.
    public var deadline: String
    public var officerId: String
    public var state: State
    /// The center's answer, once it came.
    public var answer: HitConfirmationAnswer?
    /// ISO 8601, at the terminal.
    public var answeredAt: String?
    /// ISO 8601: when the deadline was raised as passed.
    public var overdueAt: String?
}

extension JournalStore {
    /// Queues a confirmation request for a hit or possible hit, first in the outbox; asked
    /// again for the same check, it is that request (nothing new is queued).
    /// - Returns: the confirmation and whether it was asked now.
    /// - Throws: `FieldOperationError` (`check.unknown`, `check.not-a-hit`).
    public func requestConfirmation(checkId: String, urgent: Bool, officerId: String, unitId: String,
                                    now: Int64) throws -> (HitConfirmation, asked: Bool) {
        if let asked = try confirmation(checkId: checkId) { return (asked, false) }
        let requestId = UUIDv7.make(milliseconds: now)
        let deadline = now + HitConfirmationRequest.answerWithin(urgent: urgent) * 1000
        let at = Timestamp.iso8601(milliseconds: now)
        try enqueueing { db in
            guard let row = try Row.fetchOne(db, sql: "SELECT kind, query, outcome, matches FROM check_record WHERE id = ?", arguments: [checkId]) else {
                throw FieldOperationError(.unknownCheck, "no check \(checkId) in this terminal's journal")
            }
            // A document found invalid is no watch-list hit: nothing to confirm or record.
            guard let outcome = CheckAnswer.Outcome(rawValue: row[2]), outcome >= .possibleHit else {
                throw FieldOperationError(.notAHit, "check \(checkId) matched nothing: only a hit or possible hit is confirmed")
            }
            let matches = (try? WireJSON.decode([CheckRecordPayload.Match].self, from: Data((row[3] as String).utf8))) ?? []
            try db.execute(sql: """
                INSERT INTO hit_confirmation (request_id, check_id, urgent, requested_at, deadline_ms, officer_id) VALUES (?, ?, ?, ?, ?, ?)
                """, arguments: [requestId, checkId, urgent, at, deadline, officerId])
            let request = HitConfirmationRequest(requestId: requestId, checkId: checkId, kind: row[0], query: row[1], matches: matches,
                                                 urgent: urgent, requestedAt: at, deadline: Timestamp.iso8601(milliseconds: deadline),
                                                 officerId: officerId, unitId: unitId)
            try enqueue(db, id: requestId, kind: .hitConfirmation, payload: WireJSON.text(request), now: now)
        }
        return (try confirmation(checkId: checkId)!, true)
    }

    public func confirmation(checkId: String) throws -> HitConfirmation? {
        try read { db in
            try Row.fetchOne(db, sql: """
                SELECT request_id, check_id, urgent, requested_at, deadline_ms, officer_id, answer, answered_at, overdue_at
                FROM hit_confirmation WHERE check_id = ?
                """, arguments: [checkId]).map(Self.confirmation)
        }
    }

    static func confirmation(_ r: Row) -> HitConfirmation {
        let answer = (r[6] as String?).flatMap { try? WireJSON.decode(HitConfirmationAnswer.self, from: Data($0.utf8)) }
        let overdueAt: String? = r[8]
        return HitConfirmation(requestId: r[0], checkId: r[1], urgent: r[2], requestedAt: r[3],
                               deadline: Timestamp.iso8601(milliseconds: r[4]), officerId: r[5],
                               state: answer != nil ? .answered : (overdueAt != nil ? .overdue : .pending),
                               answer: answer, answeredAt: r[7], overdueAt: overdueAt)
    }

    /// Stores the center's answers (each once) and moves the poll's cursor past them.
    /// - Returns: the confirmations answered now.
    public func storeConfirmationAnswers(_ answers: [HitConfirmationAnswer], now: Int64) throws -> [HitConfirmation] {
        guard !answers.isEmpty else { return [] }
        let at = Timestamp.iso8601(milliseconds: now)
        let checks = try write { db -> [String] in
            var answered: [String] = []
            for answer in answers {
                try db.execute(sql: "UPDATE hit_confirmation SET answer = ?, answered_at = ? WHERE request_id = ? AND answer IS NULL",
                               arguments: [WireJSON.text(answer), at, answer.requestId])
                if db.changesCount > 0 { answered.append(answer.checkId) }
                try Self.raiseCursor(db, "confirmation_cursor", to: answer.cursor)
            }
            return answered
        }
        return try checks.compactMap { try confirmation(checkId: $0) }
    }

    /// The cursor the answers resume after.
    public func confirmationCursor() throws -> Int64 {
        try read { db in try Self.cursor(db, "confirmation_cursor") }
    }

    /// Marks the unanswered requests whose deadline has passed.
    /// - Returns: those that became overdue now.
    public func markOverdueConfirmations(now: Int64) throws -> [HitConfirmation] {
        // Most rounds find nothing due: no write transaction for them (the deadline watch asks each time it wakes).
        guard let nearest = try nextConfirmationDeadline(), nearest <= now else { return [] }
        let at = Timestamp.iso8601(milliseconds: now)
        let checks = try write { db -> [String] in
            let due = try String.fetchAll(db, sql: """
                SELECT check_id FROM hit_confirmation WHERE answer IS NULL AND overdue_at IS NULL AND deadline_ms <= ?
                """, arguments: [now])
            for check in due { try db.execute(sql: "UPDATE hit_confirmation SET overdue_at = ? WHERE check_id = ?", arguments: [at, check]) }
            return due
        }
        return try checks.compactMap { try confirmation(checkId: $0) }
    }

    /// The nearest deadline of an unanswered request not yet raised as overdue (Unix ms).
    public func nextConfirmationDeadline() throws -> Int64? {
        try read { db in
            try Int64.fetchOne(db, sql: "SELECT min(deadline_ms) FROM hit_confirmation WHERE answer IS NULL AND overdue_at IS NULL")
        }
    }

    /// Requests the center has not answered yet (pending or overdue).
    public func confirmationsAwaited() throws -> Int {
        try read { db in try Int.fetchOne(db, sql: "SELECT count(*) FROM hit_confirmation WHERE answer IS NULL") ?? 0 }
    }
}
