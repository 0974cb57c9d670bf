import Foundation
import Synchronization

/// Time as the terminal reads it — injected everywhere time is judged (answers' list ages,
/// sync freshness, outbox retries, sessions), so tests can set and move it.
public protocol TerminalClock: Sendable {
    /// Wall-clock Unix time in milliseconds.
    var nowMilliseconds: Int64 { get }
    /// Milliseconds on a clock that never goes back and does not follow the wall clock
    /// when someone sets it (CLOCK_MONOTONIC); its zero is arbitrary.
    var monotonicMilliseconds: Int64 { get }
}

extension TerminalClock {
    /// Wall-clock Unix time in whole seconds.
    public var nowSeconds: Int64 { nowMilliseconds / 1000 }
}

/// The system's clocks.
public struct SystemClock: TerminalClock {
    public init() {}

    public var nowMilliseconds: Int64 { Self.read(CLOCK_REALTIME) }
    public var monotonicMilliseconds: Int64 { Self.read(CLOCK_MONOTONIC) }

    private static func read(_ id: clockid_t) -> Int64 {
        var ts = timespec()
        clock_gettime(id, &ts)
        return Int64(ts.tv_sec) * 1000 + Int64(ts.tv_nsec) / 1_000_000
    }
}

/// A clock that stands where a test puts it.
public final class ManualClock: TerminalClock {
    private let state: Mutex<(wall: Int64, monotonic: Int64)>

    public init(nowMilliseconds: Int64, monotonicMilliseconds: Int64 = 1_000_000) {
        state = Mutex((nowMilliseconds, monotonicMilliseconds))
    }

    public var nowMilliseconds: Int64 { state.withLock { $0.wall } }
    public var monotonicMilliseconds: Int64 { state.withLock { $0.monotonic } }

    /// Both clocks move on.
    public func advance(milliseconds: Int64) {
        state.withLock {
            $0.wall += milliseconds
            $0.monotonic += milliseconds
        }
    }

    /// The wall clock is set (forward or back); the monotonic clock does not follow.
    public func setWall(milliseconds: Int64) {
        state.withLock { $0.wall = milliseconds }
    }
}
