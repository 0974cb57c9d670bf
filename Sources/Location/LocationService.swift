import TerminalConfiguration
import Foundation
import ServiceLifecycle
import Synchronization
import Watchlist

/// Keeps the terminal's position current from gpsd: connects (and reconnects with backoff
/// when gpsd goes away), streams reports on a thread of its own so it never blocks other
/// services, and publishes the latest `LocationState`.
///
/// As a `Service`, `run()` returns at graceful shutdown or when its task is cancelled; it
/// never throws: an unreachable gpsd is a state (`no-gpsd`), not an error. Its events are
/// `onChange` (a new status) and `onFix` (every new fix with a position).
public final class LocationService: Service, Sendable {
    public let configuration: GPSSettings
    private let tracker: Mutex<LocationTracker>
    private let onChange: (@Sendable (LocationState) -> Void)?
    private let onFix: (@Sendable (Fix) -> Void)?

    /// - Parameters:
    ///   - onChange: called (on the reader thread) whenever the status changes.
    ///   - onFix: called for every new fix with a position (breadcrumbs hang off this).
    public init(_ configuration: GPSSettings, onChange: (@Sendable (LocationState) -> Void)? = nil,
                onFix: (@Sendable (Fix) -> Void)? = nil) {
        self.configuration = configuration
        tracker = Mutex(LocationTracker(gpsd: "\(configuration.host):\(configuration.port)", maxFixAge: configuration.maxFixAge,
                                        maxTimeSkew: configuration.maxTimeSkew))
        self.onChange = onChange
        self.onFix = onFix
    }

    /// The current state.
    public func state() -> LocationState {
        let now = Self.monotonicSeconds()
        return tracker.withLock { $0.state(at: now) }
    }

    /// Streams from gpsd until graceful shutdown or cancellation.
    public func run() async {
        await cancelWhenGracefulShutdown { [self] in await stream() }
    }

    private func stream() async {
        let stop = StopFlag()
        await withTaskCancellationHandler {
            await withCheckedContinuation { (continuation: CheckedContinuation<Void, Never>) in
                let thread = Thread { [self] in
                    readLoop(stop)
                    continuation.resume()
                }
                thread.name = "gpsd-reader"
                thread.start()
            }
        } onCancel: {
            stop.set()
        }
    }

    // MARK: Reader thread

    private func readLoop(_ stop: StopFlag) {
        let client = GPSDClient(host: configuration.host, port: configuration.port)
        var backoff = ReconnectBackoff(maximum: configuration.maxBackoff)
        var lastStatus: LocationState.Status?
        func update(_ change: (inout LocationTracker, Double) -> Void) {
            let now = Self.monotonicSeconds()
            let state = tracker.withLock { t in
                change(&t, now)
                return t.state(at: now)
            }
            if state.status != lastStatus {
                lastStatus = state.status
                onChange?(state)
            }
        }
        while !stop.isSet {
            do {
                try client.open()
                backoff.succeeded()
                update { t, _ in t.didConnect() }
            } catch {
                update { t, _ in t.disconnected((error as? LocationError)?.message ?? "\(error)") }
                stop.sleep(seconds: backoff.failed(random: Double.random(in: 0..<1)))
                continue
            }
            while !stop.isSet {
                do {
                    if let report = try client.read(timeout: 0.25) {
                        let wall = Date().timeIntervalSince1970
                        update { t, now in t.received(report, at: now, wallClock: wall) }
                        // Breadcrumbs carry the fix's own time: one that cannot be believed is not passed on.
                        if let fix = report.fix, fix.mode != .noFix, abs(fix.timeSeconds - wall) <= configuration.maxTimeSkew { onFix?(fix) }
                    } else {
                        update { _, _ in }   // time passes: the fix may turn stale
                    }
                } catch {
                    client.close()
                    update { t, _ in t.disconnected((error as? LocationError)?.message ?? "\(error)") }
                    stop.sleep(seconds: backoff.failed(random: Double.random(in: 0..<1)))
                    break
                }
            }
        }
        client.close()
    }

    static func monotonicSeconds() -> Double {
        var ts = timespec()
        clock_gettime(CLOCK_MONOTONIC, &ts)
        return Double(ts.tv_sec) + Double(ts.tv_nsec) / 1e9
    }
}

/// Cancellation seen from the reader thread; sleeps wake early when it is set.
final class StopFlag: Sendable {
    private let flag = Atomic<Bool>(false)

    var isSet: Bool { flag.load(ordering: .acquiring) }

    func set() { flag.store(true, ordering: .releasing) }

    func sleep(seconds: Double) {
        var left = seconds
        while left > 0, !isSet {
            let slice = min(left, 0.05)
            usleep(UInt32(slice * 1_000_000))
            left -= slice
        }
    }
}
