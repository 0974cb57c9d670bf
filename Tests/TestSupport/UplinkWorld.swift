import Foundation

/// The center's uplink as a terminal meets it: the built `mpolice-central serve` on a Unix
/// socket only nginx's workers may reach, a real nginx terminating TLS with client
/// certificates in front of it, and fault proxies the test owns: between the terminal and
/// nginx (`proxy`: the patrol car's link) and between nginx and the center (`backend`: it can
/// lose the center's answers after the center has committed).
public final class UplinkWorld {
    public let scratch: Scratch
    public let pki: TestPKI
    public let central = Process()
    /// The center's socket (mode 0660, nginx's workers' group).
    public var centralSocket: String { scratch.url.appendingPathComponent("central.sock").path }
    public let nginx: NginxTLS
    public let proxy: FaultProxy
    public let backend: FaultProxy
    public var databasePath: String { scratch.url.appendingPathComponent("central.db").path }
    /// Through the proxy.
    public var uplinkURL: String { "https://127.0.0.1:\(proxy.port)/uplink/" }

    public init() throws {
        scratch = try Scratch("uplink", worldReadable: true)
        let pkiDir = scratch.url.appendingPathComponent("pki")
        try FileManager.default.createDirectory(at: pkiDir, withIntermediateDirectories: true)
        pki = try TestPKI(in: pkiDir)
        central.executableURL = Programs.binDirectory.appendingPathComponent("mpolice-central")
        central.arguments = ["serve", "--db", scratch.url.appendingPathComponent("central.db").path,
                             "--socket", scratch.url.appendingPathComponent("central.sock").path, "--socket-group", NginxTLS.workerGroup]
        let log = scratch.url.appendingPathComponent("central.log")
        FileManager.default.createFile(atPath: log.path, contents: nil)
        central.standardError = try FileHandle(forWritingTo: log)
        try central.run()
        let socket = scratch.url.appendingPathComponent("central.sock").path
        // Serving is announced once the socket has its group and mode.
        let serving = eventually(timeout: 20) {
            ((try? String(contentsOf: log, encoding: .utf8)) ?? "").contains("serving the uplink")
        }
        guard serving, UnixSocket.accepts(socket) else {
            throw TestError("mpolice-central serve did not listen on \(socket): \((try? String(contentsOf: log, encoding: .utf8)) ?? "")")
        }
        backend = try FaultProxy(toUnixSocket: socket)
        nginx = try NginxTLS(pki: pki, uplinkPort: backend.port)
        proxy = try FaultProxy(to: nginx.port)
    }

    /// The daemon's configuration for this center: uplink through the proxy, quick retries.
    public func daemonConfig(batchItems: Int = 100, dispatchWait: Int = 5) -> String {
        """
        [sync]
        ca = \(pki.path("ca.crt"))
        certificate = \(pki.path("device.crt"))
        key = \(pki.path("device.key"))
        connect_timeout = 2

        [uplink]
        central = \(uplinkURL)
        batch_items = \(batchItems)
        dispatch_wait = \(dispatchWait)
        idle_interval = 1
        first_retry = 0.2
        max_retry = 1
        """
    }

    /// What the center holds, read the way an operator does (`mpolice-central records --json`).
    public func records(kind: String? = nil) throws -> [[String: Any]] {
        let run = try Programs.run("mpolice-central", ["records", "--db", databasePath, "--json"] + (kind.map { ["--kind", $0] } ?? []))
        guard run.status == 0 else { throw TestError("records: \(run.stderr)") }
        return try JSONSerialization.jsonObject(with: Data(run.stdout.utf8)) as? [[String: Any]] ?? []
    }

    public func createDispatch(summary: String) throws -> String {
        let run = try Programs.run("mpolice-central", ["dispatch", "create", "--db", databasePath, "--unit", "TPE-DA-01",
                                                      "--lat", "25.0478", "--lon", "121.5170", "--summary", summary, "--priority", "urgent"])
        guard run.status == 0 else { throw TestError("dispatch create: \(run.stderr)") }
        return run.stdout.trimmingCharacters(in: .whitespacesAndNewlines)
    }

    /// Every answer the center gave, per delivery (`mpolice-central records --deliveries --json`).
    public func deliveries() throws -> [(id: String, status: String)] {
        let run = try Programs.run("mpolice-central", ["records", "--db", databasePath, "--deliveries", "--json"])
        guard run.status == 0 else { throw TestError("records --deliveries: \(run.stderr)") }
        let rows = try JSONSerialization.jsonObject(with: Data(run.stdout.utf8)) as? [[String: Any]] ?? []
        return rows.map { ($0["id"] as? String ?? "", $0["status"] as? String ?? "") }
    }

    public func stop() {
        proxy.stop()
        backend.stop()
        nginx.stop()
        if central.isRunning {
            central.terminate()
            central.waitUntilExit()
        }
        scratch.remove()
    }

    deinit { stop() }
}
