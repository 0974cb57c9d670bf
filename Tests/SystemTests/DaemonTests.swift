import Central
import FieldSync
import FieldWire
import Foundation
import LocalAPIClient
import Store
import TestSupport
import Testing
import Watchlist

/// The built `mpoliced` as systemd runs it: READY on a notification socket the test owns,
/// driven through its real socket by `mpolicectl` and raw HTTP, stopped by SIGTERM.
@Suite("mpoliced as a service", .serialized)
struct DaemonTests {
    /// A scratch directory with generated lists.
    static func state(records: Int = 2_000) throws -> (Scratch, URL) {
        let scratch = try Scratch()
        try FileManager.default.setAttributes([.posixPermissions: 0o755], ofItemAtPath: scratch.path)
        let state = scratch.url.appendingPathComponent("state")
        let run = try Programs.run("mpolice-central", ["generate", "--out", state.path, "--records", "\(records)"])
        guard run.status == 0 else { throw TestError("generate: \(run.stderr)") }
        return (scratch, state)
    }

    @Test("starts, says READY, answers mpolicectl and raw HTTP, and stops cleanly on SIGTERM with STOPPING")
    func lifecycle() throws {
        let (scratch, daemon) = try DaemonProcess.started()
        defer { scratch.remove() }
        let env = ["MPOLICE_SOCKET": daemon.socketPath]

        // Checks need a signed-in officer.
        let refused = try Programs.run("mpolicectl", ["check", "plate", "BLT-8023", "--json"], environment: env)
        #expect(refused.status == 2, "no officer is a refusal, exit 2 as with --db")
        #expect(refused.stdout.contains(#""code":"session.none""#))
        #expect(try Programs.run("mpolicectl", ["signin", DemoRecords.officer.officerId], environment: env, input: DemoRecords.officer.pin + "\n").status == 0)
        let hit = try Programs.run("mpolicectl", ["check", "plate", "BLT-8023", "--json"], environment: env)
        #expect(hit.status == 0, "\(hit.stderr)")
        let answer = try hit.json()
        #expect(answer["outcome"] as? String == "hit")
        #expect(answer["officerId"] as? String == "OF-0042")
        #expect(answer["unitId"] as? String == "TPE-DA-01")
        let bad = try Programs.run("mpolicectl", ["check", "plate", "AB'1", "--json"], environment: env)
        #expect(bad.status == 2)

        // Raw HTTP: the same answer shape, strict bodies, JSON errors.
        let person = try daemon.client.json("POST", "/v1/checks/person", ["id": "F131680258", "purpose": "law-6-1"])
        #expect(person.status == 200)
        #expect(person.object["outcome"] as? String == "hit")
        let unknown = try daemon.client.json("POST", "/v1/checks/plate", ["plate": "ABC-1235", "colour": "red"])
        #expect(unknown.status == 400)
        #expect((unknown.object["error"] as? [String: Any])?["field"] as? String == "colour")
        let wrongType = try daemon.client.json("POST", "/v1/checks/plate", ["plate": 12])
        #expect(wrongType.status == 400)
        #expect((wrongType.object["error"] as? [String: Any])?["code"] as? String == "request.wrong-type")
        let garbage = try daemon.client.request("POST", "/v1/checks/plate", json: Data("{not json".utf8))
        #expect(garbage.status == 400)
        let huge = try daemon.client.request("POST", "/v1/checks/plate", json: Data(("{\"plate\":\"" + String(repeating: "A", count: 40_000) + "\"}").utf8))
        #expect(huge.status == 413)
        let missing = try daemon.client.json("GET", "/v1/nothing")
        #expect(missing.status == 404)
        #expect((missing.object["error"] as? [String: Any])?["code"] as? String == "request.not-found")

        let signedOut = try Programs.run("mpolicectl", ["signout", "--json"], environment: env)
        #expect(signedOut.stdout.contains(#""signedOut":true"#))
        #expect(try daemon.client.json("GET", "/v1/session").status == 404)

        // Every answered check went into the journal (refused entries are not checks).
        let status = try daemon.client.json("GET", "/v1/status")
        #expect(status.object["checkRecords"] as? Int == 2)
        #expect(status.object["officer"] == nil, "signed out")

        let (exit, seconds) = daemon.stop()
        #expect(exit == 0, "\(daemon.log)")
        #expect(seconds < 10)
        #expect(daemon.notify.wait(for: "STOPPING=1", timeout: 2))
        #expect(throws: APIClient.Unreachable.self) { try daemon.client.request("GET", "/v1/health") }
        let down = try Programs.run("mpolicectl", ["status"], environment: env)
        #expect(down.status == 1)
        #expect(down.stderr.contains("daemon.unreachable"))
        // No plate, ID or name in the log at info level.
        #expect(!daemon.log.contains("BLT") && !daemon.log.contains("F131680258"))
    }

    /// docs/operations.md's exit-code table, row by row, on both paths: with `--db` (the
    /// files) and through the daemon. The same situation exits the same way on either.
    @Test("one exit-code table for both paths: 0 done, 1 unusable, 2 refused, 64 usage")
    func exitCodes() throws {
        let (scratch, daemon) = try DaemonProcess.started()
        defer { scratch.remove() }
        let viaDaemon = ["MPOLICE_SOCKET": daemon.socketPath]
        func run(_ arguments: [String], db: Bool, officer: Bool = false) throws -> Programs.Run {
            if db { return try Programs.run("mpolicectl", arguments + ["--db", daemon.stateDirectory.path] + (officer ? ["--officer", "OF-7"] : [])) }
            if officer { _ = try Programs.run("mpolicectl", ["signin", DemoRecords.officer.officerId], environment: viaDaemon, input: DemoRecords.officer.pin + "\n") }
            else { _ = try Programs.run("mpolicectl", ["signout"], environment: viaDaemon) }
            return try Programs.run("mpolicectl", arguments, environment: viaDaemon)
        }
        for db in [true, false] {
            let path = db ? "--db" : "daemon"
            #expect(try run(["check", "plate", DemoRecords.stolenPlate], db: db, officer: true).status == 0, "\(path): a hit is done")
            #expect(try run(["check", "plate", "ZZZ-0000"], db: db, officer: true).status == 0, "\(path): a no-hit is done")
            #expect(try run(["status"], db: db).status == 0, "\(path): status")
            let noOfficer = try run(["check", "plate", DemoRecords.stolenPlate], db: db)
            #expect(noOfficer.status == 2, "\(path): no officer is refused: \(noOfficer.stderr)")
            let badPlate = try run(["check", "plate", "!!"], db: db, officer: true)
            #expect(badPlate.status == 2, "\(path): a bad entry is refused: \(badPlate.stderr)")
            let usage = try run(["check", "plate"], db: db, officer: true)
            #expect(usage.status == 64, "\(path): usage: \(usage.stderr)")
        }
        // Refused by the daemon: an unknown dispatch, a status that does not exist.
        let unknown = try Programs.run("mpolicectl", ["dispatch", "status", "D-404", "en-route"], environment: viaDaemon)
        #expect(unknown.status == 2, "\(unknown.stderr)")
        let badStatus = try Programs.run("mpolicectl", ["dispatch", "status", "D-404", "flying"], environment: viaDaemon)
        #expect(badStatus.status == 2, "\(badStatus.stderr)")
        #expect(daemon.stop().status == 0)

        // Unusable: no daemon on the socket; a state directory that cannot be one.
        let down = try Programs.run("mpolicectl", ["check", "plate", "ABC-1234"], environment: viaDaemon)
        #expect(down.status == 1 && down.stderr.contains("daemon.unreachable"), "\(down.stderr)")
        let notADirectory = scratch.url.appendingPathComponent("file")
        try Data().write(to: notADirectory)
        let broken = try Programs.run("mpolicectl", ["check", "plate", "ABC-1234", "--db", notADirectory.path, "--officer", "OF-7"])
        #expect(broken.status == 1, "\(broken.stderr)")
    }

    @Test("a bad configuration stops start-up with exit 78, naming the key and line", arguments: [
        ("[terminal]\nunit = TPE-DA-01\n[api]\nmax_body_bytes = lots\n", "api.max_body_bytes", ":4:"),
        ("[terminal]\nunit = TPE-DA-01\n[sync]\ncentral = http://plain.example/\n", "sync.central", ":4:"),
        ("[terminal]\nunit = TPE-DA-01\n[api]\nsokcet = /tmp/x\n", "api.sokcet", ":4:"),
        ("[api]\nsocket = /tmp/x.sock\n", "terminal.unit", "required"),
        ("[terminal]\nunit = TPE-DA-01\nunit = TPE-DA-02\n", "terminal.unit", ":3:"),
    ])
    func badConfiguration(text: String, key: String, detail: String) throws {
        let scratch = try Scratch()
        defer { scratch.remove() }
        let config = scratch.url.appendingPathComponent("bad.conf")
        try text.write(to: config, atomically: true, encoding: .utf8)
        let run = try Programs.run("mpoliced", ["--config", config.path])
        #expect(run.status == 78)
        #expect(run.stderr.contains(key), "\(run.stderr)")
        #expect(run.stderr.contains(detail), "\(run.stderr)")
    }

    @Test("a peer that is not allowed is disconnected; an allowed one is served")
    func peerCredentials() throws {
        let (scratch, state) = try Self.state()
        defer { scratch.remove() }
        // The socket is world-writable here, so only the peer check can refuse.
        let daemon = try DaemonProcess(in: scratch.url, stateDirectory: state, extra: "")
        try daemon.start()
        _ = chmod(daemon.socketPath, 0o666)
        let asNobody = ["--reuid=65534", "--regid=65534", "--clear-groups", "/usr/bin/curl", "-sS", "--unix-socket", daemon.socketPath,
                        "http://localhost/v1/health"]
        let refused = try Programs.system("/usr/bin/setpriv", asNobody)
        #expect(refused.status != 0, "nobody got: \(refused.stdout)")
        #expect(refused.stderr.contains("Empty reply") || refused.stderr.contains("reset") || refused.stderr.contains("Recv failure"),
                "\(refused.stderr)")
        #expect(daemon.log.contains("local API connection refused") && daemon.log.contains("uid=65534"))
        #expect(try daemon.client.json("GET", "/v1/health").status == 200, "root is still served")
        #expect(daemon.stop().status == 0)

        let second = try scratch.url.appendingPathComponent("second").creatingDirectory()
        let allowing = try DaemonProcess(in: second, stateDirectory: state, extra: "")
        // Same daemon configuration, plus nobody allowed by name.
        let config = second.appendingPathComponent("mpoliced.conf")
        let text = try String(contentsOf: config, encoding: .utf8).replacingOccurrences(of: "allowed_groups =", with: "allowed_groups =\nallowed_users = nobody")
        try text.write(to: config, atomically: true, encoding: .utf8)
        try allowing.start()
        _ = chmod(allowing.socketPath, 0o666)
        let served = try Programs.system("/usr/bin/setpriv", asNobody.map { $0 == daemon.socketPath ? allowing.socketPath : $0 })
        #expect(served.status == 0, "\(served.stderr)")
        #expect(served.stdout.contains(#""status":"ok""#))
        #expect(allowing.stop().status == 0)
    }

    /// The production permission path with real accounts: the daemon's user in the UI group
    /// (systemd's SupplementaryGroups=), the socket 0660 owned by that group, a member of it
    /// served, a user outside it turned away by the kernel before the daemon sees it.
    @Test("socket 0660 of group mpolice-ui: a member of the group is served, a non-member cannot connect")
    func socketByGroup() throws {
        let ui = "mpolice-ui-test"
        let uiGID = try SystemAccounts.group(ui)
        let service = try SystemAccounts.user("mpolice-test-daemon", groups: [ui])
        let member = try SystemAccounts.user("mpolice-test-member", groups: [ui])
        let outsider = try SystemAccounts.user("mpolice-test-outsider")
        let (scratch, state) = try Self.state()
        defer { scratch.remove() }
        try Self.give(state, to: service)
        let home = try scratch.url.appendingPathComponent("daemon").creatingDirectory()
        chown(home.path, service.uid, service.gid)
        chmod(home.path, 0o755)
        let daemon = try DaemonProcess(in: home, stateDirectory: state, socketGroup: ui, allowedGroups: ui,
                                       user: (service.uid, service.gid), groups: [uiGID])
        try daemon.start()
        var info = stat()
        #expect(stat(daemon.socketPath, &info) == 0)
        #expect(info.st_mode & 0o7777 == 0o660, "mode \(String(info.st_mode & 0o7777, radix: 8))")
        #expect(info.st_uid == service.uid && info.st_gid == uiGID, "owner \(info.st_uid):\(info.st_gid)")

        func health(as user: (uid: uid_t, gid: gid_t)) throws -> Programs.Run {
            try Programs.system("/usr/bin/setpriv", ["--reuid=\(user.uid)", "--regid=\(user.gid)", "--init-groups",
                                                     "/usr/bin/curl", "-sS", "--unix-socket", daemon.socketPath, "http://localhost/v1/health"])
        }
        let served = try health(as: member)
        #expect(served.status == 0 && served.stdout.contains(#""status":"ok""#), "member: \(served.stdout)\(served.stderr)")
        let refused = try health(as: outsider)
        #expect(refused.status == 7, "curl: couldn't connect, got \(refused.status): \(refused.stdout)\(refused.stderr)")
        #expect(refused.stdout.isEmpty)
        #expect(!daemon.log.contains("local API connection refused"), "the kernel refused, the daemon never saw it")
        #expect(daemon.stop().status == 0)

        // Without the group (SupplementaryGroups= forgotten) the socket cannot be given to it:
        // start-up fails with the reason, and READY=1 is never sent.
        let second = try scratch.url.appendingPathComponent("second").creatingDirectory()
        chown(second.path, service.uid, service.gid)
        let ungrouped = try DaemonProcess(in: second, stateDirectory: state, socketGroup: ui, allowedGroups: ui,
                                          user: (service.uid, service.gid))
        #expect(throws: TestError.self) { try ungrouped.start(timeout: 10) }
        ungrouped.process.waitUntilExit()
        #expect(ungrouped.process.terminationStatus == 1, "\(ungrouped.log)")
        #expect(ungrouped.log.contains("cannot give \(ungrouped.socketPath) to group \(ui)"), "\(ungrouped.log)")
        #expect(ungrouped.notify.count("READY=1") == 0)
    }

    /// Makes `directory` and everything in it belong to `user`, as systemd's StateDirectory= does.
    static func give(_ directory: URL, to user: (uid: uid_t, gid: gid_t)) throws {
        chown(directory.path, user.uid, user.gid)
        for case let file as URL in FileManager.default.enumerator(at: directory, includingPropertiesForKeys: nil)! {
            lchown(file.path, user.uid, user.gid)
        }
    }

    @Test("with WatchdogSec, WATCHDOG=1 arrives at half the interval, with STATUS lines")
    func watchdog() throws {
        let (scratch, state) = try Self.state()
        defer { scratch.remove() }
        // WatchdogSec=2: pings every second. Pings at the full interval (2 s) would let one
        // late ping kill the service; pings far faster would waste wake-ups on a handheld.
        let daemon = try DaemonProcess(in: scratch.url, stateDirectory: state, environment: ["WATCHDOG_USEC": "2000000"])
        try daemon.start()
        #expect(daemon.notify.wait(for: "STATUS=lists v1/v1/v1", timeout: 5))
        let deadline = Date().addingTimeInterval(15)
        while daemon.notify.arrivals(of: "WATCHDOG=1").count < 7, Date() < deadline { usleep(50_000) }
        let pings = daemon.notify.arrivals(of: "WATCHDOG=1")
        #expect(pings.count >= 7, "\(daemon.notify.received)")
        let gaps = zip(pings.dropFirst(), pings).map { Double(($0 - $1).components.attoseconds) / 1e18 + Double(($0 - $1).components.seconds) }.sorted()
        let median = gaps[gaps.count / 2]
        #expect(median > 0.8 && median < 1.25, "median gap \(median) s for a 2 s watchdog: \(gaps)")
        #expect(gaps.last! < 1.9, "no gap reaches the interval: \(gaps)")
        #expect(daemon.stop().status == 0)
    }

    @Test("50 concurrent clients doing 1,000 checks each: no error, every check journaled, the daemon's threads share two malloc arenas")
    func concurrentClients() throws {
        let (scratch, daemon) = try DaemonProcess.started()
        defer { scratch.remove() }
        #expect(try daemon.client.signIn().status == 201)
        let failures = Counter()
        let group = DispatchGroup()
        let plates = ["BLT-8023", "ABC-1235", "8LT-8O23", "MKZ-5102", "XYZ-7777"]
        let socketPath = daemon.socketPath
        for client in 0..<50 {
            // Threads of their own: 50 blocked clients must not fill the shared dispatch pool
            // that other tests running alongside rely on.
            group.enter()
            Thread {
                defer { group.leave() }
                let api = APIClient(socketPath: socketPath)
                for i in 0..<1_000 {
                    let body = Data(#"{"plate":"\#(plates[(client + i) % plates.count])"}"#.utf8)
                    guard let response = try? api.request("POST", "/v1/checks/plate", json: body), response.status == 200 else {
                        failures.add()
                        continue
                    }
                }
            }.start()
        }
        group.wait()
        #expect(failures.value == 0)
        let status = try daemon.client.json("GET", "/v1/status")
        #expect(status.object["checkRecords"] as? Int == 50_000)
        // The main arena lives in the program's heap; each other arena is a 64 MiB-aligned
        // reservation of 64 MiB (ProcessMemory.mallocArenas caps them at two in all).
        // (/proc files are read to their end through a handle: String(contentsOfFile:) stops at a page.)
        let maps = try #require(FileHandle(forReadingAtPath: "/proc/\(daemon.process.processIdentifier)/maps")).readDataToEndOfFile()
        let heaps = Self.mallocHeaps(String(decoding: maps, as: UTF8.self))
        #expect(heaps <= 1, "\(heaps) malloc heaps besides the main arena")
        #expect(daemon.stop().status == 0)
    }

    /// glibc's heaps of arenas other than the main one in a /proc/<pid>/maps text: anonymous
    /// mappings that start on a 64 MiB boundary and, with the reserved rest after them, span
    /// exactly 64 MiB.
    static func mallocHeaps(_ maps: String) -> Int {
        let heapSize: UInt = 64 << 20
        let regions = maps.split(separator: "\n").compactMap { line -> (range: Range<UInt>, anonymous: Bool)? in
            let fields = line.split(separator: " ", omittingEmptySubsequences: true)
            let bounds = fields.first?.split(separator: "-") ?? []
            guard fields.count >= 5, bounds.count == 2, let low = UInt(bounds[0], radix: 16), let high = UInt(bounds[1], radix: 16) else { return nil }
            return (low..<high, fields.count == 5)
        }
        return regions.indices.filter { i in
            let start = regions[i].range.lowerBound
            guard regions[i].anonymous, start % heapSize == 0 else { return false }
            var end = regions[i].range.upperBound, j = i + 1
            while end < start + heapSize, j < regions.count, regions[j].anonymous, regions[j].range.lowerBound == end {
                end = regions[j].range.upperBound
                j += 1
            }
            return end == start + heapSize
        }.count
    }

    @Test("sync-now through the API applies the next version and the event stream says so")
    func syncNowAndEvents() throws {
        let (scratch, state) = try Self.state(records: 500)
        defer { scratch.remove() }
        // A center: keys, a published directory behind nginx with client certificates.
        let pki = try TestPKI(in: scratch.url.appendingPathComponent("pki", isDirectory: true).creatingDirectory())
        let nginx = try NginxTLS(pki: pki)
        defer { nginx.stop() }
        let keys = scratch.url.appendingPathComponent("keys")
        #expect(try Programs.run("mpolice-central", ["keys", "init", "--dir", keys.path]).status == 0)
        let dataset = state.appendingPathComponent("dataset").path
        #expect(try Programs.run("mpolice-central", ["publish", "--dataset", dataset, "--keys", keys.path, "--out", nginx.root.path]).status == 0)
        let daemon = try DaemonProcess(in: scratch.url, stateDirectory: state, extra: """
            [sync]
            central = https://127.0.0.1:\(nginx.port)/
            ca = \(pki.path("ca.crt"))
            certificate = \(pki.path("device.crt"))
            key = \(pki.path("device.key"))
            trust_root = \(keys.appendingPathComponent("root.json").path)
            interval = 3600
            """)
        try daemon.start()
        // The first sync runs at start.
        _ = eventually(timeout: 20) { ((try? daemon.client.json("GET", "/v1/status").object["lastSync"]) as? [String: Any]) != nil }
        let first = try daemon.client.json("GET", "/v1/status")
        #expect((first.object["lastSync"] as? [String: Any])?["outcome"] as? String == "updated", "\(first.object)")

        // Follow the events, publish a change, ask for a sync now.
        let events = EventCollector(client: daemon.client)
        #expect(events.waitConnected(timeout: 5))
        try StolenVehicleEdits.apply(to: URL(fileURLWithPath: dataset)) { _, _, line in line.contains(",BLT-8023,") ? .drop : .keep }
        #expect(try Programs.run("mpolice-central", ["publish", "--dataset", dataset, "--keys", keys.path, "--out", nginx.root.path]).status == 0)
        let now = try Programs.run("mpolicectl", ["sync", "--now"], environment: ["MPOLICE_SOCKET": daemon.socketPath])
        #expect(now.status == 0, "\(now.stderr)")
        #expect(events.wait(for: "list-updated", timeout: 15), "\(events.text)")
        #expect(try daemon.client.signIn().status == 201)
        #expect(try daemon.client.json("POST", "/v1/checks/plate", ["plate": "BLT-8023"]).object["outcome"] as? String == "no-hit")
        #expect(daemon.stop().status == 0)
    }
}

final class Counter: @unchecked Sendable {
    private let lock = NSLock()
    private var n = 0
    func add() { lock.withLock { n += 1 } }
    var value: Int { lock.withLock { n } }
}

/// Reads /v1/events on a background thread.
final class EventCollector: @unchecked Sendable {
    private let lock = NSLock()
    private var buffer = ""

    init(client: APIClient) {
        Thread {
            _ = try? client.stream("/v1/events") { [self] data in
                lock.withLock { buffer += String(decoding: data, as: UTF8.self) }
                return true
            }
        }.start()
    }

    var text: String { lock.withLock { buffer } }

    /// Waits for the stream's opening comment: from then on no event is missed.
    func waitConnected(timeout: Double) -> Bool {
        eventually(timeout: timeout) { text.contains(": connected") }
    }

    func wait(for event: String, timeout: Double) -> Bool {
        let deadline = Date().addingTimeInterval(timeout)
        while Date() < deadline {
            if text.contains("event: \(event)") { return true }
            usleep(50_000)
        }
        return false
    }
}

extension URL {
    func creatingDirectory() throws -> URL {
        try FileManager.default.createDirectory(at: self, withIntermediateDirectories: true)
        return self
    }
}
