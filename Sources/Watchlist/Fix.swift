import Foundation

/// One position report from the GNSS receiver, as gpsd gave it. Fields gpsd did not have
/// (NaN in libgps) are absent, never 0.
public struct Fix: Sendable, Equatable, Codable {
    public enum Mode: String, Sendable, Codable {
        case noFix = "no-fix"
        case twoD = "2d"
        case threeD = "3d"
    }

    /// The fix's own time (UTC, from the receiver), ISO 8601.
    public var time: String
    /// The same as Unix seconds, for arithmetic.
    public var timeSeconds: Double
    public var mode: Mode
    public var latitude: Double
    public var longitude: Double
    /// Metres above mean sea level.
    public var altitudeMSL: Double?
    /// Metres above the WGS84 ellipsoid.
    public var altitudeHAE: Double?
    /// Metres per second over ground.
    public var speed: Double?
    /// Degrees from true north.
    public var track: Double?
    /// Estimated horizontal error, metres (gpsd's eph).
    public var horizontalError: Double?
    public var satellitesUsed: Int?

    public init(time: String, timeSeconds: Double, mode: Mode, latitude: Double, longitude: Double,
                altitudeMSL: Double? = nil, altitudeHAE: Double? = nil, speed: Double? = nil, track: Double? = nil,
                horizontalError: Double? = nil, satellitesUsed: Int? = nil) {
        (self.time, self.timeSeconds, self.mode, self.latitude, self.longitude) = (time, timeSeconds, mode, latitude, longitude)
        (self.altitudeMSL, self.altitudeHAE, self.speed, self.track) = (altitudeMSL, altitudeHAE, speed, track)
        (self.horizontalError, self.satellitesUsed) = (horizontalError, satellitesUsed)
    }

    /// Great-circle distance in metres (haversine, mean Earth radius).
    public func distance(to other: Fix) -> Double {
        let r = 6_371_008.8
        let φ1 = latitude * .pi / 180, φ2 = other.latitude * .pi / 180
        let dφ = φ2 - φ1, dλ = (other.longitude - longitude) * .pi / 180
        let a = sin(dφ / 2) * sin(dφ / 2) + cos(φ1) * cos(φ2) * sin(dλ / 2) * sin(dλ / 2)
        return 2 * r * asin(min(1, a.squareRoot()))
    }
}
