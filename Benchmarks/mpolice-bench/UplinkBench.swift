import Central
import FieldSync
import FieldWire
import Foundation
import GRDBSQLite
import Logging
import Store
import TerminalConfiguration
import TestSupport
import Watchlist

/// The uplink figures: the durable outbox write a check makes before it answers (beside the
/// same INSERT through the SQLite C API with the same durability), and 10,000 check records
/// uploaded through nginx (TLS, client certificates) to the reference central, with the
/// bytes on the wire beside the uncompressed payloads.
struct UplinkBench {
    let work: URL
    let lists: ListsStore
    let plates: [String]

    func run(into results: inout Results) throws {
        let dir = work.appendingPathComponent("uplink")
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        let journal = try JournalStore.open(path: dir.appendingPathComponent("journal.db").path)
        let checker = Checker(lists: lists, journal: journal)
        // The unit of the test PKI's device certificate: the center refuses records of another.
        let context = try CheckContext(officerId: "BENCH-01", unitId: "TPE-DA-01")
        // 10,000 at the size; fewer when the bench runs small (the CLI test).
        let count = min(10_000, plates.count)

        // Enqueue: the check record and its outbox item, one synchronous=FULL transaction.
        let answers = try plates.prefix(count).map { try checker.answerPlate(Plate(parsing: $0), context: context) }
        let raw = try RawDurableInsert(path: dir.appendingPathComponent("raw.db").path)
        let payload = String(repeating: "x", count: 600)
        // Both are fsync-bound: they alternate in blocks so that the disk's noise falls on both.
        var enqueue: [Double] = [], rawSamples: [Double] = []
        let block = max(1, answers.count / 10)
        for start in stride(from: 0, to: answers.count, by: block) {
            let range = start..<min(answers.count, start + block)
            enqueue += try Measure.latencies(count: range.count) { i in
                try journal.record(answers[range.lowerBound + i], now: Int64(range.lowerBound + i))
            }
            rawSamples += Measure.latencies(count: range.count) { i in raw.insert(id: "\(range.lowerBound + i)", payload: payload) }
        }
        let p99 = Measure.percentile(enqueue, 99), rawP99 = Measure.percentile(rawSamples, 99)
        results.add("outbox_enqueue_p50_us", Measure.percentile(enqueue, 50))
        results.add("outbox_enqueue_p99_us", p99, reference: ("raw_durable_insert_p99_us", rawP99))
        results.add("raw_durable_insert_p99_us", rawP99)

        // Upload: the reference central behind nginx, as in the tests.
        let pki = try TestPKI(in: try dir.appendingPathComponent("pki").creatingDirectory())
        let database = try UplinkDatabase(dir.appendingPathComponent("central.db").path)
        let socket = dir.appendingPathComponent("central.sock").path
        var logger = Logger(label: "bench-central")
        // Cancelling the server at the end logs a shutdown "error" that is not one.
        logger.logLevel = .critical
        let workers = getgrnam(NginxTLS.workerGroup)?.pointee.gr_gid
        let server = Task { try await UplinkServer(database: database, logger: Logger(label: "bench-central", factory: { _ in SwiftLogNoOpLogHandler() })).run(socket: socket, mode: 0o660, group: workers, logger: logger) }
        defer { server.cancel() }
        while !UnixSocket.accepts(socket) { usleep(20_000) }
        let nginx = try NginxTLS(pki: pki, uplinkSocket: socket)
        defer { nginx.stop() }
        // The unit is the test PKI's device certificate's.
        let uplink = Uplink(.init(baseURL: "https://127.0.0.1:\(nginx.port)/uplink/", unit: "TPE-DA-01"),
                            transport: CurlTransport(.init(caFile: pki.path("ca.crt"), clientCertificate: pki.path("device.crt"),
                                                           clientKey: pki.path("device.key"))),
                            journal: journal)
        let payloadBytes = try journal.dueOutboxItems(now: .max, maxItems: count, maxBytes: .max).reduce(0) { $0 + $1.payload.utf8.count }
        let (report, seconds) = try Measure.seconds { try uplink.flush() }
        guard report.acknowledged == count, try database.records(kind: .check).count == count else {
            throw BenchError("uplink acknowledged \(report.acknowledged) of \(count) (\(report.rejected) rejected); center holds \(try database.records(kind: .check).count)")
        }
        print("  (\(report.batches) batches of up to 500 items through nginx to mpolice-central serve)")
        results.add("uplink_10k_s", seconds)
        results.add("uplink_items_per_s", Double(count) / seconds)
        results.add("uplink_10k_wire_bytes", Double(report.bytesSent), reference: ("uplink_10k_payload_bytes", Double(payloadBytes)))
        results.add("uplink_10k_payload_bytes", Double(payloadBytes))

        try emergencies(count == 10_000 ? 50 : 10, pki: pki, nginx: nginx, database: database, dir: dir, into: &results)
        try bulletinsAndConfirmations(count == 10_000 ? 50 : 10, pki: pki, nginx: nginx, database: database, dir: dir, into: &results)
    }

    /// Down the same link: a bulletin created at the center → held (matchable) on the
    /// terminal, beside a dispatch created → stored on the terminal (the same long poll); and
    /// a hit's confirmation asked → the center's answer stored on the terminal.
    private func bulletinsAndConfirmations(_ rounds: Int, pki: TestPKI, nginx: NginxTLS, database: UplinkDatabase, dir: URL,
                                           into results: inout Results) throws {
        let keysDirectory = dir.appendingPathComponent("keys")
        let keys = try CentralKeys.initialise(in: keysDirectory, now: SystemClock().nowSeconds - 60, validFor: 86_400)
        let queued = WakeSignal(), urgent = WakeSignal()
        let journal = try JournalStore.open(path: dir.appendingPathComponent("bulletins.db").path, onEnqueue: { queued.fire() },
                                            onUrgent: { urgent.fire() })
        let receiver = BulletinReceiver(provisionedRoot: keysDirectory.appendingPathComponent(CentralKeys.rootFile), region: nil,
                                        lists: lists, journal: journal)
        let uplink = Uplink(.init(baseURL: "https://127.0.0.1:\(nginx.port)/uplink/", unit: "TPE-DA-01", dispatchWait: 25),
                            transport: CurlTransport(.init(caFile: pki.path("ca.crt"), clientCertificate: pki.path("device.crt"),
                                                           clientKey: pki.path("device.key"))),
                            journal: journal, schedule: RetryPolicy(interval: .seconds(30)), enqueued: queued, urgent: urgent,
                            bulletins: receiver)
        let running = Task { await uplink.run() }
        defer { running.cancel() }
        func waitFor(_ what: String, _ done: () throws -> Bool) throws {
            let started = ContinuousClock.now
            while try !done() {
                guard ContinuousClock.now - started < .seconds(30) else { throw BenchError("\(what) did not arrive in 30 s") }
                usleep(1_000)
            }
        }
        var bulletin: [Double] = [], dispatch: [Double] = []
        for i in 0..<rounds {
            var started = ContinuousClock.now
            let created = try database.createBulletin(subject: .plate(String(format: "BB-%04d", i)), region: nil, summary: "bench",
                                                      validFor: 3_600, key: keys.manifestKey, now: SystemClock().nowSeconds)
            try waitFor("bulletin \(created.serial)") { journal.holdsBulletin(id: created.id) }
            bulletin.append(Self.milliseconds(since: started))
            started = ContinuousClock.now
            let order = try database.createDispatch(unit: "TPE-DA-01", priority: "routine", summary: "bench", latitude: nil, longitude: nil,
                                                    now: SystemClock().nowMilliseconds)
            try waitFor("dispatch \(order.id)") { try journal.dispatch(id: order.id) != nil }
            dispatch.append(Self.milliseconds(since: started))
        }
        let p99 = Measure.percentile(bulletin, 99), dispatchP99 = Measure.percentile(dispatch, 99)
        print("  (\(rounds) bulletins and \(rounds) dispatches, each alone on the long poll, from the center through nginx)")
        results.add("bulletin_matchable_p50_ms", Measure.percentile(bulletin, 50))
        results.add("bulletin_matchable_p99_ms", p99, reference: ("dispatch_to_terminal_p99_ms", dispatchP99))
        results.add("dispatch_to_terminal_p99_ms", dispatchP99)

        // The center holds the demo stolen vehicle (the first row the generator writes).
        let dataset = work.appendingPathComponent("dataset")
        let line = try String(contentsOf: dataset.appendingPathComponent(Dataset.fileName(.stolenVehicles)), encoding: .utf8)
            .split(separator: "\n").dropFirst().first { $0.hasPrefix("SV00000000,") }
        guard let line else { throw BenchError("the data set has no demo stolen vehicle") }
        try database.keepRecords(.stolenVehicles, rows: [ListRow(.stolenVehicles, line.split(separator: ",", omittingEmptySubsequences: false).map(String.init),
                                                                file: "stolen-vehicles.csv", line: 2)],
                                 version: 1, now: SystemClock().nowSeconds)
        let checker = Checker(lists: lists, journal: journal)
        let context = try CheckContext(officerId: "BENCH-01", unitId: "TPE-DA-01")
        var roundTrip: [Double] = []
        for _ in 0..<rounds {
            let hit = try checker.check(.plate(DemoRecords.stolenPlate), context: context)
            let started = ContinuousClock.now
            _ = try journal.requestConfirmation(checkId: hit.checkId, urgent: true, officerId: "BENCH-01", unitId: "TPE-DA-01",
                                                now: SystemClock().nowMilliseconds)
            try waitFor("confirmation of \(hit.checkId)") { try journal.confirmation(checkId: hit.checkId)?.answer != nil }
            roundTrip.append(Self.milliseconds(since: started))
            guard try journal.confirmation(checkId: hit.checkId)?.answer?.state == .stillActive else {
                throw BenchError("the center did not confirm the demo stolen vehicle")
            }
        }
        print("  (\(rounds) confirmations: asked on the terminal → the center's answer stored on the terminal)")
        results.add("confirmation_round_trip_p50_ms", Measure.percentile(roundTrip, 50))
        results.add("confirmation_round_trip_p99_ms", Measure.percentile(roundTrip, 99),
                    reference: ("emergency_to_center_p99_ms", results.values["emergency_to_center_p99_ms"] ?? 0))
    }

    /// Emergency enqueue → stored at the center, through the running uplink (woken by the
    /// journal, as in the daemon), beside a routine check queued the same way on the same
    /// idle link: the emergency must not pay for anything the check does not.
    private func emergencies(_ rounds: Int, pki: TestPKI, nginx: NginxTLS, database: UplinkDatabase, dir: URL,
                             into results: inout Results) throws {
        let queued = WakeSignal(), urgent = WakeSignal()
        let journal = try JournalStore.open(path: dir.appendingPathComponent("emergency.db").path, onEnqueue: { queued.fire() },
                                            onUrgent: { urgent.fire() })
        let uplink = Uplink(.init(baseURL: "https://127.0.0.1:\(nginx.port)/uplink/", unit: "TPE-DA-01", dispatchWait: 25),
                            transport: CurlTransport(.init(caFile: pki.path("ca.crt"), clientCertificate: pki.path("device.crt"),
                                                           clientKey: pki.path("device.key"))),
                            journal: journal, schedule: RetryPolicy(interval: .seconds(30)), enqueued: queued, urgent: urgent)
        let running = Task { await uplink.run() }
        defer { running.cancel() }
        let checker = Checker(lists: lists, journal: journal)
        let context = try CheckContext(officerId: "BENCH-01", unitId: "TPE-DA-01")
        func arrival(_ id: String) throws {
            let started = ContinuousClock.now
            while try !database.holds(unit: "TPE-DA-01", id: id) {
                guard ContinuousClock.now - started < .seconds(30) else { throw BenchError("item \(id) did not reach the center in 30 s") }
                usleep(1_000)
            }
        }
        var emergency: [Double] = [], routine: [Double] = []
        for i in 0..<rounds {
            var started = ContinuousClock.now
            let (raised, _) = try journal.raiseEmergency(officerId: "BENCH-01", unitId: "TPE-DA-01", location: .notAvailable,
                                                         now: SystemClock().nowMilliseconds)
            try arrival(raised.emergencyId)
            emergency.append(Self.milliseconds(since: started))
            _ = try journal.clearEmergency(by: "BENCH-01", unitId: "TPE-DA-01", location: .notAvailable, now: SystemClock().nowMilliseconds)
            started = ContinuousClock.now
            let answer = try checker.check(.plate(String(format: "EM-%04d", i)), context: context)
            try arrival(answer.checkId)
            routine.append(Self.milliseconds(since: started))
        }
        let p99 = Measure.percentile(emergency, 99), routineP99 = Measure.percentile(routine, 99)
        print("  (\(rounds) emergencies and \(rounds) routine checks, each alone on the idle link, through nginx to the center)")
        results.add("emergency_to_center_p50_ms", Measure.percentile(emergency, 50))
        results.add("emergency_to_center_p99_ms", p99, reference: ("check_to_center_p99_ms", routineP99))
        results.add("check_to_center_p99_ms", routineP99)
    }

    static func milliseconds(since start: ContinuousClock.Instant) -> Double {
        let d = ContinuousClock.now - start
        return Double(d.components.seconds) * 1000 + Double(d.components.attoseconds) / 1e15
    }
}

/// The floor of a durable write: one INSERT per transaction through the C API, WAL with
/// synchronous=FULL, as the journal is configured.
final class RawDurableInsert {
    private var db: OpaquePointer?
    private var statement: OpaquePointer?

    init(path: String) throws {
        guard sqlite3_open(path, &db) == SQLITE_OK,
              sqlite3_exec(db, "PRAGMA journal_mode=WAL; PRAGMA synchronous=FULL; CREATE TABLE t (seq INTEGER PRIMARY KEY, id TEXT UNIQUE, payload TEXT)", nil, nil, nil) == SQLITE_OK,
              sqlite3_prepare_v2(db, "INSERT INTO t (id, payload) VALUES (?, ?)", -1, &statement, nil) == SQLITE_OK else {
            throw BenchError("raw durable insert setup failed: \(String(cString: sqlite3_errmsg(db)))")
        }
    }

    func insert(id: String, payload: String) {
        let transient = unsafeBitCast(-1, to: sqlite3_destructor_type.self)
        sqlite3_bind_text(statement, 1, id, -1, transient)
        sqlite3_bind_text(statement, 2, payload, -1, transient)
        _ = sqlite3_step(statement)
        sqlite3_reset(statement)
    }

    deinit {
        sqlite3_finalize(statement)
        sqlite3_close(db)
    }
}

extension URL {
    func creatingDirectory() throws -> URL {
        try FileManager.default.createDirectory(at: self, withIntermediateDirectories: true)
        return self
    }
}
