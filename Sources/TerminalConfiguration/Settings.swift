/// When a recurring job runs again: every `interval` ± `jitter` after a success, and after
/// a failure `firstRetry` doubling to `maxRetry`, jittered. The list sync, the uploads and
/// the dispatch poll each get one (`RetrySchedule` in FieldSync applies it).
public struct RetryPolicy: Sendable, Equatable {
    /// Between successful runs.
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

/// How large the outbox may grow while the terminal is offline. Past `maxItems`, the oldest
/// breadcrumbs are shed (they are thinned positions, and the local track keeps its own copy);
/// checks and dispatch status changes are never shed — the outbox then grows past the bound,
/// limited only by the disk. Status warns from `warnItems` on, long before.
public struct OutboxLimits: Sendable, Equatable {
    public var maxItems: Int
    public var warnItems: Int

    public init(maxItems: Int = 200_000, warnItems: Int = 50_000) {
        precondition(warnItems <= maxItems)
        self.maxItems = maxItems
        self.warnItems = warnItems
    }
}

/// Where gpsd is and how fixes are judged.
public struct GPSSettings: Sendable, Equatable {
    public var host: String
    public var port: String
    /// Seconds after which a fix that has not been renewed is stale.
    public var maxFixAge: Double
    /// Longest wait between reconnection attempts, seconds.
    public var maxBackoff: Double
    /// Seconds a fix's own time may differ from the terminal's clock before it is
    /// time-suspect (GPS week rollover: 19.6 years).
    public var maxTimeSkew: Double

    public init(host: String = "127.0.0.1", port: String = "2947", maxFixAge: Double = 10, maxBackoff: Double = 4,
                maxTimeSkew: Double = 86_400) {
        (self.host, self.port, self.maxFixAge, self.maxBackoff, self.maxTimeSkew) = (host, port, maxFixAge, maxBackoff, maxTimeSkew)
    }

    /// Parses "HOST:PORT" (or "[v6]:PORT", or "HOST" for the default port); nil when it is
    /// not an address with a port 1-65535.
    public static func address(_ text: String) -> (host: String, port: String)? {
        var host = text, port = "2947"
        if text.hasPrefix("["), let close = text.firstIndex(of: "]") {
            host = String(text[text.index(after: text.startIndex)..<close])
            let rest = text[text.index(after: close)...]
            if rest.hasPrefix(":") { port = String(rest.dropFirst()) } else if !rest.isEmpty { host = "" }
        } else if let colon = text.lastIndex(of: ":") {
            host = String(text[..<colon])
            port = String(text[text.index(after: colon)...])
        }
        guard !host.isEmpty, host.utf8.count <= 253,
              host.allSatisfy({ $0.isLetter || $0.isNumber || $0 == "." || $0 == "-" || $0 == ":" }),
              let number = Int(port), (1...65535).contains(number) else { return nil }
        return (host, port)
    }
}
