import Central
import FieldWire
import Foundation
import LocalAPIClient
import TestSupport

/// The built `mpoliced` with a configuration written for the test, started the way systemd
/// starts it (NOTIFY_SOCKET, optionally WATCHDOG_USEC).
final class DaemonProcess {
    let dir: URL
    let stateDirectory: URL
    let socketPath: String
    let notify: NotifySocket
    let process = Process()
    let stderrPath: URL

    /// `extra` is appended to the configuration (sections and keys); `socketGroup` and
    /// `allowedGroups` are the `[api]` keys (none by default: root's tests need neither).
    /// With `user`, the daemon runs as that uid and gid with exactly the supplementary
    /// `groups` (through setpriv), as systemd's `User=`, `Group=`, `SupplementaryGroups=` run it.
    init(in dir: URL, stateDirectory: URL, extra: String = "", environment: [String: String] = [:],
         socketGroup: String = "", allowedGroups: String = "", region: String? = nil,
         user: (uid: uid_t, gid: gid_t)? = nil, groups: [gid_t] = []) throws {
        self.dir = dir
        self.stateDirectory = stateDirectory
        socketPath = dir.appendingPathComponent("api.sock").path
        let config = """
            [terminal]
            unit = TPE-DA-01
            state_directory = \(stateDirectory.path)
            \(region.map { "region = \($0)" } ?? "")

            [api]
            socket = \(socketPath)
            socket_group = \(socketGroup)
            allowed_groups = \(allowedGroups)
            \(extra.contains("[gps]") ? "" : "\n[gps]\ngpsd = off\n")
            \(extra)
            """
        let configURL = dir.appendingPathComponent("mpoliced.conf")
        try config.write(to: configURL, atomically: true, encoding: .utf8)
        notify = try NotifySocket(path: dir.appendingPathComponent("notify.sock").path)
        stderrPath = dir.appendingPathComponent("mpoliced.log")
        _ = FileManager.default.createFile(atPath: stderrPath.path, contents: nil)
        let daemon = Programs.binDirectory.appendingPathComponent("mpoliced").path
        if let user {
            // The daemon's user must reach the notification socket and its configuration.
            chmod(notify.path, 0o666)
            chmod(configURL.path, 0o644)
            process.executableURL = URL(fileURLWithPath: "/usr/bin/setpriv")
            let supplementary = groups.isEmpty ? "--clear-groups" : "--groups=\(groups.map(String.init).joined(separator: ","))"
            process.arguments = ["--reuid=\(user.uid)", "--regid=\(user.gid)", supplementary, daemon, "--config", configURL.path]
        } else {
            process.executableURL = URL(fileURLWithPath: daemon)
            process.arguments = ["--config", configURL.path]
        }
        var env = ProcessInfo.processInfo.environment
        env["NOTIFY_SOCKET"] = notify.path
        for (k, v) in environment { env[k] = v }
        process.environment = env
        process.standardError = try FileHandle(forWritingTo: stderrPath)
        process.standardOutput = FileHandle.nullDevice
    }

    /// The usual start of a test: generated lists in a scratch directory (`DaemonTests.state`)
    /// and a daemon started on them. The caller removes the scratch directory.
    static func started(records: Int = 2_000, extra: String = "", environment: [String: String] = [:]) throws -> (Scratch, DaemonProcess) {
        let (scratch, state) = try DaemonTests.state(records: records)
        do {
            let daemon = try DaemonProcess(in: scratch.url, stateDirectory: state, extra: extra, environment: environment)
            try daemon.start()
            return (scratch, daemon)
        } catch {
            scratch.remove()
            throw error
        }
    }

    /// Starts the daemon and waits for READY=1.
    @discardableResult
    func start(timeout: Double = 20) throws -> Double {
        let started = Date()
        try process.run()
        let deadline = Date().addingTimeInterval(timeout)
        while !notify.wait(for: "READY=1", timeout: 0.05) {
            guard process.isRunning else {
                throw TestError("mpoliced exited with \(process.terminationStatus) before READY=1: \(log)")
            }
            guard Date() < deadline else { throw TestError("mpoliced sent no READY=1 within \(timeout) s: \(log)") }
        }
        return Date().timeIntervalSince(started)
    }

    var log: String { (try? String(contentsOf: stderrPath, encoding: .utf8)) ?? "" }

    var client: APIClient { APIClient(socketPath: socketPath) }

    /// SIGTERM, then waits; returns the exit status and how long it took.
    func stop(timeout: Double = 15) -> (status: Int32, seconds: Double) {
        let started = Date()
        guard process.isRunning else { return (process.terminationStatus, 0) }
        kill(process.processIdentifier, SIGTERM)
        let deadline = Date().addingTimeInterval(timeout)
        while process.isRunning, Date() < deadline { usleep(20_000) }
        if process.isRunning {
            kill(process.processIdentifier, SIGKILL)
            process.waitUntilExit()
            return (-1, timeout)
        }
        return (process.terminationStatus, Date().timeIntervalSince(started))
    }

    deinit {
        if process.isRunning { kill(process.processIdentifier, SIGKILL) }
        notify.close()
    }
}

extension APIClient {
    /// A request with a JSON object body; the response body parsed as a JSON object.
    /// Signs the demo roster's officer in (PIN alone, allowed on TPE-DA-01).
    func signIn(_ officer: DemoRecords.DemoOfficer = DemoRecords.officer) throws -> (status: Int, object: [String: Any]) {
        try json("POST", "/v1/session", ["officerId": officer.officerId, "pin": officer.pin])
    }

    func json(_ method: String, _ path: String, _ body: [String: Any]? = nil) throws -> (status: Int, object: [String: Any]) {
        let data = try body.map { try JSONSerialization.data(withJSONObject: $0) }
        let response = try request(method, path, json: data)
        let object = (try? JSONSerialization.jsonObject(with: response.body)) as? [String: Any] ?? [:]
        return (response.status, object)
    }
}
