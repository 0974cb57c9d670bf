import Central
import FieldWire
import Foundation
import LocalAPIClient
import Store
import TestSupport
import Testing
import Watchlist

/// The terminal broken on purpose — as a careless technician, a hostile local client, a full
/// disk — against the built daemon and CLI on real files, with a real center behind nginx.
@Suite("Hardening: the built daemon and CLI under faults", .serialized)
struct HardeningTests {
    static let nobody: (uid: uid_t, gid: gid_t) = (65534, 65534)

    /// Every file under `url` (the directory itself included).
    static func files(_ url: URL) -> [URL] {
        let enumerator = FileManager.default.enumerator(at: url, includingPropertiesForKeys: nil)
        return [url] + (enumerator?.compactMap { $0 as? URL } ?? [])
    }

    static func owner(_ url: URL) -> (uid: uid_t, mode: mode_t) {
        var info = stat()
        lstat(url.path, &info)
        return (info.st_uid, info.st_mode & 0o777)
    }

    static func signIn(_ daemon: DaemonProcess) throws {
        #expect(try daemon.client.signIn().status == 201)
    }

    /// A plate check, signing the demo officer in first when nobody is (the roster lives in
    /// the lists: while they are unavailable nobody can sign in).
    static func checkPlate(_ daemon: DaemonProcess, _ plate: String) throws -> (status: Int, object: [String: Any]) {
        let answer = try daemon.client.json("POST", "/v1/checks/plate", ["plate": plate])
        guard answer.status == 403, try daemon.client.signIn().status == 201 else { return answer }
        return try daemon.client.json("POST", "/v1/checks/plate", ["plate": plate])
    }

    @Test("sudo mpolicectl sync --db on the daemon's directory leaves only the daemon's files; the daemon then starts as its own user",
          .enabled(if: getuid() == 0, "runs a command as root on a directory another user owns"))
    func rootRunSync() throws {
        let center = try PublishedCenter()
        defer { center.stop() }
        try center.publish()
        let state = try center.scratch.directory("state")
        chown(state.path, Self.nobody.uid, Self.nobody.gid)
        chmod(state.path, 0o750)
        // As on a terminal, the trust root is readable by the daemon's user (/etc/mpolice/root.json, 0640 root:mpolice).
        let root = center.scratch.url.appendingPathComponent("root.json")
        try FileManager.default.copyItem(at: center.keys.appendingPathComponent(CentralKeys.rootFile), to: root)
        chmod(root.path, 0o644)
        let arguments = center.syncArguments(state: state).map { $0.hasSuffix("keys/root.json") ? root.path : $0 }
        let run = try Programs.run("mpolicectl", arguments)
        #expect(run.status == 0, "\(run.stderr)")
        let files = Self.files(state)
        #expect(files.count > 3, "\(files)")
        for file in files {
            let (uid, mode) = Self.owner(file)
            #expect(uid == Self.nobody.uid, "\(file.lastPathComponent) is owned by \(uid)")
            let isLink = (try? FileManager.default.destinationOfSymbolicLink(atPath: file.path)) != nil
            if file != state, !isLink { #expect(mode & 0o077 == 0, "\(file.lastPathComponent) has mode \(String(mode, radix: 8))") }
        }
        // The daemon, as the directory's user, opens both databases for writing and serves.
        let home = try center.scratch.directory("daemon")
        chown(home.path, Self.nobody.uid, Self.nobody.gid)
        let daemon = try DaemonProcess(in: home, stateDirectory: state, user: Self.nobody)
        try daemon.start()
        try Self.signIn(daemon)
        #expect(try Self.checkPlate(daemon, DemoRecords.stolenPlate).object["outcome"] as? String == "hit", "\(daemon.log)")
        #expect(daemon.stop().status == 0)
    }

    @Test("a running daemon follows a lists generation another process swapped in: the very next check sees the new record")
    func followsSwap() throws {
        let center = try PublishedCenter()
        defer { center.stop() }
        try center.publish(keepDeltas: 0)
        let state = try center.scratch.directory("state")
        #expect(try Programs.run("mpolicectl", center.syncArguments(state: state)).status == 0)
        let daemon = try DaemonProcess(in: try center.scratch.directory("daemon"), stateDirectory: state)
        try daemon.start()
        try Self.signIn(daemon)
        #expect(try Self.checkPlate(daemon, "RXA-1235").object["outcome"] as? String == "no-hit")
        try StolenVehicleEdits.apply(to: center.dataset, add: ["RXA-1235"]) { _, _, _ in .keep }
        try center.publish(keepDeltas: 0)
        let sync = try Programs.run("mpolicectl", center.syncArguments(state: state) + ["--json"])
        #expect(sync.status == 0, "\(sync.stderr)")
        #expect(sync.stdout.contains(#""stolen-vehicles":"snapshot""#), "a new generation was swapped in: \(sync.stdout)")
        #expect(try Self.checkPlate(daemon, "RXA-1235").object["outcome"] as? String == "hit")
        #expect(daemon.stop().status == 0)
    }

    @Test("lists gone on a terminal that had them: the daemon starts, refuses checks with lists.unavailable, keeps the rest, and a sync brings them back")
    func listsGone() throws {
        let center = try PublishedCenter()
        defer { center.stop() }
        try center.publish()
        let state = try center.scratch.directory("state")
        #expect(try Programs.run("mpolicectl", center.syncArguments(state: state)).status == 0)
        let generation = try #require(try StateDirectory(path: state.path).currentListsFile())
        try FileManager.default.removeItem(at: generation)

        let home = try center.scratch.directory("daemon")
        let offline = try DaemonProcess(in: home, stateDirectory: state)
        try offline.start()
        let noRoster = try offline.client.signIn()
        #expect(noRoster.status == 503, "nobody can be verified without the roster")
        #expect((noRoster.object["error"] as? [String: Any])?["code"] as? String == "lists.unavailable")
        let refused = try Self.checkPlate(offline, DemoRecords.stolenPlate)
        #expect(refused.status == 503)
        #expect((refused.object["error"] as? [String: Any])?["code"] as? String == "lists.unavailable")
        let health = try offline.client.json("GET", "/v1/health").object
        #expect(health["status"] as? String == "degraded")
        #expect(try offline.client.json("GET", "/v1/dispatches").status == 200, "dispatch keeps working")
        #expect(offline.notify.received.contains { $0.contains("lists UNAVAILABLE") })
        #expect(offline.stop().status == 0)
        // The journal kept the trust floor: the terminal did not start over as new.
        let floor = try JournalStore.openReadOnly(path: StateDirectory(path: state.path).journalPath).trustFloor()
        #expect(floor?.manifestSequence == 1)

        let syncing = try DaemonProcess(in: try center.scratch.directory("daemon2"), stateDirectory: state, extra: center.daemonSyncConfig())
        try syncing.start()
        #expect(eventually(timeout: 20) { (try? Self.checkPlate(syncing, DemoRecords.stolenPlate).object["outcome"] as? String) == "hit" },
                "\(syncing.log)")
        #expect(syncing.stop().status == 0)
    }

    @Test("a corrupted lists.db is found by the integrity check at start; the lists are unavailable until the sync replaces them")
    func corruptedLists() throws {
        let center = try PublishedCenter(records: 5_000)
        defer { center.stop() }
        try center.publish()
        let state = try center.scratch.directory("state")
        #expect(try Programs.run("mpolicectl", center.syncArguments(state: state)).status == 0)
        let file = try #require(try StateDirectory(path: state.path).currentListsFile())
        let handle = try #require(FileHandle(forUpdatingAtPath: file.path))
        let size = try handle.seekToEnd()
        try handle.seek(toOffset: size / 2)
        try handle.write(contentsOf: Data((0..<(32 * 1024)).map { UInt8(truncatingIfNeeded: $0 &* 37 &+ 11) }))
        try handle.close()
        let daemon = try DaemonProcess(in: try center.scratch.directory("daemon"), stateDirectory: state, extra: center.daemonSyncConfig())
        try daemon.start()
        #expect(eventually(timeout: 30) { daemon.log.contains("failed its integrity check") }, "\(daemon.log)")
        #expect(eventually(timeout: 30) { (try? Self.checkPlate(daemon, DemoRecords.stolenPlate).object["outcome"] as? String) == "hit" },
                "\(daemon.log)")
        #expect(try daemon.client.json("GET", "/v1/health").object["status"] as? String == "ok")
        #expect(daemon.stop().status == 0)
        let integrity = try Programs.system("/usr/bin/sqlite3", [try #require(try StateDirectory(path: state.path).currentListsFile()).path, "PRAGMA integrity_check"])
        #expect(integrity.stdout.trimmingCharacters(in: .whitespacesAndNewlines) == "ok")
    }

    @Test("a full disk is storage.full (507) and degraded health, not a 500; nothing written is lost, and checks resume when space returns",
          .enabled(if: getuid() == 0, "mounts a small tmpfs"))
    func fullDisk() throws {
        let scratch = try Scratch("full", worldReadable: true)
        defer { scratch.remove() }
        let mount = try scratch.directory("small")
        #expect(try Programs.system("/bin/mount", ["-t", "tmpfs", "-o", "size=6m", "tmpfs", mount.path]).status == 0)
        defer { _ = try? Programs.system("/bin/umount", ["-l", mount.path]) }
        let state = mount.appendingPathComponent("state")
        #expect(try Programs.run("mpolice-central", ["generate", "--out", state.path, "--records", "500"]).status == 0)
        try FileManager.default.removeItem(at: state.appendingPathComponent("dataset"))
        let daemon = try DaemonProcess(in: try scratch.directory("daemon"), stateDirectory: state)
        try daemon.start()
        try Self.signIn(daemon)
        for i in 0..<20 { #expect(try Self.checkPlate(daemon, String(format: "QF-%04d", i)).status == 200) }
        // The rest of the disk filled up by something else.
        _ = try Programs.system("/bin/dd", ["if=/dev/zero", "of=\(mount.path)/filler", "bs=64k"])
        var full = (status: 0, object: [String: Any]())
        for i in 0..<200 where full.status != 507 { full = try Self.checkPlate(daemon, String(format: "QG-%04d", i)) }
        #expect(full.status == 507)
        #expect((full.object["error"] as? [String: Any])?["code"] as? String == "storage.full")
        let health = try daemon.client.json("GET", "/v1/health").object
        #expect(health["status"] as? String == "degraded")
        #expect(((health["problems"] as? [[String: Any]]) ?? []).contains { $0["code"] as? String == "storage.full" })
        try FileManager.default.removeItem(atPath: "\(mount.path)/filler")
        #expect(try Self.checkPlate(daemon, "QH-0001").status == 200)
        #expect(try daemon.client.json("GET", "/v1/health").object["status"] as? String == "ok")
        let status = try daemon.client.json("GET", "/v1/status").object
        let recorded = status["checkRecords"] as? Int ?? 0
        #expect(recorded >= 21, "every check answered before the disk filled is still there: \(recorded)")
        #expect(!daemon.log.contains("request failed") && !daemon.log.contains(" error "), "storage.full is not an internal error: \(daemon.log)")
        #expect(daemon.stop().status == 0)
    }

    @Test("a client holding thousands of connections is turned away at its share: checks from another user keep answering, the watchdog keeps being petted")
    func connectionFlood() throws {
        let (scratch, state) = try DaemonTests.state()
        defer { scratch.remove() }
        var limit = rlimit()
        let files = __rlimit_resource_t(RLIMIT_NOFILE.rawValue)
        getrlimit(files, &limit)
        limit.rlim_cur = min(limit.rlim_max, 16_384)
        setrlimit(files, &limit)
        let daemon = try DaemonProcess(in: scratch.url, stateDirectory: state, extra: "[api]\nidle_timeout = 3",
                                       environment: ["WATCHDOG_USEC": "2000000"])
        // allowed_users: nobody stands for the front-end, another user than the flood's.
        let config = scratch.url.appendingPathComponent("mpoliced.conf")
        try String(contentsOf: config, encoding: .utf8).replacingOccurrences(of: "allowed_groups =", with: "allowed_groups =\nallowed_users = nobody")
            .write(to: config, atomically: true, encoding: .utf8)
        try daemon.start()
        _ = chmod(daemon.socketPath, 0o666)
        try Self.signIn(daemon)
        let pid = daemon.process.processIdentifier
        var held: [Int32] = []
        for _ in 0..<3_000 { if let fd = UnixSocket.connect(daemon.socketPath) { held.append(fd) } }
        #expect(held.count == 3_000, "the kernel accepted the connections; the daemon decides what to keep")
        let pingsBefore = daemon.notify.count("WATCHDOG=1")
        for i in 0..<5 {
            let run = try Programs.system("/usr/bin/setpriv", ["--reuid=65534", "--regid=65534", "--clear-groups", "/usr/bin/curl", "-sS",
                "--max-time", "5", "--unix-socket", daemon.socketPath, "-H", "Content-Type: application/json",
                "-d", #"{"plate":"QK-000\#(i)"}"#, "http://localhost/v1/checks/plate"])
            #expect(run.stdout.contains(#""outcome":"no-hit""#), "check \(i) while flooded: \(run.stdout)\(run.stderr)")
        }
        #expect(eventually(timeout: 8) { daemon.notify.count("WATCHDOG=1") > pingsBefore + 2 }, "the watchdog is still petted")
        #expect(daemon.process.isRunning && daemon.process.processIdentifier == pid, "no restart")
        #expect(daemon.log.contains("connection limit reached"))
        // Held but idle: the daemon closed them (a read sees the end).
        var closed = 0
        for fd in held.prefix(64) {
            var byte: UInt8 = 0
            // Under load the daemon may still be working through the 3,000: give each up to 2 s.
            var tv = timeval(tv_sec: 2, tv_usec: 0)
            setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, socklen_t(MemoryLayout<timeval>.size))
            if read(fd, &byte, 1) == 0 { closed += 1 }
        }
        #expect(closed == 64, "idle and refused connections are closed by the daemon (\(closed) of 64)")
        for fd in held { close(fd) }
        #expect(daemon.stop().status == 0)
    }

    @Test("a second mpoliced on the same socket or the same state directory refuses to start and leaves the first serving")
    func secondDaemon() throws {
        let (scratch, first) = try DaemonProcess.started()
        defer { scratch.remove() }
        let other = try DaemonTests.state()
        defer { other.0.remove() }
        // Same socket, another state directory.
        let sameSocket = try DaemonProcess(in: try scratch.directory("b"), stateDirectory: other.1)
        let config = scratch.url.appendingPathComponent("b/mpoliced.conf")
        try String(contentsOf: config, encoding: .utf8).replacingOccurrences(of: sameSocket.socketPath, with: first.socketPath)
            .write(to: config, atomically: true, encoding: .utf8)
        try sameSocket.process.run()
        sameSocket.process.waitUntilExit()
        #expect(sameSocket.process.terminationStatus == 1)
        #expect(sameSocket.log.contains("another mpoliced is serving"), "\(sameSocket.log)")
        #expect(try first.client.json("GET", "/v1/health").status == 200, "the first still serves its socket")
        // Same state directory, another socket.
        let sameState = try DaemonProcess(in: try scratch.directory("c"), stateDirectory: first.stateDirectory)
        try sameState.process.run()
        sameState.process.waitUntilExit()
        #expect(sameState.process.terminationStatus == 1)
        #expect(sameState.log.contains("another mpoliced is using the state directory"), "\(sameState.log)")
        #expect(first.stop().status == 0)
    }

    @Test("a body past the limit is 413 and the connection closes at once; a client that gives up mid-body is no internal error")
    func oversizedAndAbortedBodies() throws {
        let (scratch, daemon) = try DaemonProcess.started()
        defer { scratch.remove() }
        try Self.signIn(daemon)
        let fd = try #require(UnixSocket.connect(daemon.socketPath))
        let head = "POST /v1/checks/plate HTTP/1.1\r\nHost: localhost\r\nContent-Type: application/json\r\nContent-Length: 1073741824\r\n\r\n"
        _ = head.withCString { send(fd, $0, strlen($0), Int32(MSG_NOSIGNAL)) }
        let chunk = [UInt8](repeating: UInt8(ascii: "A"), count: 65_536)
        var sent = 0
        while sent < 64 << 20 {
            let n = chunk.withUnsafeBytes { send(fd, $0.baseAddress, $0.count, Int32(MSG_NOSIGNAL)) }
            if n <= 0 { break }
            sent += n
        }
        #expect(sent < 16 << 20, "the daemon stopped reading after the limit (\(sent) bytes taken)")
        var answer = [UInt8](repeating: 0, count: 4_096)
        let n = read(fd, &answer, answer.count)
        #expect(n > 0 && String(decoding: answer.prefix(max(0, n)), as: UTF8.self).hasPrefix("HTTP/1.1 413"))
        close(fd)
        // A body cut short by a client that goes away.
        let quitter = try #require(UnixSocket.connect(daemon.socketPath))
        let partial = "POST /v1/checks/plate HTTP/1.1\r\nHost: localhost\r\nContent-Length: 1000\r\n\r\n{\"plate\":"
        _ = partial.withCString { send(quitter, $0, strlen($0), Int32(MSG_NOSIGNAL)) }
        close(quitter)
        Thread.sleep(forTimeInterval: 0.5)
        #expect(try daemon.client.json("GET", "/v1/health").status == 200)
        #expect(!daemon.log.contains("request failed") && !daemon.log.contains("error"), "\(daemon.log)")
        #expect(daemon.stop().status == 0)
    }

    @Test("sync-now cannot make the terminal hammer an unreachable center: twenty requests, one attempt")
    func syncNowHammer() throws {
        let (scratch, state) = try DaemonTests.state()
        defer { scratch.remove() }
        let center = try PublishedCenter(records: 100)
        defer { center.stop() }
        let daemon = try DaemonProcess(in: scratch.url, stateDirectory: state, extra: center.daemonSyncConfig(
            central: "https://127.0.0.1:\(try LoopbackPort.free())/", extra: "first_retry = 600\nmax_retry = 600"))
        try daemon.start()
        let journal = StateDirectory(path: state.path).journalPath
        func attempts() throws -> Int {
            Int(try Programs.system("/usr/bin/sqlite3", [journal, "SELECT count(*) FROM sync_attempt"]).stdout
                .trimmingCharacters(in: .whitespacesAndNewlines)) ?? -1
        }
        #expect(eventually(timeout: 20) { (try? attempts()) == 1 })
        var statuses: [Int] = []
        for _ in 0..<20 { statuses.append(try daemon.client.json("POST", "/v1/sync").status) }
        #expect(Set(statuses) == [429], "\(statuses)")
        Thread.sleep(forTimeInterval: 1)
        #expect(try attempts() == 1)
        #expect(daemon.stop().status == 0)
    }

    @Test("the center's socket admits nginx's workers' group only: another local user cannot claim a unit",
          .enabled(if: getuid() == 0, "runs a client as another user"))
    func centerSocketClosed() throws {
        let world = try UplinkWorld()
        defer { world.stop() }
        let run = try Programs.system("/usr/bin/setpriv", ["--reuid=12345", "--regid=12345", "--clear-groups", "/usr/bin/curl", "-sS",
            "--unix-socket", world.centralSocket, "-H", "X-Client-Verify: SUCCESS", "-H", "X-Client-DN: CN=unit-TPE-DA-01",
            "http://localhost/uplink/dispatches?after=0&wait=0"])
        #expect(run.status != 0)
        #expect(run.stderr.contains("Permission denied") || run.stderr.contains("Couldn't connect"), "\(run.stderr)")
        #expect(Self.owner(URL(fileURLWithPath: world.centralSocket)).mode == 0o660)

        // A center that cannot give its socket to nginx's group does not serve at all.
        let socket = world.scratch.url.appendingPathComponent("other.sock").path
        chmod(world.scratch.path, 0o777)
        defer { chmod(world.scratch.path, 0o755) }
        let group = "mpolice-ui-test"
        _ = try SystemAccounts.group(group)
        let refused = try Programs.system("/usr/bin/timeout", ["20", "/usr/bin/setpriv", "--reuid=65534", "--regid=65534", "--clear-groups",
            Programs.binDirectory.appendingPathComponent("mpolice-central").path, "serve",
            "--db", world.scratch.url.appendingPathComponent("other.db").path, "--socket", socket, "--socket-group", group])
        #expect(refused.status == 1, "\(refused.stderr)")
        #expect(refused.stderr.contains("cannot give \(socket) to group"), "\(refused.stderr)")
        #expect(!refused.stderr.contains("serving the uplink"))
    }
}
