@testable import Central
import FieldWire
import Foundation
import Hummingbird
import HummingbirdTesting
import TestSupport
import Testing
import Watchlist

/// The center at fleet scale, on both engines: long polls woken by what other processes
/// write (never by querying while they wait), the uplink tables' month partitions and
/// retention, health reports and the fleet view, and batches refused whole.
@Suite("Reference center: a fleet's center")
struct FleetCenterTests {
    /// 2026-12-04T08:00:00Z.
    static let now: Int64 = 1_796_371_200

    static func headers(_ unit: String) -> HTTPFields {
        [.init("X-Client-Verify")!: "SUCCESS", .init("X-Client-DN")!: "CN=unit-\(unit),O=NPA", .contentType: "application/json"]
    }

    @Test("a held long poll is woken by a dispatch another process creates, long before its deadline; while 30 polls wait, nothing is queried",
          arguments: CenterEngine.allCases)
    func wokenNotPolling(engine: CenterEngine) async throws {
        let scratch = try Scratch("center-poll")
        defer { scratch.remove() }
        let database = try engine.database(scratch)
        let location = database.backend.location
        let server = UplinkServer(database: database)
        try await Application(router: server.router()).test(.router) { client in
            // 30 units wait; one of them gets a dispatch from another connection ("mpolice-central dispatch create").
            try await withThrowingTaskGroup(of: (String, DispatchPoll, Duration).self) { group in
                for n in 0..<30 {
                    let unit = String(format: "TPE-%02d", n)
                    group.addTask {
                        let started = ContinuousClock.now
                        return try await client.execute(uri: "/uplink/dispatches?after=0&wait=30", method: .get, headers: Self.headers(unit)) { response in
                            (unit, try WireJSON.decode(DispatchPoll.self, from: Data(buffer: response.body)), ContinuousClock.now - started)
                        }
                    }
                }
                #expect(await eventuallyAsync(timeout: 20) { server.waiters.waiting == 30 })
                let before = try Self.transactions(engine, location)
                try await Task.sleep(for: .seconds(2))
                let quiet = try Self.transactions(engine, location) - before
                // PostgreSQL counts every transaction: 30 polls querying every 100 ms would be ~600.
                if engine == .postgres { #expect(quiet < 20, "transactions while 30 polls waited 2 s: \(quiet)") }
                let other = try UplinkDatabase(location)
                let created = ContinuousClock.now
                let order = try other.createDispatch(unit: "TPE-07", priority: "urgent", summary: "collision", latitude: 25, longitude: 121,
                                                     now: Self.now * 1000)
                var woken: (DispatchPoll, Duration)?
                for try await (unit, poll, _) in group where unit == "TPE-07" {
                    woken = (poll, ContinuousClock.now - created)
                    group.cancelAll()
                    break
                }
                let (poll, after) = try #require(woken)
                #expect(poll.dispatches.map(\.id) == [order.id])
                // At once (tens of milliseconds; seconds on a loaded machine), not at the 30 s deadline.
                #expect(after < .seconds(5), "woken \(after) after the dispatch was created")
            }
        }
    }

    /// Transactions the database has committed (PostgreSQL's statistics); 0 on SQLite.
    static func transactions(_ engine: CenterEngine, _ location: String) throws -> Int {
        guard engine == .postgres else { return 0 }
        let cluster = try PostgresCluster.shared()
        // Statistics reach the view when a backend flushes them: ask for a fresh snapshot.
        return Int(try cluster.psql(location, "SELECT pg_stat_force_next_flush(); SELECT pg_stat_clear_snapshot(); SELECT xact_commit FROM pg_stat_database WHERE datname = current_database()")
            .split(separator: "\n").last.map(String.init) ?? "0") ?? 0
    }

    @Test("uplink tables by month: partitions made ahead, an old month's items and deliveries removed by retention", arguments: CenterEngine.allCases)
    func partitionsAndRetention(engine: CenterEngine) throws {
        let scratch = try Scratch("center-partitions")
        defer { scratch.remove() }
        let database = try engine.database(scratch)
        // Items created on 2026-10-15 and 2026-12-04.
        let october: Int64 = 1_792_051_200_000, december = Self.now * 1000
        let made = try database.maintainPartitions(now: Self.now, retentionMonths: nil)
        if engine == .postgres {
            #expect(Set(made.created).isSuperset(of: ["item_y2026m12", "item_y2027m01", "item_y2027m02", "delivery_y2026m12"]))
        }
        let items = [october, december].map { ms in
            Result<UplinkItem, ItemRefusal>.success(UplinkItem(id: UUIDv7.make(milliseconds: ms), createdAt: ms, attempt: 1, payload: .breadcrumb(
                BreadcrumbPayload(fixTime: "2026-12-04T08:00:00Z", latitude: 25, longitude: 121.5, speed: nil, track: nil, horizontalError: 3, mode: "3d"))))
        }
        let stored = try database.ingest(unit: "TPE-DA-01", items, now: december)
        #expect(stored.results.map(\.status) == [.accepted, .accepted])
        // A resend of October's item is a duplicate wherever its partition is.
        #expect(try database.ingest(unit: "TPE-DA-01", [items[0]], now: december).results.map(\.status) == [.duplicate])
        if engine == .postgres {
            let cluster = try PostgresCluster.shared()
            #expect(try cluster.psql(database.backend.location, "SELECT count(*) FROM item_y2026m12") == "1")
            #expect(try cluster.psql(database.backend.location, "SELECT count(*) FROM item_default") == "1")
        }
        // Keep one month back: October goes, December stays.
        let pruned = try database.maintainPartitions(now: Self.now, retentionMonths: 1)
        if engine == .postgres { #expect(pruned.dropped.isEmpty, "no October partition was made: its item sat in the default one") }
        #expect(try database.records().map(\.createdAt) == [december])
        #expect(try database.deliveries().count == 3)
        // Two months on, December's own partition is dropped whole.
        let later = try database.maintainPartitions(now: Self.now + 62 * 86_400, retentionMonths: 1)
        if engine == .postgres { #expect(later.dropped.contains("item_y2026m12")) }
        #expect(try database.records().isEmpty)
    }

    @Test("health reports: the newest kept per unit; the fleet view flags silent, failing, behind, expiring, full and backed-up units",
          arguments: CenterEngine.allCases)
    func fleetView(engine: CenterEngine) throws {
        let scratch = try Scratch("center-fleet")
        defer { scratch.remove() }
        let database = try engine.database(scratch)
        let nowMs = Self.now * 1000
        func report(_ unit: String, at ms: Int64, sync: String = "up-to-date", syncAge: Int64 = 600, sequence: Int64 = 12,
                    certificate: Int64 = 200 * 86_400, free: Int64 = 4 << 30, outbox: Int = 3) -> Result<UplinkItem, ItemRefusal> {
            let health = HealthReport(reportId: UUIDv7.make(milliseconds: ms), at: Timestamp.iso8601(milliseconds: ms), unitId: unit, trigger: .daily,
                                      lists: ["stolen-vehicles": sequence], manifestSequence: sequence,
                                      lastSync: .init(at: Timestamp.iso8601(milliseconds: ms - syncAge * 1000), outcome: sync),
                                      certificateExpiresAt: Timestamp.iso8601(milliseconds: nowMs + certificate * 1000),
                                      freeDiskBytes: free, outboxDepth: outbox)
            return .success(UplinkItem(id: health.reportId, createdAt: ms, attempt: 1, payload: .health(health)))
        }
        _ = try database.ingest(unit: "A-OK", [report("A-OK", at: nowMs - 3_600_000)], now: nowMs)
        _ = try database.ingest(unit: "B-SILENT", [report("B-SILENT", at: nowMs - 40 * 3_600_000)], now: nowMs)
        _ = try database.ingest(unit: "C-FAIL", [report("C-FAIL", at: nowMs - 60_000, sync: "bad-signature", syncAge: 30 * 3_600)], now: nowMs)
        _ = try database.ingest(unit: "D-BEHIND", [report("D-BEHIND", at: nowMs - 60_000, sequence: 10)], now: nowMs)
        _ = try database.ingest(unit: "E-CERT", [report("E-CERT", at: nowMs - 60_000, certificate: 5 * 86_400, free: 50 << 20, outbox: 9_000)], now: nowMs)
        // An older report arriving late does not replace the newer one.
        _ = try database.ingest(unit: "A-OK", [report("A-OK", at: nowMs - 50 * 3_600_000)], now: nowMs)
        // A unit that only sent breadcrumbs has never reported.
        _ = try database.ingest(unit: "F-MUTE", [.success(UplinkItem(id: UUIDv7.make(milliseconds: nowMs), createdAt: nowMs, attempt: 1, payload: .breadcrumb(
            BreadcrumbPayload(fixTime: "2026-12-04T08:00:00Z", latitude: 25, longitude: 121.5, speed: nil, track: nil, horizontalError: 3, mode: "3d"))))],
                                now: nowMs)
        let fleet = Dictionary(uniqueKeysWithValues: try database.fleet(now: Self.now).map { ($0.unit, $0.flags) })
        #expect(fleet["A-OK"] == [])
        #expect(fleet["B-SILENT"] == ["silent", "stale-lists"])
        #expect(fleet["C-FAIL"] == ["sync-failing", "stale-lists"])
        #expect(fleet["D-BEHIND"] == ["behind"])
        #expect(fleet["E-CERT"] == ["certificate-expiring", "disk-low", "outbox-deep"])
        #expect(fleet["F-MUTE"] == ["silent"])
        #expect(try database.fleet(now: Self.now).first?.unit == "E-CERT", "the most flagged first")
    }

    @Test("a malformed, oversized or too-long batch is refused with its code; another unit's upload is taken meanwhile", arguments: CenterEngine.allCases)
    func refusedBatches(engine: CenterEngine) async throws {
        let scratch = try Scratch("center-refusals")
        defer { scratch.remove() }
        let database = try engine.database(scratch)
        let crumb = { @Sendable (ms: Int64) in UplinkItem(id: UUIDv7.make(milliseconds: ms), createdAt: ms, attempt: 1, payload: .breadcrumb(
            BreadcrumbPayload(fixTime: "2026-12-04T08:00:00Z", latitude: 25, longitude: 121.5, speed: nil, track: nil, horizontalError: 3, mode: "3d"))) }
        try await Application(router: UplinkServer(database: database).router()).test(.router) { client in
            let tooMany = try WireJSON.encode(UplinkBatch(unit: "BAD-01", items: (1...10_001).map { crumb(Int64($0)) }))
            try await client.execute(uri: "/uplink/items", method: .post, headers: Self.headers("BAD-01"), body: ByteBuffer(data: tooMany)) { response in
                #expect(response.status == .contentTooLarge)
                #expect(String(buffer: response.body).contains("batch.too-many-items"))
            }
            let huge = ByteBuffer(repeating: UInt8(ascii: " "), count: 9 << 20)
            try await client.execute(uri: "/uplink/items", method: .post, headers: Self.headers("BAD-01"), body: huge) { response in
                #expect(response.status == .contentTooLarge)
                #expect(String(buffer: response.body).contains("batch.too-large"))
            }
            var gzipHeaders = Self.headers("BAD-01")
            gzipHeaders[.contentEncoding] = "gzip"
            try await client.execute(uri: "/uplink/items", method: .post, headers: gzipHeaders, body: ByteBuffer(string: "not gzip")) { response in
                #expect(response.status == .unprocessableContent)
                #expect(String(buffer: response.body).contains("batch.bad-gzip"))
            }
            try await client.execute(uri: "/uplink/items", method: .post, headers: Self.headers("BAD-01"),
                                     body: ByteBuffer(string: #"{"unit":"BAD-01","items":"#)) { response in
                #expect(response.status == .unprocessableContent)
                #expect(String(buffer: response.body).contains("batch.bad-format"))
            }
            let good = try WireJSON.encode(UplinkBatch(unit: "GOOD-01", items: [crumb(5)]))
            try await client.execute(uri: "/uplink/items", method: .post, headers: Self.headers("GOOD-01"), body: ByteBuffer(data: good)) { response in
                #expect(response.status == .ok)
            }
        }
        #expect(try database.records().map(\.unit) == ["GOOD-01"])
    }

    @Test("on SQLite, what the center acknowledges is synced at every commit (synchronous=FULL; GRDB's pool sets NORMAL on opening)")
    func sqliteDurable() throws {
        let scratch = try Scratch("center")
        defer { scratch.remove() }
        let backend = try SQLiteBackend(path: scratch.url.appendingPathComponent("central.db").path)
        #expect(try backend.pool.write { try Int.fetchOne($0, sql: "PRAGMA synchronous") } == 2)
    }

    @Test("SQLite's argument marks as PostgreSQL's: ?N kept, bare ? numbered after the highest, quoted text left alone")
    func translation() {
        #expect(PostgresConnection.translate("SELECT ? , ?").sql == "SELECT $1 , $2")
        #expect(PostgresConnection.translate("x = ?2 AND y = ?1 OR ?").sql == "x = $2 AND y = $1 OR $3")
        #expect(PostgresConnection.translate("a = '?' AND b = ? AND c = \"?x\"") == ("a = '?' AND b = $1 AND c = \"?x\"", 1))
        #expect(PostgresConnection.translate("VALUES (?1, ?2, ?3, ?4)").count == 4)
    }
}
