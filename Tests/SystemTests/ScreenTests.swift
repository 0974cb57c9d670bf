import Central
import FieldWire
import Foundation
import LocalAPIClient
import TestSupport
import Testing

/// The officer's screen: the bridge's refusals (no token, a foreign Host or Origin, CORS
/// preflights, oversized bodies) with curl; the screen itself in headless Chromium driven by
/// Selenium against the whole stack; and `make demo`'s script, unattended.
@Suite("the officer's screen", .serialized)
struct ScreenTests {
    static let root = SchemathesisTests.root
    static let python = root.appendingPathComponent(".build/pytools/bin/python3").path
    static let assets = root.appendingPathComponent("Sources/mpolice-screen/Assets")
    /// Where the screenshots go (the two in the README come from here).
    static let screenshots = root.appendingPathComponent(".build/screenshots")

    /// `mpolice-screen` started on a free port against `socket`; returns it, its port and token.
    static func startBridge(socket: String, in dir: URL) throws -> (Process, Int, String) {
        let port = try LoopbackPort.free()
        let tokenFile = dir.appendingPathComponent("screen-token")
        let process = Process()
        process.executableURL = Programs.binDirectory.appendingPathComponent("mpolice-screen")
        process.arguments = ["--socket", socket, "--port", "\(port)", "--assets", assets.path, "--token-file", tokenFile.path,
                             "--token-group", "root"]
        process.standardError = FileHandle.nullDevice
        try process.run()
        guard eventually(timeout: 20, { LoopbackPort.accepts(port) }),
              let token = try? String(contentsOf: tokenFile, encoding: .utf8).trimmingCharacters(in: .whitespacesAndNewlines) else {
            process.terminate()
            throw TestError("mpolice-screen did not start")
        }
        return (process, port, token)
    }

    /// curl -i: the status, the headers (lower-cased names) and the body.
    static func curl(_ arguments: [String]) throws -> (status: Int, headers: [String: String], body: String) {
        let run = try Programs.system("/usr/bin/curl", ["-s", "-i", "--path-as-is", "--max-time", "10"] + arguments)
        let parts = run.stdout.components(separatedBy: "\r\n\r\n")
        let head = parts.first ?? ""
        var headers: [String: String] = [:]
        for line in head.split(separator: "\r\n").dropFirst() {
            if let colon = line.firstIndex(of: ":") {
                headers[line[..<colon].lowercased()] = line[line.index(after: colon)...].trimmingCharacters(in: .whitespaces)
            }
        }
        let status = Int(head.split(separator: " ").dropFirst().first ?? "") ?? 0
        return (status, headers, parts.dropFirst().joined(separator: "\r\n\r\n"))
    }

    static func code(_ body: String) -> String? {
        ((try? JSONSerialization.jsonObject(with: Data(body.utf8))) as? [String: Any])
            .flatMap { ($0["error"] as? [String: Any])?["code"] as? String }
    }

    @Test("the bridge refuses requests without the token, with a foreign Host or Origin, CORS preflights and oversized bodies; sends a strict CSP and no CORS; passes the rest through, the event stream included")
    func bridgeSecurity() throws {
        let (scratch, daemon) = try DaemonProcess.started()
        defer { scratch.remove() }
        let (bridge, port, token) = try Self.startBridge(socket: daemon.socketPath, in: scratch.url)
        defer { bridge.terminate() }
        let base = "http://127.0.0.1:\(port)"
        let auth = ["-H", "Authorization: Bearer \(token)"]

        // The token file: the UI's group reads it, nobody else.
        var info = stat()
        #expect(stat(scratch.url.appendingPathComponent("screen-token").path, &info) == 0 && info.st_mode & 0o777 == 0o640)
        #expect(token.count == 64 && token.allSatisfy(\.isHexDigit))

        let page = try Self.curl([base + "/"])
        #expect(page.status == 200 && page.headers["content-type"]?.hasPrefix("text/html") == true)
        #expect(page.headers["content-security-policy"]?.contains("default-src 'none'") == true)
        #expect(page.headers["content-security-policy"]?.contains("frame-ancestors 'none'") == true)
        #expect(page.headers["x-content-type-options"] == "nosniff")
        #expect(page.body.contains("app.js"))

        let status = try Self.curl(auth + [base + "/v1/status"])
        #expect(status.status == 200 && status.body.contains("\"lists\""), "\(status)")
        #expect(status.headers.keys.allSatisfy { !$0.hasPrefix("access-control-") })

        let noToken = try Self.curl([base + "/v1/status"])
        #expect(noToken.status == 401 && Self.code(noToken.body) == "bridge.token")
        let wrongToken = try Self.curl(["-H", "Authorization: Bearer \(String(repeating: "0", count: 64))", base + "/v1/status"])
        #expect(wrongToken.status == 401 && Self.code(wrongToken.body) == "bridge.token")
        let rebound = try Self.curl(auth + ["-H", "Host: evil.example:\(port)", base + "/v1/status"])
        #expect(rebound.status == 403 && Self.code(rebound.body) == "bridge.foreign-host", "DNS rebinding")
        let reboundPage = try Self.curl(["-H", "Host: evil.example:\(port)", base + "/"])
        #expect(reboundPage.status == 403, "not even the page is served to a foreign name")
        let foreign = try Self.curl(auth + ["-H", "Origin: http://evil.example", base + "/v1/status"])
        #expect(foreign.status == 403 && Self.code(foreign.body) == "bridge.foreign-origin")
        let crossSite = try Self.curl(auth + ["-H", "Sec-Fetch-Site: cross-site", base + "/v1/status"])
        #expect(crossSite.status == 403)
        let preflight = try Self.curl(["-X", "OPTIONS", "-H", "Access-Control-Request-Method: POST", base + "/v1/checks/plate"])
        #expect(preflight.status == 405 && preflight.headers.keys.allSatisfy { !$0.hasPrefix("access-control-") })
        let sameOrigin = try Self.curl(auth + ["-H", "Origin: http://127.0.0.1:\(port)", base + "/v1/health"])
        #expect(sameOrigin.status == 200)

        // The daemon's own rules still hold behind the bridge: strict bodies, its limit.
        let big = String(repeating: "A", count: 20_000)
        let tooLarge = try Self.curl(auth + ["-H", "Content-Type: application/json", "--data", #"{"plate":"\#(big)"}"#, base + "/v1/checks/plate"])
        #expect(tooLarge.status == 413)
        let noOfficer = try Self.curl(auth + ["-H", "Content-Type: application/json", "--data", #"{"plate":"BLT-8023"}"#, base + "/v1/checks/plate"])
        #expect(noOfficer.status == 403 && Self.code(noOfficer.body) == "session.none")
        // Only the app's files: no path reaches the file system.
        #expect(try Self.curl([base + "/../../etc/passwd"]).status == 404)
        #expect(try Self.curl([base + "/Assets/app.js"]).status == 404)

        // The event stream passes through.
        let events = try Programs.system("/usr/bin/curl", ["-s", "-N", "--max-time", "2", "-H", "Authorization: Bearer \(token)", base + "/v1/events"])
        #expect(events.stdout.contains(": connected"))
        #expect(daemon.stop().status == 0)
    }

    @Test("the officer's screen in headless Chromium: sign in, a HIT confirmed with the center, a POSSIBLE HIT with the differing positions marked, a wanted person's photos arriving beside the record, a dispatch over SSE through en route, on scene, cleared, the emergency button raised and cancelled with the PIN, an urgent bulletin in the status bar and in the next answer, and the center going offline in the status bar")
    func screenInChromium() throws {
        let world = try UplinkWorld()
        defer { world.stop() }
        let keys = world.scratch.url.appendingPathComponent("keys")
        let now = Int64(Date().timeIntervalSince1970)
        try CentralKeys.initialise(in: keys, now: now - 60, validFor: 365 * 86_400)
        let dataset = world.scratch.url.appendingPathComponent("dataset")
        try DatasetGenerator(counts: .init(records: 500), seed: 5, issuedAt: now - 60, photos: 20).write(to: dataset)
        // The center keeps the published records: a confirmation is answered from them.
        try Publisher(directory: world.nginx.root, keysDirectory: keys).publish(dataset: dataset, now: now - 60, validFor: 7 * 86_400, keepDeltas: 30,
                                                                               center: UplinkDatabase(world.databasePath))
        let scratch = try Scratch("screen")
        defer { scratch.remove() }
        try FileManager.default.setAttributes([.posixPermissions: 0o755], ofItemAtPath: scratch.path)
        let daemon = try DaemonProcess(in: scratch.url, stateDirectory: scratch.url.appendingPathComponent("state"), extra: """
            [sync]
            central = https://127.0.0.1:\(world.proxy.port)/
            ca = \(world.pki.path("ca.crt"))
            certificate = \(world.pki.path("device.crt"))
            key = \(world.pki.path("device.key"))
            trust_root = \(keys.appendingPathComponent(CentralKeys.rootFile).path)
            connect_timeout = 2

            [uplink]
            central = \(world.uplinkURL)
            dispatch_wait = 5
            idle_interval = 1
            first_retry = 0.2
            max_retry = 1

            [photos]
            # Nothing prefetched: the wanted person's photos come for the hit, announced by event.
            budget_mb = 0
            """)
        try daemon.start()
        try #require(eventually(timeout: 30) { (try? daemon.client.json("GET", "/v1/status").object["manifestSequence"] as? Int) != nil })
        let (bridge, port, token) = try Self.startBridge(socket: daemon.socketPath, in: scratch.url)
        defer { bridge.terminate() }
        try FileManager.default.createDirectory(at: Self.screenshots, withIntermediateDirectories: true)

        let dispatch = "\(Programs.binDirectory.path)/mpolice-central dispatch create --db \(world.databasePath) --unit TPE-DA-01 "
            + "--lat 25.0330 --lon 121.5654 --priority urgent --summary '交通事故，信義路五段與松智路口'"
        let run = try Programs.system(Self.python, [
            Self.root.appendingPathComponent("Tests/Fixtures/screen/officer_session.py").path,
            "http://127.0.0.1:\(port)/#token=\(token)", "--out", Self.screenshots.path,
            "--dispatch-cmd", dispatch,
            "--bulletin-cmd", "\(Programs.binDirectory.path)/mpolice-central bulletin create --db \(world.databasePath) --keys \(keys.path) "
                + "--plate BOL-7788 --ttl 2h --summary '搶案逃逸車輛，白色休旅車'",
            "--stop-center-cmd", "kill \(world.nginx.processIdentifier)", "--wanted-id", DemoRecords.wantedID,
        ])
        print(run.stdout)
        #expect(run.status == 0, "\(run.stdout)\n\(run.stderr)\n\(daemon.log.suffix(2000))")
        for name in ["screen-hit.png", "screen-possible-hit.png", "screen-photo.png", "screen-dispatch.png", "screen-bulletin.png", "screen-offline.png"] {
            let size = (try? FileManager.default.attributesOfItem(atPath: Self.screenshots.appendingPathComponent(name).path)[.size] as? Int) ?? 0
            #expect(size > 10_000, "\(name): \(size) bytes")
        }
        // What the screen did reached the center: the dispatch's three changes, the emergency raised and cancelled.
        #expect(try eventually(timeout: 20) { try world.records(kind: "dispatch-status").count >= 4 })
        #expect(try eventually(timeout: 20) { try world.records(kind: "emergency").count == 2 })
        #expect(daemon.stop().status == 0)
    }

    @Test("make demo's script brings up the whole stack, runs its scripted session unattended and stops everything")
    func demoUnattended() throws {
        let scratch = try Scratch("demo", worldReadable: true)
        defer { scratch.remove() }
        // Bounded: a demo that hangs fails here instead of holding up the suite.
        let run = try Programs.system("/usr/bin/timeout", ["300", "/bin/bash", Self.root.appendingPathComponent("scripts/demo.sh").path],
                                      environment: ["MPOLICE_BIN_DIR": Programs.binDirectory.path, "DEMO_STATE": scratch.url.appendingPathComponent("demo").path],
                                      input: "")
        #expect(run.status == 0, "\(run.stdout.suffix(3000))\n\(run.stderr.suffix(3000))")
        for expected in ["the scripted session succeeded", "HIT — confirm", "POSSIBLE HIT", "DOCUMENT INVALID", "cancelled as of list version",
                         "suspended (2027-06-30, 酒後駕車)", "dispatch-status", "-face-", "-full-body-", "http://127.0.0.1:", "#token=",
                         "stopped everything it started"] {
            #expect(run.stdout.contains(expected) || run.stderr.contains(expected), "\(expected)")
        }
        // Nothing it started is left running.
        let left = try Programs.system("/usr/bin/pgrep", ["-f", scratch.url.path])
        #expect(left.stdout.isEmpty, "\(left.stdout)")
    }
}
