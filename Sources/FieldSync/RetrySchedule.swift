import TerminalConfiguration

/// The waits of a recurring job under a `RetryPolicy`: periodically with jitter (so a fleet
/// does not fetch in step), and after a failure with exponential backoff, also jittered,
/// capped. Pure: the caller supplies the random draw and does the waiting.
public struct RetrySchedule: Sendable, Equatable {
    public let policy: RetryPolicy
    public private(set) var consecutiveFailures = 0

    public init(_ policy: RetryPolicy = RetryPolicy()) {
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
