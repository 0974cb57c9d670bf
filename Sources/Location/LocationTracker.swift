import Watchlist

/// The pure state machine behind `LocationState`: fed connection events, gpsd reports and
/// the monotonic time, it decides the status. No I/O, so tests drive it with made-up times.
public struct LocationTracker: Sendable {
    /// What one gpsd report said, reduced to what the state needs.
    public struct Report: Sendable, Equatable {
        /// Number of receivers gpsd has, when the report carried the device list.
        public var deviceCount: Int?
        /// The fix, when the report carried a mode; mode `.noFix` carries no position.
        public var mode: Fix.Mode?
        public var fix: Fix?

        public init(deviceCount: Int? = nil, mode: Fix.Mode? = nil, fix: Fix? = nil) {
            (self.deviceCount, self.mode, self.fix) = (deviceCount, mode, fix)
        }
    }

    public let gpsd: String
    /// A fix older than this (seconds, monotonic) is stale.
    public let maxFixAge: Double
    /// A fix whose own time differs from the wall clock by more than this is time-suspect.
    public let maxTimeSkew: Double

    private var connected = false
    private var disconnectReason: String? = "not connected yet"
    private var deviceCount: Int?
    private var mode: Fix.Mode?
    private var lastFix: Fix?
    /// Monotonic seconds when `lastFix` arrived (a fix with a new time of its own).
    private var lastFixAt: Double?
    private var lastFixTimeSuspect = false

    public init(gpsd: String, maxFixAge: Double, maxTimeSkew: Double = 86_400) {
        (self.gpsd, self.maxFixAge, self.maxTimeSkew) = (gpsd, maxFixAge, maxTimeSkew)
    }

    public mutating func didConnect() {
        connected = true
        disconnectReason = nil
        deviceCount = nil
        mode = nil
    }

    public mutating func disconnected(_ reason: String) {
        connected = false
        disconnectReason = reason
        mode = nil
    }

    /// - Parameters:
    ///   - now: monotonic seconds.
    ///   - wallClock: the terminal's Unix time, seconds, to judge the fix's own time by.
    public mutating func received(_ report: Report, at now: Double, wallClock: Double) {
        if let count = report.deviceCount { deviceCount = count }
        if let reportMode = report.mode {
            mode = reportMode
            // A receiver reporting a mode exists even if the device list has not come yet.
            if (deviceCount ?? 0) == 0 { deviceCount = 1 }
        }
        if let fix = report.fix, fix.mode != .noFix {
            // Only a fix whose own time moved on is news; gpsd repeats the last one.
            if lastFix?.timeSeconds != fix.timeSeconds || lastFixAt == nil {
                lastFixAt = now
            }
            lastFix = fix
            lastFixTimeSuspect = abs(fix.timeSeconds - wallClock) > maxTimeSkew
        }
    }

    /// The state at monotonic time `now`.
    public func state(at now: Double) -> LocationState {
        let age = lastFixAt.map { max(0, now - $0) }
        let status: LocationState.Status
        if !connected {
            status = .noGpsd
        } else if deviceCount == 0 {
            status = .noDevice
        } else if mode == .twoD || mode == .threeD {
            // The receiver's word is not enough: a position must have come, recently.
            if let age {
                status = age > maxFixAge ? .stale : (mode == .threeD ? .fix3D : .fix2D)
            } else {
                status = .noFix
            }
        } else if mode == nil, deviceCount == nil {
            status = .noDevice
        } else {
            status = .noFix
        }
        return LocationState(status: status, lastFix: lastFix, fixAgeSeconds: age, gpsd: gpsd,
                             detail: connected ? nil : disconnectReason, timeSuspect: lastFix != nil && lastFixTimeSuspect)
    }
}
