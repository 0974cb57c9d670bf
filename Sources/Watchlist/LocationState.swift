import Watchlist

/// What the terminal knows about its position, stated honestly.
public struct LocationState: Sendable, Equatable, Codable {
    public enum Status: String, Sendable, Codable {
        /// gpsd cannot be reached.
        case noGpsd = "no-gpsd"
        /// gpsd answers but has no receiver attached.
        case noDevice = "no-device"
        /// The receiver reports, but has no position.
        case noFix = "no-fix"
        case fix2D = "2d"
        case fix3D = "3d"
        /// The last fix is older than the configured maximum age: no new fix has come.
        case stale
    }

    public var status: Status
    /// The latest fix with a position, however old (nil if none since start).
    public var lastFix: Fix?
    /// Seconds since `lastFix` arrived, by the monotonic clock.
    public var fixAgeSeconds: Double?
    /// gpsd's address, "host:port".
    public var gpsd: String
    /// Why gpsd is unreachable, when it is.
    public var detail: String?
    /// The last fix's own time is further from this terminal's clock than the configured
    /// bound (`gps.max_time_skew`): a receiver hit by the GPS week rollover reports dates
    /// 19.6 years off. Its position is shown, its time is not passed on as current.
    public var timeSuspect: Bool

    public init(status: Status, lastFix: Fix?, fixAgeSeconds: Double?, gpsd: String, detail: String? = nil, timeSuspect: Bool = false) {
        (self.status, self.lastFix, self.fixAgeSeconds, self.gpsd, self.detail) = (status, lastFix, fixAgeSeconds, gpsd, detail)
        self.timeSuspect = timeSuspect
    }

    /// Whether `lastFix` is a current position.
    public var hasCurrentFix: Bool { status == .fix2D || status == .fix3D }

    /// What a check record carries: the last fix and its age (even when stale — the answer's
    /// status says so), or only the status.
    public var forCheck: CheckLocation {
        guard let fix = lastFix else { return CheckLocation(status: status.rawValue) }
        // A fix whose own time cannot be believed keeps its position and its age (by the
        // terminal's monotonic clock), not its time.
        return CheckLocation(status: timeSuspect ? "time-suspect" : status.rawValue, latitude: fix.latitude, longitude: fix.longitude,
                             fixTime: timeSuspect ? nil : fix.time, ageSeconds: fixAgeSeconds, horizontalError: fix.horizontalError)
    }
}
