import FieldWire
import GRDB

/// A position report kept for the center: where the unit was, when.
public struct Breadcrumb: Sendable, Equatable {
    public var id: Int64
    /// The fix's own time, ISO 8601.
    public var fixTime: String
    public var latitude: Double
    public var longitude: Double
    public var speed: Double?
    public var track: Double?
    public var horizontalError: Double?
    public var mode: String

    public init(id: Int64 = 0, fixTime: String, latitude: Double, longitude: Double, speed: Double?, track: Double?,
                horizontalError: Double?, mode: String) {
        self.id = id
        self.fixTime = fixTime
        self.latitude = latitude
        self.longitude = longitude
        self.speed = speed
        self.track = track
        self.horizontalError = horizontalError
        self.mode = mode
    }
}

extension Breadcrumb {
    /// The breadcrumb as the center receives it.
    var payload: BreadcrumbPayload {
        BreadcrumbPayload(fixTime: fixTime, latitude: latitude, longitude: longitude, speed: speed, track: track,
                          horizontalError: horizontalError, mode: mode)
    }
}

extension JournalStore {
    /// Appends a breadcrumb to the local track and queues it for the center; when more than
    /// `maxStored` are kept, thins the track's older half to half its density — in the same
    /// transaction, so the table never exceeds its bound by more than one row. The newest
    /// breadcrumb is never removed. (The outbox has its own bound: `OutboxLimits`.)
    /// - Returns: how many older breadcrumbs were dropped from the track.
    @discardableResult
    public func appendBreadcrumb(_ crumb: Breadcrumb, maxStored: Int, now: Int64) throws -> Int {
        precondition(maxStored >= 4)
        return try enqueueing { db in
            try db.execute(sql: """
                INSERT INTO breadcrumb (fix_time, latitude, longitude, speed, track, horizontal_error, mode)
                VALUES (?, ?, ?, ?, ?, ?, ?)
                """, arguments: [crumb.fixTime, crumb.latitude, crumb.longitude, crumb.speed, crumb.track,
                                 crumb.horizontalError, crumb.mode])
            try enqueue(db, kind: .breadcrumb, payload: WireJSON.text(crumb.payload), now: now)
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

    /// Breadcrumbs oldest first.
    public func breadcrumbs(limit: Int = 100_000) throws -> [Breadcrumb] {
        try read { db in
            try Row.fetchAll(db, sql: """
                SELECT id, fix_time, latitude, longitude, speed, track, horizontal_error, mode
                FROM breadcrumb ORDER BY id LIMIT ?
                """, arguments: [limit]).map {
                Breadcrumb(id: $0[0], fixTime: $0[1], latitude: $0[2], longitude: $0[3], speed: $0[4], track: $0[5],
                           horizontalError: $0[6], mode: $0[7])
            }
        }
    }
}
