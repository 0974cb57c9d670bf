@testable import Agent
import Central
import FieldSync
import FieldWire
import Foundation
import Logging
import Store
import TestSupport
import Testing
import Watchlist

/// The health report the fleet view lists, built from real state: the lists' versions, the
/// last sync, the device certificate's expiry (openssl as the oracle), free disk, the outbox.
@Suite("Health reports for the center's fleet view")
struct HealthReporterTests {
    @Test("a report says what the terminal holds; one a day: none again within 24 h of the last, one after")
    func daily() throws {
        let terminal = try LoadedTerminal("health")
        defer { terminal.remove() }
        let (scratch, state, lists, journal) = (terminal.scratch, terminal.state, terminal.lists, terminal.journal)
        let issuedAt = LoadedTerminal.issuedAt
        let clock = ManualClock(nowMilliseconds: (issuedAt + 60) * 1000)
        try journal.recordSyncAttempt(SyncAttempt(startedAt: (issuedAt + 30) * 1000, durationMs: 120, outcome: .failed, reason: "tls",
                                                  message: "x", manifestSequence: nil, bytesFetched: 0))
        _ = try Checker(lists: lists, journal: journal, clock: clock)
            .check(.plate("ABC-1234"), context: try CheckContext(officerId: "OF-1", unitId: "TPE-DA-01"))
        let pki = try TestPKI(in: scratch.url.appendingPathComponent("pki").creatingDirectory())
        let reporter = HealthReporter(unit: "TPE-DA-01", lists: lists, journal: journal, stateDirectory: state.url.path,
                                      certificatePath: pki.path("device.crt"), clock: clock, logger: Logger(label: "test"))

        reporter.sendIfDue()
        let items = try journal.dueOutboxItems(now: clock.nowMilliseconds, maxItems: 10, maxBytes: 1 << 20).filter { $0.kind == .health }
        #expect(items.count == 1)
        let report = try WireJSON.decode(HealthReport.self, from: Data(try #require(items.first).payload.utf8))
        #expect(report.trigger == .daily && report.unitId == "TPE-DA-01" && report.agentVersion == AgentVersion.current)
        #expect(report.lists[ListKind.stolenVehicles.rawValue] == 1)
        #expect(report.lastSync == .init(at: Timestamp.iso8601(milliseconds: (issuedAt + 30) * 1000), outcome: "tls"))
        #expect(report.outboxDepth == 1, "the check before it")
        #expect((report.freeDiskBytes ?? 0) > 0)
        // The expiry as openssl reads it.
        let enddate = try Programs.system("/usr/bin/openssl", ["x509", "-in", pki.path("device.crt"), "-noout", "-enddate"]).stdout
        let formatter = DateFormatter()
        formatter.locale = Locale(identifier: "en_US_POSIX")
        formatter.timeZone = TimeZone(identifier: "UTC")
        formatter.dateFormat = "MMM d HH:mm:ss yyyy 'GMT'"
        let oracle = try #require(formatter.date(from: enddate.replacingOccurrences(of: "notAfter=", with: "")
            .trimmingCharacters(in: .whitespacesAndNewlines).replacingOccurrences(of: "  ", with: " ")))
        #expect(report.certificateExpiresAt == Timestamp.iso8601(milliseconds: Int64(oracle.timeIntervalSince1970) * 1000))

        clock.advance(milliseconds: 23 * 3_600_000)
        reporter.sendIfDue()
        #expect(try journal.dueOutboxItems(now: clock.nowMilliseconds, maxItems: 10, maxBytes: 1 << 20).filter { $0.kind == .health }.count == 1)
        clock.advance(milliseconds: 3_600_000)
        reporter.sendIfDue()
        #expect(try journal.dueOutboxItems(now: clock.nowMilliseconds, maxItems: 10, maxBytes: 1 << 20).filter { $0.kind == .health }.count == 2)
        // On request (diag --upload) whatever the time.
        #expect(try reporter.send(.diag).trigger == .diag)
    }
}

extension URL {
    func creatingDirectory() throws -> URL {
        try FileManager.default.createDirectory(at: self, withIntermediateDirectories: true)
        return self
    }
}
