import Foundation
import LocalAPIClient

/// A Unix datagram socket standing in for systemd's notification socket: collects what the
/// daemon sends (READY=1, STATUS=, WATCHDOG=1, STOPPING=1).
final class NotifySocket: @unchecked Sendable {
    let path: String
    private let fd: Int32
    private let lock = NSLock()
    private var messages: [String] = []
    private var open = true

    init(path: String) throws {
        self.path = path
        fd = socket(AF_UNIX, Int32(SOCK_DGRAM.rawValue), 0)
        var address = sockaddr_un()
        address.sun_family = sa_family_t(AF_UNIX)
        withUnsafeMutableBytes(of: &address.sun_path) { $0.copyBytes(from: Array(path.utf8)) }
        let bound = withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(fd, $0, socklen_t(MemoryLayout<sockaddr_un>.size)) == 0 }
        }
        guard bound else { throw CocoaError(.fileWriteUnknown) }
        var tv = timeval(tv_sec: 0, tv_usec: 200_000)
        setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, socklen_t(MemoryLayout<timeval>.size))
        let thread = Thread { [self] in
            var buffer = [UInt8](repeating: 0, count: 4096)
            while lock.withLock({ open }) {
                let n = recv(fd, &buffer, buffer.count, 0)
                if n > 0 {
                    let text = String(decoding: buffer[0..<n], as: UTF8.self)
                    lock.withLock { messages.append(text) }
                }
            }
        }
        thread.start()
    }

    var received: [String] { lock.withLock { messages } }

    /// Waits until some message contains `text`.
    func wait(for text: String, timeout: Double) -> Bool {
        let deadline = Date().addingTimeInterval(timeout)
        while Date() < deadline {
            if received.contains(where: { $0.contains(text) }) { return true }
            usleep(20_000)
        }
        return false
    }

    func count(_ text: String) -> Int { received.filter { $0.contains(text) }.count }

    func close() {
        lock.withLock { open = false }
        usleep(250_000)
        Glibc.close(fd)
        unlink(path)
    }
}

/// The built `mpoliced` with a configuration written for the test, started the way systemd
/// starts it (NOTIFY_SOCKET, optionally WATCHDOG_USEC).
final class DaemonProcess {
    let dir: URL
    let socketPath: String
    let notify: NotifySocket
    let process = Process()
    let stderrPath: URL

    /// `extra` is appended to the configuration (sections and keys).
    init(in dir: URL, stateDirectory: URL, extra: String = "", environment: [String: String] = [:]) throws {
        self.dir = dir
        socketPath = dir.appendingPathComponent("api.sock").path
        let config = """
            [terminal]
            unit = TPE-DA-01
            state_directory = \(stateDirectory.path)

            [api]
            socket = \(socketPath)
            socket_group =
            allowed_groups =
            \(extra.contains("[gps]") ? "" : "\n[gps]\ngpsd = off\n")
            \(extra)
            """
        let configURL = dir.appendingPathComponent("mpoliced.conf")
        try config.write(to: configURL, atomically: true, encoding: .utf8)
        notify = try NotifySocket(path: dir.appendingPathComponent("notify.sock").path)
        stderrPath = dir.appendingPathComponent("mpoliced.log")
        _ = FileManager.default.createFile(atPath: stderrPath.path, contents: nil)
        process.executableURL = Programs.binDirectory.appendingPathComponent("mpoliced")
        process.arguments = ["--config", configURL.path]
        var env = ProcessInfo.processInfo.environment
        env["NOTIFY_SOCKET"] = notify.path
        for (k, v) in environment { env[k] = v }
        process.environment = env
        process.standardError = try FileHandle(forWritingTo: stderrPath)
        process.standardOutput = FileHandle.nullDevice
    }

    /// Starts the daemon and waits for READY=1.
    @discardableResult
    func start(timeout: Double = 20) throws -> Double {
        let started = Date()
        try process.run()
        guard notify.wait(for: "READY=1", timeout: timeout) else {
            throw TestError("mpoliced sent no READY=1 within \(timeout) s: \(log)")
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

struct TestError: Error, CustomStringConvertible {
    let description: String
    init(_ description: String) { self.description = description }
}

extension APIClient {
    /// A request with a JSON object body; the response body parsed as a JSON object.
    func json(_ method: String, _ path: String, _ body: [String: Any]? = nil) throws -> (status: Int, object: [String: Any]) {
        let data = try body.map { try JSONSerialization.data(withJSONObject: $0) }
        let response = try request(method, path, json: data)
        let object = (try? JSONSerialization.jsonObject(with: response.body)) as? [String: Any] ?? [:]
        return (response.status, object)
    }
}
