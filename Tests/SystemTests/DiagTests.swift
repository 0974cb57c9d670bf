import Central
import FieldWire
import Foundation
import TestSupport
import Testing

/// `mpolicectl diag` against real faults: each one set up for real, and diag must name the
/// failing step and its reason.
@Suite("mpolicectl diag", .serialized)
struct DiagTests {
    /// A terminal that synced once from a real center (nginx with client certificates), its
    /// configuration written to a file diag reads.
    final class World {
        let center: PublishedCenter
        let state: URL
        var scratch: Scratch { center.scratch }
        var pki: TestPKI { center.pki }
        var nginx: NginxTLS { center.nginx }
        var keys: URL { center.keys }

        init() throws {
            center = try PublishedCenter(records: 500)
            state = try center.scratch.directory("state")
            try center.publish()
            try check(Programs.run("mpolicectl", center.syncArguments(state: state)))
        }

        func publish(now: Int64? = nil, validDays: Int64 = 7) throws {
            try center.publish(now: now, validDays: validDays)
        }

        /// Writes the configuration (with `central` and the certificate overridable) and runs diag on it;
        /// with `clockOffset` (libfaketime's "+1h", "-120s"), under a clock that far from the machine's.
        func diag(central: String? = nil, certificate: String? = nil, key: String? = nil, gpsd: String = "off",
                  socket: String? = nil, arguments: [String] = [], clockOffset: String? = nil) throws -> (status: Int32, report: [String: Any], text: String) {
            let config = scratch.url.appendingPathComponent("mpoliced.conf")
            try """
                [terminal]
                unit = TPE-DA-01
                state_directory = \(state.path)
                [api]
                socket = \(socket ?? scratch.url.appendingPathComponent("api.sock").path)
                socket_group =
                [sync]
                central = \(central ?? "https://127.0.0.1:\(nginx.port)/")
                ca = \(pki.path("ca.crt"))
                certificate = \(certificate ?? pki.path("device.crt"))
                key = \(key ?? pki.path("device.key"))
                trust_root = \(keys.appendingPathComponent("root.json").path)
                connect_timeout = 3
                [gps]
                gpsd = \(gpsd)
                """.write(to: config, atomically: true, encoding: .utf8)
            let diag = ["diag", "--config", config.path, "--json", "--gps-wait", "2"] + arguments
            let run = try clockOffset.map {
                try Programs.system("/usr/bin/faketime", ["-f", $0, Programs.binDirectory.appendingPathComponent("mpolicectl").path] + diag)
            } ?? Programs.run("mpolicectl", diag)
            let report = try JSONSerialization.jsonObject(with: Data(run.stdout.utf8)) as? [String: Any] ?? [:]
            return (run.status, report, run.stdout)
        }

        func stop() { center.stop() }
    }

    static func check(_ run: Programs.Run) throws {
        guard run.status == 0 else { throw TestError("\(run.stderr)\(run.stdout)") }
    }

    /// The step named `name` in a report.
    static func step(_ report: [String: Any], _ name: String) -> [String: Any] {
        (report["steps"] as? [[String: Any]] ?? []).first { $0["name"] as? String == name } ?? [:]
    }

    /// Expects `name` to have `status` and `reason`, and every failing step before it to be none.
    static func expectStep(_ result: (status: Int32, report: [String: Any], text: String), _ name: String, _ status: String,
                           reason: String?, sourceLocation: SourceLocation = #_sourceLocation) {
        let s = step(result.report, name)
        #expect(s["status"] as? String == status, "\(name): \(s)", sourceLocation: sourceLocation)
        #expect(s["reason"] as? String == reason, "\(name): \(s)", sourceLocation: sourceLocation)
        if status == "fail" {
            #expect(result.status == 2, sourceLocation: sourceLocation)
            #expect((result.report["summary"] as? [String: Any])?["firstProblem"] as? String == name, "\(result.text)",
                    sourceLocation: sourceLocation)
        }
    }

    @Test("a healthy terminal with its daemon running: every step ok, exit 0, no key material, list content or officer credential printed")
    func healthy() throws {
        let world = try World()
        defer { world.stop() }
        let daemon = try DaemonProcess(in: try world.scratch.url.appendingPathComponent("d").creatingDirectory(), stateDirectory: world.state)
        try daemon.start()
        defer { _ = daemon.stop() }
        let result = try world.diag(socket: daemon.socketPath)
        #expect(result.status == 0, "\(result.text)")
        let statuses = (result.report["steps"] as? [[String: Any]] ?? []).map { "\($0["name"]!)=\($0["status"]!)" }
        #expect(statuses == ["config=ok", "disk=ok", "databases=ok", "certificate=ok", "trust-root=ok", "dns=ok", "tcp=ok", "tls=ok",
                             "client-certificate=ok", "manifest=ok", "manifest-trust=ok", "clock=ok", "lists=ok", "outbox=ok",
                             "sync-history=ok", "daemon=ok", "gpsd=skipped"], "\(result.text)")
        #expect(result.report["daemonRunning"] as? Bool == true)
        #expect((Self.step(result.report, "tls")["detail"] as? String)?.contains("TLSv1.") == true, "\(result.text)")
        #expect(!result.text.contains("PRIVATE KEY") && !result.text.contains("BLT-8023") && !result.text.contains("BLT8023"))
        // The roster is synced with the lists: none of its verifiers or sealed secrets, nor a demo PIN.
        let roster = DemoRecords().officers
        for secret in ["scrypt$", SealedTOTPSecret.prefix, DemoRecords.officer.pin] + roster.map(\.pinVerifier) + roster.compactMap(\.secondFactor) {
            #expect(!result.text.contains(secret))
        }

        // Human form: one line per step and the summary; one step alone with --step.
        let text = try Programs.run("mpolicectl", ["diag", "--config", world.scratch.url.appendingPathComponent("mpoliced.conf").path,
                                                   "--socket", daemon.socketPath])
        #expect(text.status == 0)
        #expect(text.stdout.contains("summary: 16 ok, 0 warnings, 0 failures, 1 skipped"), "\(text.stdout)")
        #expect(!text.stdout.contains("\u{1B}["), "no colour when not on a terminal")
        let one = try world.diag(socket: daemon.socketPath, arguments: ["--step", "manifest-trust"])
        #expect((one.report["steps"] as? [[String: Any]])?.map { $0["name"] as? String } == ["manifest-trust"])
    }

    @Test("nothing listening at the center's address: tcp fails, the TLS steps are skipped")
    func unreachable() throws {
        let world = try World()
        defer { world.stop() }
        let result = try world.diag(central: "https://127.0.0.1:\(try LoopbackPort.free())/")
        Self.expectStep(result, "tcp", "fail", reason: "tcp.refused")
        Self.expectStep(result, "tls", "skipped", reason: "after-tcp")
        Self.expectStep(result, "manifest-trust", "skipped", reason: "after-tcp")
    }

    @Test("a central host name that does not resolve: dns fails")
    func unresolvable() throws {
        let world = try World()
        defer { world.stop() }
        Self.expectStep(try world.diag(central: "https://central.invalid/lists/"), "dns", "fail", reason: "dns.unresolved")
    }

    @Test("a server certificate from another CA: tls fails as untrusted")
    func otherCA() throws {
        let world = try World()
        defer { world.stop() }
        let rogue = try NginxTLS(pki: world.pki, serverName: "rogue-server", root: world.nginx.root)
        defer { rogue.stop() }
        Self.expectStep(try world.diag(central: "https://127.0.0.1:\(rogue.port)/"), "tls", "fail", reason: "tls.untrusted-server")
    }

    @Test("an expired device certificate: the certificate step fails")
    func expiredCertificate() throws {
        let world = try World()
        defer { world.stop() }
        let dir = try world.scratch.url.appendingPathComponent("oldca").creatingDirectory()
        try "".write(to: dir.appendingPathComponent("index.txt"), atomically: true, encoding: .utf8)
        try "01\n".write(to: dir.appendingPathComponent("serial"), atomically: true, encoding: .utf8)
        try """
            [ca]
            default_ca = ca_default
            [ca_default]
            database = \(dir.path)/index.txt
            new_certs_dir = \(dir.path)
            serial = \(dir.path)/serial
            default_md = sha256
            policy = any
            [any]
            commonName = supplied
            """.write(to: dir.appendingPathComponent("ca.cnf"), atomically: true, encoding: .utf8)
        let csr = dir.appendingPathComponent("old.csr").path, crt = dir.appendingPathComponent("old.crt").path
        try TestPKI.openssl(["req", "-new", "-key", world.pki.path("device.key"), "-out", csr, "-subj", "/CN=unit-TPE-DA-01"])
        try TestPKI.openssl(["ca", "-batch", "-config", dir.appendingPathComponent("ca.cnf").path, "-cert", world.pki.path("ca.crt"),
                             "-keyfile", world.pki.path("ca.key"), "-in", csr, "-out", crt, "-notext",
                             "-startdate", "20250101000000Z", "-enddate", "20250102000000Z"])
        Self.expectStep(try world.diag(certificate: crt), "certificate", "fail", reason: "certificate.expired")
    }

    @Test("a device certificate the center does not accept: client-certificate fails")
    func refusedClientCertificate() throws {
        let world = try World()
        defer { world.stop() }
        // Signed by another CA than the one nginx verifies clients against.
        let csr = world.pki.path("stranger.csr"), crt = world.pki.path("stranger.crt")
        try TestPKI.openssl(["req", "-new", "-key", world.pki.path("device.key"), "-out", csr, "-subj", "/CN=unit-TPE-DA-01"])
        try TestPKI.openssl(["x509", "-req", "-in", csr, "-CA", world.pki.path("other-ca.crt"), "-CAkey", world.pki.path("other-ca.key"),
                             "-CAcreateserial", "-out", crt, "-days", "30"])
        let result = try world.diag(certificate: crt)
        Self.expectStep(result, "certificate", "ok", reason: nil)
        Self.expectStep(result, "client-certificate", "fail", reason: "client-certificate.refused")
    }

    @Test("an expired manifest, then a tampered signature: manifest-trust names each")
    func manifestFaults() throws {
        let world = try World()
        defer { world.stop() }
        try world.publish(now: Int64(Date().timeIntervalSince1970) - 3 * 86_400, validDays: 1)
        Self.expectStep(try world.diag(), "manifest-trust", "fail", reason: "manifest.expired")

        try world.publish()
        let url = world.nginx.root.appendingPathComponent("manifest.json")
        var envelope = try JSONSerialization.jsonObject(with: Data(contentsOf: url)) as! [String: Any]
        var signatures = envelope["signatures"] as! [[String: Any]]
        var signature = Array(signatures[0]["sig"] as! String)
        signature[4] = signature[4] == "A" ? "B" : "A"
        signatures[0]["sig"] = String(signature)
        envelope["signatures"] = signatures
        try JSONSerialization.data(withJSONObject: envelope).write(to: url)
        try FileManager.default.setAttributes([.posixPermissions: 0o644], ofItemAtPath: url.path)
        Self.expectStep(try world.diag(), "manifest-trust", "fail", reason: "manifest.bad-signature")
    }

    @Test("diag under a clock an hour ahead of the center's (libfaketime): clock fails; two minutes ahead: warns")
    func clockSkew() throws {
        let world = try World()
        defer { world.stop() }
        Self.expectStep(try world.diag(clockOffset: "+1h"), "clock", "fail", reason: "clock.skew")
        // (Behind, the test certificates made a moment ago are not valid yet: TLS itself fails.)
        let slight = try world.diag(clockOffset: "+120s")
        Self.expectStep(slight, "clock", "warn", reason: "clock.skew")
        #expect((Self.step(slight.report, "clock")["detail"] as? String)?.contains("ahead") == true)
    }

    @Test("gpsd not running: the gpsd step fails")
    func gpsdDown() throws {
        let world = try World()
        defer { world.stop() }
        Self.expectStep(try world.diag(gpsd: "127.0.0.1:\(try LoopbackPort.free())"), "gpsd", "fail", reason: "gpsd.unreachable")
    }

    @Test("a corrupted lists database: the databases step fails")
    func corruptedLists() throws {
        let world = try World()
        defer { world.stop() }
        let file = try FileManager.default.destinationOfSymbolicLink(atPath: world.state.appendingPathComponent("lists.db").path)
        let path = file.hasPrefix("/") ? file : world.state.appendingPathComponent(file).path
        let handle = try #require(FileHandle(forUpdatingAtPath: path))
        // Garbage over pages in the middle of the file (the header stays, so it still opens).
        let size = try handle.seekToEnd()
        try handle.seek(toOffset: size / 3)
        try handle.write(contentsOf: Data((0..<(64 * 1024)).map { UInt8(truncatingIfNeeded: $0 &* 31 &+ 7) }))
        try handle.close()
        let result = try world.diag()
        Self.expectStep(result, "databases", "fail", reason: "database.corrupt")
        Self.expectStep(result, "lists", "skipped", reason: "after-databases")
    }

    @Test("the disk step follows the free space: ok, then disk.low, then disk.full as the state partition fills",
          .enabled(if: getuid() == 0, "mounting a small tmpfs needs root"))
    func fullDisk() throws {
        let world = try World()
        defer { world.stop() }
        // The terminal's state moved onto a 256 MB partition of its own. A snapshot needs the
        // lists' size plus 64 MB: ok above twice that, low below it, full below once.
        let mount = try world.scratch.url.appendingPathComponent("small").creatingDirectory()
        try Self.check(Programs.system("/bin/mount", ["-t", "tmpfs", "-o", "size=256m", "tmpfs", mount.path]))
        defer { _ = try? Programs.system("/bin/umount", [mount.path]) }
        let moved = mount.appendingPathComponent("state")
        try Self.check(Programs.system("/bin/cp", ["-a", world.state.path, moved.path]))
        try FileManager.default.removeItem(at: world.state)
        try FileManager.default.createSymbolicLink(at: world.state, withDestinationURL: moved)
        Self.expectStep(try world.diag(), "disk", "ok", reason: nil)

        func freeMB() -> Int {
            var info = statvfs()
            statvfs(mount.path, &info)
            return Int(Double(info.f_bavail) * Double(info.f_frsize) / 1_048_576)
        }
        // Leave 100 MB: below twice what a snapshot needs, above once.
        try Self.check(Programs.system("/bin/dd", ["if=/dev/zero", "of=\(mount.path)/filler-1", "bs=1M", "count=\(freeMB() - 100)"]))
        Self.expectStep(try world.diag(), "disk", "warn", reason: "disk.low")
        // And then the rest.
        _ = try Programs.system("/bin/dd", ["if=/dev/zero", "of=\(mount.path)/filler-2", "bs=64k"])
        #expect(freeMB() == 0)
        Self.expectStep(try world.diag(), "disk", "fail", reason: "disk.full")
    }
}
