import Central
@testable import FieldSync
import FieldWire
import Foundation
import Store
import TerminalConfiguration
import Synchronization
import TestSupport
import Testing
import Watchlist

/// The uplink against the real center: `mpolice-central serve` behind nginx with client
/// certificates, reached through a proxy that cuts, stalls and drops the link.
@Suite("uplink: outbox to the center, dispatches back", .serialized)
struct UplinkTests {
    /// A terminal's state with empty lists (checks answer no-hit with a warning) and a
    /// journal whose enqueues wake the uploader.
    static func terminal(_ world: UplinkWorld, batchItems: Int = 200) throws -> (Checker, JournalStore, Uplink) {
        let state = StateDirectory(path: world.scratch.url.appendingPathComponent("terminal").path)
        try state.create()
        let enqueued = WakeSignal()
        let journal = try JournalStore.open(path: state.journalPath, onEnqueue: { enqueued.fire() })
        let checker = Checker(lists: try ListsStore.open(state), journal: journal)
        let uplink = Uplink(.init(baseURL: world.uplinkURL, unit: "TPE-DA-01", batchItems: batchItems, dispatchWait: 2),
                            transport: world.transport(), journal: journal, schedule: quick, enqueued: enqueued)
        return (checker, journal, uplink)
    }

    static let quick = RetryPolicy(interval: .seconds(1), jitter: 0.1, firstRetry: .milliseconds(100), maxRetry: .milliseconds(500))

    @Test("10,000 checks queued while the link is cut, slowed and lossy, and the center's answers lost after it committed: each accepted exactly once, resends answered duplicate and deleted")
    func tenThousandAcrossFaults() async throws {
        let world = try UplinkWorld()
        defer { world.stop() }
        let (checker, journal, uplink) = try Self.terminal(world)
        let context = try CheckContext(officerId: "OF-0042", unitId: "TPE-DA-01")
        let uploads = Task { await uplink.runUploads() }

        // Checks go on (from a thread of their own, as the API's would) while the link changes under them.
        let answered = Mutex<[String]>([])
        let producer = Thread {
            for i in 0..<10_000 {
                if let answer = try? checker.check(.plate(String(format: "QA-%04d", i)), context: context) {
                    answered.withLock { $0.append(answer.checkId) }
                }
            }
        }
        producer.start()
        for mode: FaultProxy.Mode in [.pass, .lossy(0.08), .down, .delay(milliseconds: 30), .lossy(0.15), .down, .pass] {
            world.proxy.mode = mode
            try await Task.sleep(for: .milliseconds(700))
        }
        // The center stores a batch, then its answer is lost on the way back: the terminal
        // must send again, and the center answer "duplicate".
        world.backend.mode = .dropAnswers(0.5)
        try await Task.sleep(for: .milliseconds(1_500))
        world.backend.mode = .pass
        world.proxy.mode = .pass
        let drained = await eventuallyAsync(timeout: 120) {
            answered.withLock { $0.count } == 10_000 && (try? journal.outboxStatus(now: 0).pending) == 0
        }
        uploads.cancel()
        await uploads.value

        let left = try journal.outboxStatus(now: 0).pending
        #expect(drained, "outbox still holds \(left) items")
        #expect(world.proxy.cuts.load(ordering: .relaxed) > 0, "the faults cut no connection: the test did not test faults")
        let records = try world.records(kind: "check")
        let ids = records.compactMap { $0["id"] as? String }
        #expect(ids.count == 10_000)
        #expect(Set(ids) == Set(answered.withLock { $0 }))
        // Counted as a multiset of what was delivered: every item accepted exactly once;
        // resends happened and were answered duplicate — each after the item's acceptance.
        let deliveries = try world.deliveries()
        var accepted: [String: Int] = [:], duplicates = 0
        for delivery in deliveries {
            switch delivery.status {
            case "accepted": accepted[delivery.id, default: 0] += 1
            case "duplicate":
                duplicates += 1
                #expect(accepted[delivery.id] == 1, "a duplicate answered before the item was accepted")
            default: Issue.record("unexpected answer \(delivery.status)")
            }
        }
        #expect(accepted.count == 10_000 && accepted.values.allSatisfy { $0 == 1 })
        #expect(duplicates > 0, "no resend happened: the test did not test exactly-once")
        #expect(world.backend.cuts.load(ordering: .relaxed) > 0, "no answer was lost")
        // The record at the center is the terminal's: its check id and query.
        let first = try #require(records.first?["payload"] as? [String: Any])
        #expect(first["checkId"] as? String == records.first?["id"] as? String)
        #expect((first["query"] as? String)?.hasPrefix("QA") == true)
    }

    @Test("dispatch status goes before plain checks; a rejected item is kept with the center's reason and not sent again")
    func priorityAndRejection() async throws {
        let world = try UplinkWorld()
        defer { world.stop() }
        let (checker, journal, uplink) = try Self.terminal(world)
        let context = try CheckContext(officerId: "OF-0042", unitId: "TPE-DA-01")
        for i in 0..<20 { _ = try checker.check(.plate(String(format: "QB-%04d", i)), context: context) }
        // A dispatch the center does not know (it was purged there): its status changes are refused.
        _ = try journal.storeDispatches([DispatchOrder(id: UUIDv7.make(milliseconds: 1), cursor: 1, createdAt: "2026-11-27T00:00:00Z",
                                                      priority: "routine", summary: "purged", latitude: nil, longitude: nil)],
                                        cursor: 1, location: .notAvailable, now: 2)
        let due = try journal.dueOutboxItems(now: .max, maxItems: 100, maxBytes: 1 << 20)
        #expect(due.first?.kind == .dispatchStatus, "dispatch status outranks plain checks")

        let report = try uplink.flush()
        #expect(report.acknowledged == 20)
        #expect(report.rejected == 1)
        let status = try journal.outboxStatus(now: 0)
        #expect(status.pending == 0)
        #expect(status.rejected == 1)
        let rejected = try journal.rejectedOutboxItems()
        #expect(rejected.first?.reason.hasPrefix("dispatch.unknown") == true)
        // Not retried: a second flush sends nothing.
        #expect(try uplink.flush().batches == 0)
        #expect(try world.records(kind: "dispatch-status").isEmpty)
    }

    @Test("a certificate for another unit, or none, is refused with a clear reason")
    func identityRefused() throws {
        let world = try UplinkWorld()
        defer { world.stop() }
        let state = StateDirectory(path: world.scratch.url.appendingPathComponent("terminal").path)
        try state.create()
        let journal = try JournalStore.open(path: state.journalPath)
        let checker = Checker(lists: try ListsStore.open(state), journal: journal)
        _ = try checker.check(.plate("QC-0001"), context: try CheckContext(officerId: "OF-1", unitId: "TPE-XX-99"))
        let wrongUnit = Uplink(.init(baseURL: world.uplinkURL, unit: "TPE-XX-99"), transport: world.transport(), journal: journal)
        #expect { try wrongUnit.flush() } throws: { ($0 as? SyncFailure)?.reason == .refused }
        let noCertificate = Uplink(.init(baseURL: world.uplinkURL, unit: "TPE-DA-01"),
                                   transport: CurlTransport(.init(caFile: world.pki.path("ca.crt"), clientCertificate: nil, clientKey: nil)),
                                   journal: journal)
        #expect { try noCertificate.flush() } throws: { ($0 as? SyncFailure)?.reason == .clientCertificateRefused }
        #expect(try journal.outboxStatus(now: 0).pending == 1, "a refused batch keeps its items")
        #expect(try world.records().isEmpty)
    }
}
