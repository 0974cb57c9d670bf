import FieldWire
import GRDB

extension JournalStore {
    /// Appends a breadcrumb to the local track and queues it for the center; when more than
    /// `maxStored` are kept, thins the track's older half to half its density — in the same
    /// transaction, so the table never exceeds its bound by more than one row. The newest
    /// breadcrumb is never removed. (The outbox has its own bound: `OutboxLimits`.)
    /// - Returns: how many older breadcrumbs were dropped from the track.
    @discardableResult
    public func appendBreadcrumb(_ crumb: BreadcrumbPayload, maxStored: Int, now: Int64) throws -> Int {
        precondition(maxStored >= 4)
        return try enqueueing { db in
            try db.execute(sql: """
                INSERT INTO breadcrumb (fix_time, latitude, longitude, speed, track, horizontal_error, mode)
                VALUES (?, ?, ?, ?, ?, ?, ?)
                """, arguments: [crumb.fixTime, crumb.latitude, crumb.longitude, crumb.speed, crumb.track,
                                 crumb.horizontalError, crumb.mode])
            // An emergency's breadcrumbs go with it, first.
            try enqueue(db, kind: .breadcrumb, priority: crumb.emergencyId == nil ? nil : OutboxKind.emergencyPriority,
                        payload: WireJSON.text(crumb), now: now)
            let count = try Int.fetchOne(db, sql: "SELECT count(*) FROM breadcrumb")!
            guard count > maxStored else { return 0 }
            // Every second row of the oldest half goes: the track keeps its shape, coarser.
            try db.execute(sql: """
                DELETE FROM breadcrumb WHERE id IN (
                    SELECT id FROM (
                        SELECT id, row_number() OVER (ORDER BY id) AS n FROM breadcrumb
                        ORDER BY id LIMIT ?
                    ) WHERE n % 2 = 0
                )
                """, arguments: [count / 2])
            return db.changesCount
        }
    }

    /// The local track, oldest first.
    public func breadcrumbs(limit: Int = 100_000) throws -> [BreadcrumbPayload] {
        try read { db in
            try Row.fetchAll(db, sql: """
                SELECT fix_time, latitude, longitude, speed, track, horizontal_error, mode
                FROM breadcrumb ORDER BY id LIMIT ?
                """, arguments: [limit]).map {
                BreadcrumbPayload(fixTime: $0[0], latitude: $0[1], longitude: $0[2], speed: $0[3], track: $0[4],
                                  horizontalError: $0[5], mode: $0[6])
            }
        }
    }
}
