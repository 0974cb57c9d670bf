import Foundation

/// A center for a simulated fleet (docs/fleet.md): `mpolice-central serve` on PostgreSQL (a
/// database of its own on the tests' cluster), a real nginx with mutual TLS in front of it
/// serving a published data set, and a device certificate per simulated unit (CN
/// `unit-SIM-0001` …), all for one key. `simulate` runs `mpolice-central simulate` against it.
public final class FleetWorld {
    public let scratch: Scratch
    public let pki: TestPKI
    public let cluster: PostgresCluster
    public let databaseURL: String
    public let nginx: NginxTLS
    public let central = Process()
    public let units: [String]
    public let certificates: URL
    public let centralLog: URL
    public var baseURL: String { "https://127.0.0.1:\(nginx.port)/" }

    /// - Parameter binDirectory: where `mpolice-central` is (the tests' debug build, or the
    ///   bench's release build).
    public init(terminals: Int, binDirectory: URL = Programs.binDirectory, label: String = "fleet") throws {
        scratch = try Scratch(label, worldReadable: true)
        certificates = scratch.url.appendingPathComponent("fleet-certificates")
        centralLog = scratch.url.appendingPathComponent("central.log")
        let pkiDir = scratch.url.appendingPathComponent("pki")
        try FileManager.default.createDirectory(at: pkiDir, withIntermediateDirectories: true)
        pki = try TestPKI(in: pkiDir)
        units = (1...terminals).map { String(format: "SIM-%04d", $0) }
        try Self.issueCertificates(units, pki: pki, into: certificates)
        cluster = try PostgresCluster.shared()
        databaseURL = try cluster.createDatabase("fleet")

        // A small published data set: the manifest the terminals fetch.
        let program = binDirectory.appendingPathComponent("mpolice-central").path
        let www = scratch.url.appendingPathComponent("www")
        let keys = scratch.url.appendingPathComponent("keys").path
        for arguments in [["keys", "init", "--dir", keys],
                          ["generate", "--out", scratch.url.appendingPathComponent("terminal").path, "--records", "2000", "--dataset-only"],
                          ["publish", "--dataset", scratch.url.appendingPathComponent("terminal/dataset").path, "--keys", keys, "--out", www.path]] {
            let run = try Programs.system(program, arguments)
            guard run.status == 0 else { throw TestError("mpolice-central \(arguments[0]): \(run.stderr)") }
        }

        let socket = scratch.url.appendingPathComponent("central.sock").path
        central.executableURL = URL(fileURLWithPath: program)
        central.arguments = ["serve", "--db", databaseURL, "--socket", socket, "--socket-group", NginxTLS.workerGroup]
        FileManager.default.createFile(atPath: centralLog.path, contents: nil)
        central.standardError = try FileHandle(forWritingTo: centralLog)
        try central.run()
        let log = centralLog
        guard eventually(timeout: 30, { ((try? String(contentsOf: log, encoding: .utf8)) ?? "").contains("serving the uplink") }),
              UnixSocket.accepts(socket) else {
            throw TestError("mpolice-central serve did not listen: \((try? String(contentsOf: log, encoding: .utf8)) ?? "")")
        }
        nginx = try NginxTLS(pki: pki, root: www, uplinkSocket: socket, workerConnections: max(256, terminals * 4 + 64))
    }

    /// Device certificates for `units`, each `<unit>.crt` with CN `unit-<unit>`, all for
    /// `device.key` (openssl, one shell for them all).
    static func issueCertificates(_ units: [String], pki: TestPKI, into directory: URL) throws {
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true, attributes: [.posixPermissions: 0o755])
        let script = """
            set -e
            cd '\(directory.path)'
            openssl req -new -key '\(pki.path("device.key"))' -subj /CN=template -out template.csr 2>/dev/null
            printf 'extendedKeyUsage=clientAuth\\n' > client.ext
            n=1
            for unit in \(units.joined(separator: " ")); do
              openssl x509 -req -in template.csr -subj "/CN=unit-$unit" -CA '\(pki.path("ca.crt"))' -CAkey '\(pki.path("ca.key"))' \\
                -set_serial $((100000 + n)) -days 30 -extfile client.ext -out "$unit.crt" 2>/dev/null
              n=$((n + 1))
            done
            """
        let run = try Programs.system("/bin/sh", ["-c", script])
        guard run.status == 0 else { throw TestError("issuing \(units.count) device certificates: \(run.stderr)") }
    }

    /// The center's process, for its CPU time and memory.
    public var centralPID: Int32 { central.processIdentifier }

    /// `mpolice-central simulate` against this center; returns its JSON report, with
    /// `--generated` written to `generated`.
    public func simulateArguments(seconds: Double, ramp: Double, generated: URL, uploadLog: URL? = nil, extra: [String] = []) -> [String] {
        ["simulate", "--url", baseURL, "--ca", pki.path("ca.crt"), "--certificates", certificates.path, "--key", pki.path("device.key"),
         "--terminals", String(units.count), "--seconds", String(seconds), "--ramp", String(ramp), "--generated", generated.path]
            + (uploadLog.map { ["--upload-log", $0.path] } ?? []) + extra
    }

    /// What the center stored: `unit id` per item, from PostgreSQL.
    public func storedItems() throws -> [String] {
        try cluster.psql(databaseURL, "SELECT unit || ' ' || id FROM item ORDER BY 1").split(separator: "\n").map(String.init)
    }

    /// Items the center received between two moments.
    public func itemsReceived(from start: Date, to end: Date) throws -> Int {
        Int(try cluster.psql(databaseURL, "SELECT count(*) FROM item WHERE received_at >= \(Int64(start.timeIntervalSince1970 * 1000)) "
                                          + "AND received_at < \(Int64(end.timeIntervalSince1970 * 1000))")) ?? 0
    }

    public func stop() {
        nginx.stop()
        if central.isRunning {
            central.terminate()
            central.waitUntilExit()
        }
        scratch.remove()
    }
}
