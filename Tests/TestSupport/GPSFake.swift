import Foundation
import Synchronization
import Watchlist

/// A real gpsd fed by gpsfake on a free loopback port. Foundation starts a child as the
/// leader of its own process group, so gpsfake and the gpsd it starts die together.
public final class GPSFake {
    /// The fixtures are dated 2026-11-26 (skewed.nmea two years later): a replay
    /// accepts fix times this far (seconds, a century) from the clock, so the dates do not
    /// make every fix time-suspect as the calendar moves on.
    public static let replaySkew: Double = 3_153_600_000

    public static let fixtures = URL(fileURLWithPath: #filePath).deletingLastPathComponent()
        .deletingLastPathComponent().appendingPathComponent("Fixtures/gps")

    public let port: Int
    private let process: Process

    /// - Parameters:
    ///   - log: file name under Tests/Fixtures/gps.
    ///   - cycle: seconds between sentences.
    ///   - once: stop (and take gpsd down) at the end of the log instead of looping.
    public init(log: String, port: Int? = nil, cycle: Double = 0.02, once: Bool = true) throws {
        self.port = try port ?? LoopbackPort.free()
        process = Process()
        process.executableURL = URL(fileURLWithPath: "/usr/bin/gpsfake")
        var arguments = ["-q", "-P", "\(self.port)", "-c", "\(cycle)"]
        if once { arguments.append("-1") }
        arguments.append(Self.fixtures.appendingPathComponent(log).path)
        process.arguments = arguments
        process.standardOutput = FileHandle.nullDevice
        process.standardError = FileHandle.nullDevice
        try process.run()
    }

    public var isRunning: Bool { process.isRunning }

    /// Kills gpsfake and its gpsd at once (SIGKILL to the process group).
    public func kill() {
        Foundation.kill(-process.processIdentifier, SIGKILL)
        process.waitUntilExit()
    }

    deinit {
        if process.isRunning { kill() }
    }
}

/// Collects what a `LocationService` reported, for assertions.
public final class Recorder: Sendable {
    private let statuses = Mutex<[String]>([])
    private let fixes = Mutex<[Fix]>([])

    public init() {}

    public func record(_ state: LocationState) { statuses.withLock { $0.append(state.status.rawValue) } }
    public func record(_ fix: Fix) { fixes.withLock { $0.append(fix) } }

    public var statusHistory: [String] { statuses.withLock { $0 } }
    public var fixHistory: [Fix] { fixes.withLock { $0 } }
}
