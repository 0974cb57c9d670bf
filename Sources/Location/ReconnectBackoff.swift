/// Delays between attempts to reach gpsd: doubling from `initial` up to `maximum`, with
/// up to `jitter` (a fraction) added so a fleet does not retry in step; reset on success.
public struct ReconnectBackoff: Sendable {
    public let initial: Double
    public let maximum: Double
    public let jitter: Double
    private var failures = 0

    public init(initial: Double = 0.25, maximum: Double = 4, jitter: Double = 0.1) {
        precondition(initial > 0 && maximum >= initial && jitter >= 0)
        self.initial = initial
        self.maximum = maximum
        self.jitter = jitter
    }

    /// Records a failed attempt and returns the seconds to wait before the next, given a
    /// random fraction in 0..<1.
    public mutating func failed(random: Double) -> Double {
        let base = min(maximum, initial * Double(1 << min(failures, 20)))
        failures += 1
        return min(maximum, base * (1 + jitter * random))
    }

    public mutating func succeeded() { failures = 0 }
}
