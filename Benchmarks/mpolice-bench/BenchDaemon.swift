import Foundation
import LocalAPIClient
import Central
import TestSupport

/// The release `mpoliced` beside the bench, started as systemd starts it (NOTIFY_SOCKET) on
/// a state directory (default: `work/state`).
final class BenchDaemon {
    let socket: String
    let state: String
    /// Exec → READY=1 seen.
    let readyMilliseconds: Double
    private let process = Process()
    private let notify: NotifySocket
    private var stopped = false

    var processIdentifier: Int32 { process.processIdentifier }

    /// - Parameters:
    ///   - program: the daemon to run (default: the release `mpoliced` beside the bench).
    ///   - api: more lines of its `[api]` section.
    init(work: URL, state stateDirectory: URL? = nil, program: URL? = nil, gps: String = "gpsd = off", api: String = "",
         extra: String = "") throws {
        try FileManager.default.createDirectory(at: work, withIntermediateDirectories: true)
        let binary = program ?? URL(fileURLWithPath: CommandLine.arguments[0]).resolvingSymlinksInPath().deletingLastPathComponent()
            .appendingPathComponent("mpoliced")
        guard FileManager.default.isExecutableFile(atPath: binary.path) else {
            throw BenchError("\(binary.path) is missing: build it (make bench builds mpoliced in release too)")
        }
        socket = work.appendingPathComponent("api.sock").path
        state = (stateDirectory ?? work.appendingPathComponent("state")).path
        let config = work.appendingPathComponent("mpoliced.conf")
        try """
            [terminal]
            unit = TPE-DA-01
            state_directory = \(state)
            [api]
            socket = \(socket)
            socket_group =
            allowed_groups =
            \(api)
            [gps]
            \(gps)
            [log]
            level = warning
            \(extra)
            """.write(to: config, atomically: true, encoding: .utf8)
        notify = try NotifySocket(path: work.appendingPathComponent("notify.sock").path)
        process.executableURL = binary
        process.arguments = ["--config", config.path]
        var env = ProcessInfo.processInfo.environment
        env["NOTIFY_SOCKET"] = notify.path
        process.environment = env
        process.standardError = try FileHandle(forWritingTo: {
            let log = work.appendingPathComponent("mpoliced.log")
            FileManager.default.createFile(atPath: log.path, contents: nil)
            return log
        }())
        let start = Measure.nowNanoseconds()
        try process.run()
        guard notify.wait(for: "READY=1", timeout: 30) else { throw BenchError("mpoliced sent no READY=1 (\(work.path)/mpoliced.log)") }
        readyMilliseconds = Double(Measure.nowNanoseconds() - start) / 1e6
    }

    /// Signs the demo roster's officer in (PIN alone) through `client`.
    func signIn(_ client: APIClient) throws {
        let officer = DemoRecords.officer
        let body = Data(#"{"officerId":"\#(officer.officerId)","pin":"\#(officer.pin)"}"#.utf8)
        guard try client.request("POST", "/v1/session", json: body).status == 201 else { throw BenchError("sign-in refused") }
    }

    func stop() {
        guard !stopped else { return }
        stopped = true
        if process.isRunning {
            kill(process.processIdentifier, SIGTERM)
            process.waitUntilExit()
        }
        notify.close()
    }
}
