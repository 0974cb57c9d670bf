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

    public init(status: Status, lastFix: Fix?, fixAgeSeconds: Double?, gpsd: String, detail: String? = nil) {
        self.status = status
        self.lastFix = lastFix
        self.fixAgeSeconds = fixAgeSeconds
        self.gpsd = gpsd
        self.detail = detail
    }

    /// Whether `lastFix` is a current position.
    public var hasCurrentFix: Bool { status == .fix2D || status == .fix3D }

    /// What a check record carries: the last fix and its age (even when stale — the answer's
    /// status says so), or only the status.
    public var forCheck: CheckLocation {
        guard let fix = lastFix else { return CheckLocation(status: status.rawValue) }
        return CheckLocation(status: status.rawValue, latitude: fix.latitude, longitude: fix.longitude, fixTime: fix.time,
                             ageSeconds: fixAgeSeconds, horizontalError: fix.horizontalError)
    }
}
