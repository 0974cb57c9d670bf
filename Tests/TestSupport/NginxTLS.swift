import Foundation

/// Certificates made by openssl for one test: a CA, a server certificate for 127.0.0.1
/// signed by it, a device certificate signed by it, and a server certificate from another CA.
public struct TestPKI {
    public let dir: URL
    public func path(_ name: String) -> String { dir.appendingPathComponent(name).path }

    public init(in dir: URL) throws {
        self.dir = dir
        let ext = dir.appendingPathComponent("server.ext")
        try "subjectAltName=IP:127.0.0.1,DNS:localhost\nextendedKeyUsage=serverAuth\n".write(to: ext, atomically: true, encoding: .utf8)
        let clientExt = dir.appendingPathComponent("client.ext")
        try "extendedKeyUsage=clientAuth\n".write(to: clientExt, atomically: true, encoding: .utf8)
        for ca in ["ca", "other-ca"] {
            try Self.openssl(["req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes",
                              "-keyout", path("\(ca).key"), "-out", path("\(ca).crt"), "-subj", "/CN=mpolice test \(ca)", "-days", "30"])
        }
        for (name, ca, extFile, cn) in [("server", "ca", ext, "127.0.0.1"), ("rogue-server", "other-ca", ext, "127.0.0.1"),
                                         ("device", "ca", clientExt, "unit-TPE-DA-01")] {
            try Self.openssl(["req", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes",
                              "-keyout", path("\(name).key"), "-out", path("\(name).csr"), "-subj", "/CN=\(cn)"])
            try Self.openssl(["x509", "-req", "-in", path("\(name).csr"), "-CA", path("\(ca).crt"), "-CAkey", path("\(ca).key"),
                              "-CAcreateserial", "-out", path("\(name).crt"), "-days", "30", "-extfile", extFile.path])
        }
    }

    public static func openssl(_ arguments: [String]) throws {
        let p = Process()
        p.executableURL = URL(fileURLWithPath: "/usr/bin/openssl")
        p.arguments = arguments
        p.standardOutput = FileHandle.nullDevice
        p.standardError = FileHandle.nullDevice
        try p.run()
        p.waitUntilExit()
        guard p.terminationStatus == 0 else { throw CocoaError(.fileWriteUnknown, userInfo: ["openssl": arguments.joined(separator: " ")]) }
    }
}

/// A real nginx on a free loopback port terminating TLS with `ssl_verify_client on`,
/// serving `root` as static files — what the center's CDN does.
public final class NginxTLS {
    public let port: Int
    public let root: URL
    private let process: Process
    private let dir: URL

    /// The group nginx's workers run as here (they run as `nobody`): the center's socket is
    /// given to it.
    public static let workerGroup = "nogroup"

    /// Serves `root` (default: a fresh `www` directory of its own) and, with `uplinkSocket`,
    /// proxies `/uplink/` to the central's Unix socket with the verified client certificate's
    /// subject in `X-Client-DN` — what the center's front end does. `uplinkPort` proxies to
    /// a loopback port instead (a fault proxy in front of the center).
    /// - Parameter workerConnections: per worker; a fleet holds two per terminal and one
    ///   to the center per held long poll.
    public init(pki: TestPKI, serverName: String = "server", root: URL? = nil, uplinkSocket: String? = nil, uplinkPort: Int? = nil,
                workerConnections: Int = 64) throws {
        port = try LoopbackPort.free()
        let dir = pki.dir.appendingPathComponent("nginx-\(serverName)")
        self.dir = dir
        self.root = root ?? dir.appendingPathComponent("www")
        try FileManager.default.createDirectory(at: self.root, withIntermediateDirectories: true)
        try FileManager.default.createDirectory(at: dir.appendingPathComponent("tmp"), withIntermediateDirectories: true)
        // Workers run as nobody: the served tree must be world-readable.
        for url in [pki.dir, dir, self.root] { try FileManager.default.setAttributes([.posixPermissions: 0o755], ofItemAtPath: url.path) }
        let tmp = dir.appendingPathComponent("tmp").path
        let config = """
            worker_processes 1;
            user nobody \(Self.workerGroup);
            daemon off;
            pid \(dir.path)/nginx.pid;
            error_log \(dir.path)/error.log warn;
            worker_rlimit_nofile \(max(1_024, workerConnections * 2));
            events { worker_connections \(workerConnections); }
            http {
                log_format requests '$request_uri $status $body_bytes_sent $http_range $request_time $upstream_response_time $connection';
                access_log \(dir.path)/access.log requests;
                client_body_temp_path \(tmp)/body; proxy_temp_path \(tmp)/proxy; fastcgi_temp_path \(tmp)/fastcgi;
                uwsgi_temp_path \(tmp)/uwsgi; scgi_temp_path \(tmp)/scgi;
                server {
                    listen 127.0.0.1:\(port) ssl http2;
                    ssl_certificate \(pki.path("\(serverName).crt"));
                    ssl_certificate_key \(pki.path("\(serverName).key"));
                    ssl_client_certificate \(pki.path("ca.crt"));
                    ssl_verify_client on;
                    ssl_protocols TLSv1.2 TLSv1.3;
                    root \(self.root.path);
                    etag on;
                    \((uplinkSocket.map { "unix:\($0):" } ?? uplinkPort.map { "127.0.0.1:\($0)" }).map(Self.uplinkLocation) ?? "")
                }
            }
            """
        let configURL = dir.appendingPathComponent("nginx.conf")
        try config.write(to: configURL, atomically: true, encoding: .utf8)
        for file in try FileManager.default.contentsOfDirectory(atPath: pki.dir.path) where file.hasSuffix(".crt") || file.hasSuffix(".key") {
            try FileManager.default.setAttributes([.posixPermissions: 0o644], ofItemAtPath: pki.path(file))
        }
        process = Process()
        process.executableURL = URL(fileURLWithPath: "/usr/sbin/nginx")
        process.arguments = ["-c", configURL.path, "-p", dir.path, "-e", "\(dir.path)/error.log"]
        process.standardError = FileHandle.nullDevice
        try process.run()
        // Ready when the port accepts connections.
        let deadline = Date().addingTimeInterval(10)
        while Date() < deadline, !LoopbackPort.accepts(port) { usleep(50_000) }
    }

    static func uplinkLocation(upstream: String) -> String {
        """
        location /uplink/ {
                proxy_pass http://\(upstream);
                proxy_http_version 1.1;
                proxy_set_header Connection "";
                proxy_set_header X-Client-Verify $ssl_client_verify;
                proxy_set_header X-Client-DN $ssl_client_s_dn;
                proxy_read_timeout 90s;
                proxy_buffering off;
                client_max_body_size 16m;
            }
        """
    }

    /// Puts a file where nginx serves it, readable by its unprivileged workers.
    public func serve(_ data: Data, as name: String) throws {
        let url = root.appendingPathComponent(name)
        try data.write(to: url)
        try FileManager.default.setAttributes([.posixPermissions: 0o644], ofItemAtPath: url.path)
    }

    /// The requests nginx served: "URI status bytes range seconds upstream-seconds connection"
    /// per line (range and upstream "-" when none).
    public var accessLog: [String] {
        ((try? String(contentsOf: dir.appendingPathComponent("access.log"), encoding: .utf8)) ?? "").split(separator: "\n").map(String.init)
    }

    public var accessLogURL: URL { dir.appendingPathComponent("access.log") }

    /// nginx's master process (a test that takes the center away kills it).
    public var processIdentifier: Int32 { process.processIdentifier }

    public func stop() {
        if process.isRunning {
            kill(-process.processIdentifier, SIGKILL)
            process.waitUntilExit()
        }
    }

    deinit { stop() }
}
