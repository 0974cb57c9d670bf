import FieldWire
import GRDB

/// Health reports for the center's fleet view (`HealthReport`): queued like any outbox
/// item, with the outbox's depth read in the same transaction.
extension JournalStore {
    /// Queues the report `make` builds from the outbox's depth (this report not counted),
    /// and remembers when.
    @discardableResult
    public func enqueueHealthReport(now: Int64, _ make: (_ outboxDepth: Int) -> HealthReport) throws -> HealthReport {
        try enqueueing { db in
            let report = make(try Self.pendingCount(db))
            try enqueue(db, id: report.reportId, kind: .health, payload: WireJSON.text(report), now: now)
            try db.execute(sql: "INSERT OR REPLACE INTO uplink_state (key, value) VALUES ('health_reported_at', ?)", arguments: [String(now)])
            return report
        }
    }

    /// When the last health report was queued (Unix milliseconds); nil before the first.
    public func lastHealthReportAt() throws -> Int64? {
        try read { db in
            try String.fetchOne(db, sql: "SELECT value FROM uplink_state WHERE key = 'health_reported_at'").flatMap { Int64($0) }
        }
    }
}
