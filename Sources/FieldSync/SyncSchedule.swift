/// When the next sync runs: periodically with jitter (so a fleet does not fetch in step),
/// and after a failure with exponential backoff, also jittered, capped. Pure: the caller
/// supplies the random draw and does the waiting.
public struct SyncSchedule: Sendable, Equatable {
    public struct Policy: Sendable, Equatable {
        /// Between successful syncs.
        public var interval: Duration
        /// ± this fraction of `interval` (0.1: 13.5 to 16.5 min for 15 min).
        public var jitter: Double
        /// The first retry after a failure; doubled with each further failure.
        public var firstRetry: Duration
        /// No retry waits longer than this.
        public var maxRetry: Duration

        public init(interval: Duration = .seconds(900), jitter: Double = 0.1, firstRetry: Duration = .seconds(30),
                    maxRetry: Duration = .seconds(1800)) {
            self.interval = interval
            self.jitter = jitter
            self.firstRetry = firstRetry
            self.maxRetry = maxRetry
        }
    }

    public let policy: Policy
    public private(set) var consecutiveFailures = 0

    public init(_ policy: Policy = Policy()) {
        self.policy = policy
    }

    /// The wait before the next run, after a run that succeeded or failed.
    /// - Parameter random: a uniform draw in [0, 1).
    public mutating func delay(afterSuccess succeeded: Bool, random: Double) -> Duration {
        if succeeded {
            consecutiveFailures = 0
            return policy.interval * (1 + policy.jitter * (2 * random - 1))
        }
        consecutiveFailures += 1
        // min(cap, first · 2^(n-1)), then "equal jitter": half fixed, half random.
        let exponent = min(consecutiveFailures - 1, 30)
        let base = min(policy.maxRetry, policy.firstRetry * Double(1 << exponent))
        return base * (0.5 + 0.5 * random)
    }
}
