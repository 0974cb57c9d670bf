import Watchlist

/// When a new fix becomes a breadcrumb: at least `minInterval` seconds (by the fix's own
/// time) and `minDistance` metres after the last one, or `maxInterval` seconds regardless,
/// so a parked unit still reports now and then.
public struct BreadcrumbPolicy: Sendable, Equatable {
    public var minInterval: Double
    public var minDistance: Double
    public var maxInterval: Double
    /// The most breadcrumbs kept while they wait for upload; older ones are thinned.
    public var maxStored: Int

    public init(minInterval: Double = 15, minDistance: Double = 50, maxInterval: Double = 300, maxStored: Int = 20_000) {
        (self.minInterval, self.minDistance, self.maxInterval, self.maxStored) = (minInterval, minDistance, maxInterval, maxStored)
    }

    public func shouldRecord(_ fix: Fix, after last: Fix?) -> Bool {
        guard fix.mode != .noFix else { return false }
        guard let last else { return true }
        let elapsed = fix.timeSeconds - last.timeSeconds
        if elapsed < 0 { return true }   // receiver time jumped back (replay, reset): start afresh
        if elapsed >= maxInterval { return true }
        return elapsed >= minInterval && fix.distance(to: last) >= minDistance
    }
}
