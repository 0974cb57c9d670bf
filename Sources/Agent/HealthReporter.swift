import AsyncAlgorithms
import FieldSync
import FieldWire
import Foundation
import Logging
import ServiceLifecycle
import Store
import Watchlist

/// Sends the terminal's health to the center's fleet view once a day (`HealthReport`), and
/// on request (`mpolicectl diag --upload`). It looks once an hour whether a day has passed
/// since the last report, so a terminal that was off sends one soon after it starts.
struct HealthReporter: Service {
    let unit: String
    let lists: ListsStore
    let journal: JournalStore
    let stateDirectory: String
    /// The device certificate (its expiry is reported; nil or unreadable: not reported).
    let certificatePath: String?
    let clock: any TerminalClock
    let logger: Logger

    static let interval: Int64 = 86_400_000
    static let lookEvery = Duration.seconds(3_600)

    func run() async {
        sendIfDue()
        for await _ in AsyncTimerSequence(interval: Self.lookEvery, clock: .continuous).cancelOnGracefulShutdown() {
            sendIfDue()
        }
    }

    func sendIfDue() {
        let now = clock.nowMilliseconds
        do {
            if let last = try journal.lastHealthReportAt(), now - last < Self.interval, last <= now { return }
            try send(.daily)
        } catch {
            logger.warning("health report not queued", metadata: ["error": "\(error)"])
        }
    }

    /// Builds the report and queues it for the center.
    @discardableResult
    func send(_ trigger: HealthReport.Trigger) throws -> HealthReport {
        let now = clock.nowMilliseconds
        let versions = (try? lists.versions()) ?? [:]
        let attempt = try journal.syncAttempts(limit: 1).first
        let manifestSequence = try journal.trustFloor()?.manifestSequence
        let certificateExpiry = certificatePath
            .flatMap { try? String(contentsOfFile: $0, encoding: .utf8) }
            .flatMap { try? DeviceCertificate(pem: $0) }
            .map { Timestamp.iso8601(milliseconds: Int64($0.notAfter.timeIntervalSince1970 * 1000)) }
        var disk = statvfs()
        let free: Int64? = statvfs(stateDirectory, &disk) == 0 ? Int64(disk.f_bavail) * Int64(disk.f_frsize) : nil
        let report = try journal.enqueueHealthReport(now: now) { depth in
            HealthReport(reportId: UUIDv7.make(milliseconds: now), at: Timestamp.iso8601(milliseconds: now), unitId: unit, trigger: trigger,
                         lists: Dictionary(uniqueKeysWithValues: versions.map { ($0.key.rawValue, $0.value.version) }),
                         manifestSequence: manifestSequence,
                         lastSync: attempt.map { .init(at: Timestamp.iso8601(milliseconds: $0.startedAt),
                                                       outcome: $0.outcome == .failed ? ($0.reason ?? "failed") : $0.outcome.rawValue) },
                         certificateExpiresAt: certificateExpiry, freeDiskBytes: free, outboxDepth: depth)
        }
        logger.info("health report queued", metadata: ["trigger": "\(trigger.rawValue)", "outbox": "\(report.outboxDepth)"])
        return report
    }
}
