import Central
import FieldWire
import Foundation
import LocalAPIClient
import Store
import TestSupport
import Testing

/// Lost-terminal orders end to end: `mpolice-central order` → the center's long poll behind a
/// real nginx with client certificates (or the static orders file) → the running daemon,
/// which locks, unlocks and wipes, and acknowledges at the center; refusals with their codes;
/// wipes interrupted by kill -9; the LUKS key slots erased, with cryptsetup as the oracle.
@Suite("mpoliced lost-terminal orders", .serialized)
struct OrderDaemonTests {
    static var now: Int64 { Int64(Date().timeIntervalSince1970) }

    /// Files of the state directory that hold lists (generations, the link, downloads).
    static func listFiles(_ state: URL) -> [String] {
        ((try? FileManager.default.contentsOfDirectory(atPath: state.path)) ?? []).filter { $0.hasPrefix("lists") && $0 != "lists.lock" }
    }

    /// Files under `directory` (recursively) that contain `needle`.
    static func files(in directory: URL, containing needle: String) -> [String] {
        let bytes = Data(needle.utf8)
        let enumerator = FileManager.default.enumerator(at: directory, includingPropertiesForKeys: nil)
        var found: [String] = []
        while let url = enumerator?.nextObject() as? URL {
            if let data = try? Data(contentsOf: url), data.range(of: bytes) != nil { found.append(url.lastPathComponent) }
        }
        return found
    }

    /// An API error's code.
    static func code(_ object: [String: Any]) -> String? { (object["error"] as? [String: Any])?["code"] as? String }

    static func run(_ program: String, _ arguments: [String]) throws -> Programs.Run {
        try Programs.system(program, arguments)
    }

    /// The center's view of a unit's orders (`mpolice-central order list`).
    static func orderStatuses(db: String) throws -> [Int: [String: Any]] {
        let run = try Programs.run("mpolice-central", ["order", "list", "--db", db, "--unit", "TPE-DA-01"])
        guard run.status == 0 else { throw TestError("order list: \(run.stderr)") }
        var result: [Int: [String: Any]] = [:]
        for line in run.stdout.split(separator: "\n") {
            let object = try JSONSerialization.jsonObject(with: Data(line.utf8)) as? [String: Any] ?? [:]
            if let sequence = object["sequence"] as? Int { result[sequence] = object }
        }
        return result
    }

    static func issue(_ kind: String, db: String, keys: URL, extra: [String] = []) throws -> Int {
        // The documented form: `mpolice-central order --unit X <kind>`.
        let run = try Programs.run("mpolice-central", ["order", "--unit", "TPE-DA-01", kind, "--db", db, "--keys", keys.path] + extra)
        guard run.status == 0, let sequence = Int(run.stdout.trimmingCharacters(in: .whitespacesAndNewlines)) else {
            throw TestError("order \(kind): \(run.status) \(run.stderr)")
        }
        return sequence
    }

    func check(_ daemon: DaemonProcess) throws -> (status: Int, object: [String: Any]) {
        try daemon.client.json("POST", "/v1/checks/plate", ["plate": DemoRecords.stolenPlate])
    }

    @Test("lock, unlock, wipe-lists, unlock, wipe-all reach a running daemon through nginx (mTLS) and the center's long poll, take effect, and are acknowledged at the center; wipe-all's helper erases the LUKS2 key slots")
    func ordersOverTheLongPoll() throws {
        let world = try UplinkWorld()
        defer { world.stop() }
        let keys = world.scratch.url.appendingPathComponent("keys")
        try CentralKeys.initialise(in: keys, now: Self.now - 60, validFor: 365 * 86_400)
        let dataset = world.scratch.url.appendingPathComponent("dataset")
        try DatasetGenerator(counts: .init(records: 500), seed: 5, issuedAt: Self.now - 60, photos: 10).write(to: dataset)
        try Publisher(directory: world.nginx.root, keysDirectory: keys).publish(dataset: dataset, now: Self.now - 60, validFor: 7 * 86_400, keepDeltas: 30)
        let photos = { (state: URL) in
            ((try? FileManager.default.contentsOfDirectory(atPath: state.appendingPathComponent("photos").path)) ?? []).filter { $0.hasSuffix(".jpg") }
        }

        let scratch = try Scratch("orders")
        defer { scratch.remove() }
        try FileManager.default.setAttributes([.posixPermissions: 0o755], ofItemAtPath: scratch.path)
        let state = scratch.url.appendingPathComponent("state")
        // The terminal's own copies of its key and certificate: wipe-all removes them.
        let deviceKey = scratch.url.appendingPathComponent("device.key"), deviceCert = scratch.url.appendingPathComponent("device.crt")
        try FileManager.default.copyItem(atPath: world.pki.path("device.key"), toPath: deviceKey.path)
        try FileManager.default.copyItem(atPath: world.pki.path("device.crt"), toPath: deviceCert.path)
        // The state partition, as a LUKS2 image file (header operations need no device mapper).
        let image = scratch.url.appendingPathComponent("state-partition.img"), passphrase = scratch.url.appendingPathComponent("passphrase")
        try Data("correct horse battery staple".utf8).write(to: passphrase)
        #expect(try Self.run("/usr/bin/truncate", ["-s", "20M", image.path]).status == 0)
        let format = try Self.run("/usr/sbin/cryptsetup", ["luksFormat", "--type", "luks2", "--batch-mode", "--key-file", passphrase.path,
                                                          "--pbkdf", "pbkdf2", "--pbkdf-force-iterations", "1000", image.path])
        try #require(format.status == 0, "\(format.stderr)")
        #expect(try Self.run("/usr/sbin/cryptsetup", ["open", "--test-passphrase", "--key-file", passphrase.path, image.path]).status == 0)

        let config = """
            [sync]
            central = https://127.0.0.1:\(world.proxy.port)/
            ca = \(world.pki.path("ca.crt"))
            certificate = \(deviceCert.path)
            key = \(deviceKey.path)
            trust_root = \(keys.appendingPathComponent(CentralKeys.rootFile).path)
            connect_timeout = 2
            first_retry = 1

            [uplink]
            central = \(world.uplinkURL)
            dispatch_wait = 5
            idle_interval = 1
            first_retry = 0.2
            max_retry = 1

            [security]
            luks_device = \(image.path)
            acknowledgement_deadline = 15
            """
        let daemon = try DaemonProcess(in: scratch.url, stateDirectory: state, extra: config)
        try daemon.start()
        // Signing in needs the roster: the first sync has applied the lists.
        try #require(eventually(timeout: 30) { (try? daemon.client.signIn().status) == 201 }, "\(daemon.log)")
        #expect(eventually(timeout: 15) { photos(state).count == 11 }, "the photos prefetched: \(photos(state))")
        #expect(try check(daemon).status == 200)

        // lock: within seconds the API refuses everything but status, health and orders.
        #expect(try Self.issue("lock", db: world.databasePath, keys: keys) == 1)
        #expect(try eventually(timeout: 15) { try check(daemon).status == 423 }, "\(daemon.log)")
        let locked = try check(daemon)
        #expect(Self.code(locked.object) == "terminal.locked")
        #expect(try daemon.client.json("GET", "/v1/dispatches").status == 423)
        let status = try daemon.client.json("GET", "/v1/status")
        #expect(status.status == 200)
        #expect(((status.object["protection"] as? [String: Any])?["lock"] as? [String: Any])?["cause"] as? String == "lock-order")
        #expect(try daemon.client.json("GET", "/v1/health").status == 200)
        #expect(try eventually(timeout: 15) { try Self.orderStatuses(db: world.databasePath)[1]?["outcome"] as? String == "executed" },
                "the lock's acknowledgement reaches the center")

        // unlock: checks again.
        #expect(try Self.issue("unlock", db: world.databasePath, keys: keys) == 2)
        #expect(try eventually(timeout: 15) { try check(daemon).status == 200 }, "\(daemon.log)")

        // wipe-lists: the lists' files go, the journal stays, the terminal stays locked.
        #expect(try Self.issue("wipe-lists", db: world.databasePath, keys: keys) == 3)
        #expect(try eventually(timeout: 15) { Self.listFiles(state).isEmpty }, "\(Self.listFiles(state)) \(daemon.log)")
        // The lists' files go first; the wipe is complete when its durable mark is removed.
        #expect(eventually(timeout: 15) { !FileManager.default.fileExists(atPath: state.appendingPathComponent("wipe-pending.json").path) },
                "the wipe completes: \(daemon.log.suffix(1_500))")
        #expect(!FileManager.default.fileExists(atPath: state.appendingPathComponent("photos").path), "the photos go with the lists")
        #expect(try check(daemon).status == 423)
        #expect(FileManager.default.fileExists(atPath: state.appendingPathComponent("journal.db").path))
        #expect(try eventually(timeout: 15) { try Self.orderStatuses(db: world.databasePath)[3]?["outcome"] as? String == "executed" })

        // unlock: the sync fetches the lists again at once and checks answer.
        #expect(try Self.issue("unlock", db: world.databasePath, keys: keys) == 4)
        let answering = try eventually(timeout: 30) {
            var answer = try check(daemon)
            if Self.code(answer.object) == "session.none" { _ = try daemon.client.signIn(); answer = try check(daemon) }
            return answer.status == 200 && answer.object["outcome"] as? String == "hit"
        }
        #expect(answering, "\(daemon.log)")
        #expect(eventually(timeout: 15) { photos(state).count == 11 }, "the photos fetched again: \(photos(state)) \(daemon.log.suffix(1_500))")

        // wipe-all with the key slots: acknowledged first, then everything goes and the daemon exits 75.
        #expect(try Self.issue("wipe-all", db: world.databasePath, keys: keys, extra: ["--erase-key-slots"]) == 5)
        let exited = eventually(timeout: 40) { !daemon.process.isRunning }
        try #require(exited, "\(daemon.log)")
        #expect(daemon.process.terminationStatus == 75)
        #expect(Self.listFiles(state).isEmpty)
        #expect(!FileManager.default.fileExists(atPath: state.appendingPathComponent("journal.db").path))
        #expect(!FileManager.default.fileExists(atPath: deviceKey.path) && !FileManager.default.fileExists(atPath: deviceCert.path))
        let wiped = try WireJSON.decode(WipedRecord.self, from: Data(contentsOf: state.appendingPathComponent("wiped.json")))
        #expect(wiped.orderSequence == 5 && wiped.acknowledged && wiped.keySlotsErasureRequested)
        #expect(try Self.orderStatuses(db: world.databasePath)[5]?["outcome"] as? String == "executed", "acknowledged before the key went")
        // No listed plate anywhere in what is left.
        #expect(Self.files(in: state, containing: "BLT8023").isEmpty, "\(Self.files(in: state, containing: "BLT8023"))")

        // The erase helper, as mpolice-erase.path starts it: key slots erased — cryptsetup says so.
        let request = state.appendingPathComponent("erase-key-slots.request")
        #expect(FileManager.default.fileExists(atPath: request.path))
        let helper = try Programs.run("mpolicectl", ["erase-keys", "--config", scratch.url.appendingPathComponent("mpoliced.conf").path])
        #expect(helper.status == 0, "\(helper.stderr)")
        #expect(!FileManager.default.fileExists(atPath: request.path))
        let dump = try Self.run("/usr/sbin/cryptsetup", ["luksDump", image.path])
        #expect(dump.status == 0)
        let slots = dump.stdout.components(separatedBy: "Keyslots:").last?.components(separatedBy: "Tokens:").first ?? "?"
        #expect(slots.trimmingCharacters(in: .whitespacesAndNewlines).isEmpty, "key slots left: \(slots)")
        #expect(try Self.run("/usr/sbin/cryptsetup", ["open", "--test-passphrase", "--key-file", passphrase.path, image.path]).status != 0)

        // Started again, the wiped terminal serves status and nothing else.
        let again = try DaemonProcess(in: try scratch.url.appendingPathComponent("again").creatingDirectory(), stateDirectory: state, extra: config)
        try again.start()
        let after = try again.client.json("GET", "/v1/status")
        #expect((after.object["protection"] as? [String: Any])?["wiped"] != nil)
        #expect(try again.client.json("POST", "/v1/checks/plate", ["plate": DemoRecords.stolenPlate]).status == 423)
        #expect(again.stop().status == 0)
    }

    @Test("a terminal that reaches only the static server gets its lock from orders/<unit>.json with the next sync")
    func ordersFromTheFile() throws {
        let center = try PublishedCenter(records: 300)
        defer { center.stop() }
        try center.publish()
        let (scratch, _) = try DaemonTests.state(records: 10)
        defer { scratch.remove() }
        let state = scratch.url.appendingPathComponent("synced")
        let daemon = try DaemonProcess(in: scratch.url, stateDirectory: state, extra: center.daemonSyncConfig())
        try daemon.start()
        #expect(try eventually(timeout: 30) { (try? daemon.client.signIn().status) == 201 }, "\(daemon.log)")
        #expect(try check(daemon).status == 200)

        let db = center.scratch.url.appendingPathComponent("central.db").path
        #expect(try Self.issue("lock", db: db, keys: center.keys, extra: ["--publish", center.nginx.root.path]) == 1)
        #expect(try daemon.client.json("POST", "/v1/sync").status == 202)
        #expect(try eventually(timeout: 20) { try check(daemon).status == 423 }, "\(daemon.log)")
        let lastSync = (try daemon.client.json("GET", "/v1/status").object["lastSync"] as? [String: Any])
        #expect(lastSync?["reason"] as? String == "terminal-locked")
        // Both runs' requests (root probe, orders, manifest, files) on one TLS connection: the
        // daemon keeps it rather than paying a handshake per request.
        let connections = Set(center.nginx.accessLog.compactMap { $0.split(separator: " ").last.map(String.init) })
        #expect(center.nginx.accessLog.count >= 6 && connections.count == 1, "\(center.nginx.accessLog)")
        #expect(daemon.stop().status == 0)
    }

    @Test("forged, wrong role, replayed, expired, another unit's and another certificate's orders are each refused with their code, and nothing is deleted")
    func refusals() throws {
        let (scratch, state) = try DaemonTests.state(records: 2_000)
        defer { scratch.remove() }
        let pki = try TestPKI(in: try scratch.directory("pki"))
        let keysDir = scratch.url.appendingPathComponent("keys")
        let keys = try CentralKeys.initialise(in: keysDir, now: Self.now - 60, validFor: 365 * 86_400)
        let daemon = try DaemonProcess(in: scratch.url, stateDirectory: state, extra: """
            [sync]
            certificate = \(pki.path("device.crt"))
            key = \(pki.path("device.key"))
            trust_root = \(keysDir.appendingPathComponent(CentralKeys.rootFile).path)
            """)
        try daemon.start()
        #expect(try daemon.client.signIn().status == 201)
        let filesBefore = Self.listFiles(state)

        func order(_ kind: TerminalOrder.Kind = .wipeAll, unit: String = "TPE-DA-01", certificate: String? = nil, sequence: Int64 = 1,
                   expiresIn: Int64 = 3_600, key: SigningKey? = nil) throws -> SignedEnvelope {
            try TerminalOrder(kind: kind, unit: unit, certificateSHA256: certificate, sequence: sequence, issuedAt: Self.now - 10,
                              expiresAt: Self.now + expiresIn).signed(by: [key ?? keys.ordersKey])
        }
        func submit(_ envelope: SignedEnvelope) throws -> (status: Int, code: String?) {
            let response = try daemon.client.request("POST", "/v1/orders", json: try WireJSON.encode(envelope))
            let object = (try? JSONSerialization.jsonObject(with: response.body)) as? [String: Any]
            return (response.status, (object?["error"] as? [String: Any])?["code"] as? String)
        }
        // The certificate's fingerprint, from openssl.
        let oracle = try Programs.system("/bin/sh", ["-c", "openssl x509 -in \(pki.path("device.crt")) -outform der | sha256sum"])
        let fingerprint = String(oracle.stdout.prefix(64))

        #expect(try submit(order(key: SigningKey())) == (403, "order.bad-signature"))
        #expect(try submit(order(key: keys.manifestKey)) == (403, "order.wrong-role"))
        #expect(try submit(order(key: keys.rootKey)) == (403, "order.wrong-role"))
        #expect(try submit(order(expiresIn: -5)) == (403, "order.expired"))
        #expect(try submit(order(unit: "KHH-ZY-07")) == (403, "order.other-unit"))
        #expect(try submit(order(certificate: String(repeating: "0", count: 64))) == (403, "order.other-certificate"))
        var tampered = try order(.lock)
        tampered.payload = try WireJSON.encode(TerminalOrder(kind: .wipeAll, unit: "TPE-DA-01", sequence: 1, issuedAt: Self.now, expiresAt: Self.now + 60)).base64EncodedString()
        #expect(try submit(tampered) == (403, "order.bad-signature"))
        // Nothing was deleted: the lists answer, their files are all there.
        #expect(try check(daemon).status == 200)
        #expect(Self.listFiles(state) == filesBefore)

        // A lock for this very certificate is executed; handed in again it is a replay.
        let lock = try order(.lock, certificate: fingerprint, sequence: 2)
        #expect(try submit(lock).status == 200)
        #expect(try check(daemon).status == 423)
        #expect(try submit(lock) == (403, "order.replayed"))
        #expect(try submit(order(.wipeLists, sequence: 1)) == (403, "order.replayed"))
        #expect(Self.listFiles(state) == filesBefore, "a lock deletes nothing")
        // Only a technician lifts the lock at the terminal (the tests run as root: one is).
        #expect(try Programs.run("mpolicectl", ["lift-lock"], environment: ["MPOLICE_SOCKET": daemon.socketPath]).status == 0)
        #expect(try check(daemon).status == 200)
        #expect(daemon.stop().status == 0)

        // Every refusal and the execution were recorded, each acknowledged once, for the center.
        let journal = try JournalStore.open(path: StateDirectory(path: state.path).journalPath)
        let received = try journal.receivedOrders(limit: 50)
        #expect(received.filter { $0.outcome == .executed }.map(\.sequence) == [2])
        #expect(Set(received.compactMap(\.reason)) == ["order.bad-signature", "order.wrong-role", "order.expired", "order.other-unit",
                                                       "order.other-certificate", "order.replayed"])
    }

    @Test("kill -9 at random points of 20 wipes (lists and all): after the restart every wipe is complete before anything is served, and nothing of the wiped data is served")
    func killDuringWipe() throws {
        let (scratch, template) = try DaemonTests.state(records: 60_000)
        defer { scratch.remove() }
        let pki = try TestPKI(in: try scratch.directory("pki"))
        let keysDir = scratch.url.appendingPathComponent("keys")
        let keys = try CentralKeys.initialise(in: keysDir, now: Self.now - 60, validFor: 365 * 86_400)
        let orders: [TerminalOrder.Kind: Data] = try Dictionary(uniqueKeysWithValues: [TerminalOrder.Kind.wipeLists, .wipeAll].map { kind in
            (kind, try WireJSON.encode(TerminalOrder(kind: kind, unit: "TPE-DA-01", sequence: 1, issuedAt: Self.now, expiresAt: Self.now + 3_600)
                .signed(by: [keys.ordersKey])))
        })
        #expect(!Self.files(in: template, containing: "BLT8023").isEmpty, "the lists hold the plate the wipe must remove")
        var interrupted = 0
        for round in 0..<20 {
            let kind: TerminalOrder.Kind = round % 2 == 0 ? .wipeLists : .wipeAll
            let dir = try scratch.url.appendingPathComponent("r\(round)").creatingDirectory()
            let state = dir.appendingPathComponent("state")
            #expect(try Programs.system("/bin/cp", ["-a", template.path, state.path]).status == 0)
            let deviceKey = dir.appendingPathComponent("device.key"), deviceCert = dir.appendingPathComponent("device.crt")
            try FileManager.default.copyItem(atPath: pki.path("device.key"), toPath: deviceKey.path)
            try FileManager.default.copyItem(atPath: pki.path("device.crt"), toPath: deviceCert.path)
            let config = """
                [sync]
                certificate = \(deviceCert.path)
                key = \(deviceKey.path)
                trust_root = \(keysDir.appendingPathComponent(CentralKeys.rootFile).path)

                [security]
                acknowledgement_deadline = 1
                """
            let daemon = try DaemonProcess(in: dir, stateDirectory: state, extra: config)
            try daemon.start()
            let socket = daemon.socketPath
            let body = orders[kind]!
            Thread.detachNewThread { _ = try? APIClient(socketPath: socket, timeout: 30).request("POST", "/v1/orders", json: body) }
            let mark = state.appendingPathComponent("wipe-pending.json").path
            // The whole wipe takes tens of milliseconds: watch for its mark closely.
            let deadline = Date().addingTimeInterval(10)
            while !FileManager.default.fileExists(atPath: mark), daemon.process.isRunning, Date() < deadline { usleep(200) }
            #expect(FileManager.default.fileExists(atPath: mark) || !daemon.process.isRunning, "round \(round): no wipe began: \(daemon.log)")
            usleep(UInt32.random(in: 0..<25_000))
            kill(daemon.process.processIdentifier, SIGKILL)
            daemon.process.waitUntilExit()
            if FileManager.default.fileExists(atPath: mark) { interrupted += 1 }

            let again = try DaemonProcess(in: try dir.appendingPathComponent("again").creatingDirectory(), stateDirectory: state, extra: config)
            try again.start()
            #expect(!FileManager.default.fileExists(atPath: mark), "round \(round)")
            #expect(Self.listFiles(state).isEmpty, "round \(round): \(Self.listFiles(state))")
            let checked = try again.client.json("POST", "/v1/checks/plate", ["plate": DemoRecords.stolenPlate])
            #expect(checked.status == 423 && Self.code(checked.object) == "terminal.locked", "round \(round): \(checked)")
            let protection = try again.client.json("GET", "/v1/status").object["protection"] as? [String: Any]
            if kind == .wipeAll {
                #expect(protection?["wiped"] != nil, "round \(round)")
                #expect(!FileManager.default.fileExists(atPath: deviceKey.path), "round \(round)")
            } else {
                #expect((protection?["lock"] as? [String: Any])?["cause"] as? String == "wipe-lists", "round \(round)")
                #expect(protection?["lastOrderSequence"] as? Int == 1, "round \(round)")
            }
            // No byte of a listed plate is left in the state directory.
            #expect(Self.files(in: state, containing: "BLT8023").isEmpty, "round \(round): \(Self.files(in: state, containing: "BLT8023"))")
            #expect(again.stop().status == 0)
        }
        print("kill during wipe: \(interrupted) of 20 kills landed inside a wipe")
        #expect(interrupted >= 5, "only \(interrupted) of 20 kills landed inside a wipe")
    }
}
