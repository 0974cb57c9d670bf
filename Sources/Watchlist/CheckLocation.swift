/// Where the terminal was when a check was made, as recorded with the check: the last fix
/// and its age, or the reason there was none.
public struct CheckLocation: Sendable, Equatable, Codable {
    /// The location service's status: "3d", "2d", "stale", "no-fix", "no-device", "no-gpsd",
    /// "time-suspect" (a position whose fix time is far from the terminal's clock), or
    /// "not-available" when the check ran without a location service (offline CLI).
    public var status: String
    public var latitude: Double?
    public var longitude: Double?
    /// The fix's own time, ISO 8601.
    public var fixTime: String?
    /// Seconds since the fix arrived.
    public var ageSeconds: Double?
    /// Metres.
    public var horizontalError: Double?

    public init(status: String, latitude: Double? = nil, longitude: Double? = nil, fixTime: String? = nil,
                ageSeconds: Double? = nil, horizontalError: Double? = nil) {
        (self.status, self.latitude, self.longitude, self.fixTime) = (status, latitude, longitude, fixTime)
        (self.ageSeconds, self.horizontalError) = (ageSeconds, horizontalError)
    }

    public static let notAvailable = CheckLocation(status: "not-available")
}
