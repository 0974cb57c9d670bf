import FieldSync
import FieldWire
import Foundation
import Glibc
import Synchronization
import TerminalConfiguration
import TestSupport
import Testing
import Watchlist

@Suite("Retry schedule")
struct ScheduleTests {
    let policy = RetryPolicy(interval: .seconds(900), jitter: 0.1, firstRetry: .seconds(30), maxRetry: .seconds(1800))

    @Test("success waits the interval within ± jitter")
    func interval() {
        var schedule = RetrySchedule(policy)
        #expect(schedule.delay(afterSuccess: true, random: 0) == .seconds(810))
        #expect(schedule.delay(afterSuccess: true, random: 0.5) == .seconds(900))
        #expect(schedule.delay(afterSuccess: true, random: 0.999_999) > .seconds(989))
    }

    @Test("failures back off exponentially with equal jitter, capped, and a success resets")
    func backoff() {
        var schedule = RetrySchedule(policy)
        let full = (1...8).map { _ in schedule.delay(afterSuccess: false, random: 0.999_999_9) }
        #expect(full.map { Int($0.components.seconds) } == [29, 59, 119, 239, 479, 959, 1799, 1799])
        #expect(schedule.consecutiveFailures == 8)
        var low = RetrySchedule(policy)
        #expect(low.delay(afterSuccess: false, random: 0) == .seconds(15))
        _ = schedule.delay(afterSuccess: true, random: 0.5)
        #expect(schedule.consecutiveFailures == 0)
        #expect(schedule.delay(afterSuccess: false, random: 0) == .seconds(15))
    }

    @Test("the list sync as a service syncs at once, again on sync-now long before the interval, and stops when cancelled")
    func scheduled() async throws {
        let world = try SyncWorld(records: 500)
        defer { world.remove() }
        try world.publish()
        let transport = PriorityRecordingTransport(world.transport())
        let sync = world.sync(schedule: RetryPolicy(interval: .seconds(3600)), transport: transport)
        let task = Task { await sync.run() }
        func runs() -> Int { (try? world.journal.syncAttempts(limit: 10).count) ?? 0 }
        #expect(await eventuallyAsync(timeout: 20) { runs() == 1 })
        #expect(try world.lists.versions()[.stolenVehicles]?.version == 1)
        try world.editVehicles(add: ["RXA-1235"])
        try world.publish()
        sync.wake.fire()
        #expect(await eventuallyAsync(timeout: 20) { runs() == 2 })
        #expect(try world.lists.versions()[.stolenVehicles]?.version == 2)
        task.cancel()
        await task.value
        #expect(try world.journal.syncAttempts(limit: 10).map(\.outcome) == [.updated, .updated])
        // Both runs' requests came from a thread at background priority, the caller's untouched.
        let seen = transport.niceValues
        #expect(!seen.isEmpty && seen.allSatisfy { $0 == max(WorkPriorityTests.nice(), WorkPriority.backgroundNice) }, "\(seen)")
    }
}

@Suite("Work priority")
struct WorkPriorityTests {
    /// The calling thread's nice value.
    static func nice() -> Int32 {
        errno = 0
        return getpriority(__priority_which_t(PRIO_PROCESS.rawValue), 0)
    }

    @Test("background work runs at nice 10 (or nicer, never less nice) on its own thread, and threads it starts inherit it; the caller and normal work do not change")
    func background() async throws {
        let caller = Self.nice()
        let background = await onOwnThread("test-background", priority: .background) { () -> [Int32] in
            let started = Mutex<Int32?>(nil)
            let child = Thread { started.withLock { $0 = Self.nice() } }
            child.start()
            while started.withLock({ $0 }) == nil { usleep(1_000) }
            return [Self.nice(), started.withLock { $0! }]
        }
        let expected = max(caller, WorkPriority.backgroundNice)
        #expect(try background.get() == [expected, expected])
        #expect(try await onOwnThread("test-normal") { Self.nice() }.get() == caller)
        #expect(Self.nice() == caller)
    }
}

/// Curl, noting the nice value of the thread each request is made on.
private final class PriorityRecordingTransport: SyncTransport {
    let curl: CurlTransport
    private let seen = Mutex<[Int32]>([])
    var niceValues: [Int32] { seen.withLock { $0 } }

    init(_ curl: CurlTransport) { self.curl = curl }

    func get(_ url: String, maxBytes: Int64, ifNoneMatch etag: String?, timeout: Double?, abort: AbortFlag?) throws -> CurlTransport.Response {
        seen.withLock { $0.append(WorkPriorityTests.nice()) }
        return try curl.get(url, maxBytes: maxBytes, ifNoneMatch: etag, timeout: timeout, abort: abort)
    }

    func download(_ url: String, to partial: URL, expectedLength: Int64, expectedSHA256: String,
                  progress: (@Sendable (Int64) -> Void)?, abort: AbortFlag?) throws -> CurlTransport.Download {
        seen.withLock { $0.append(WorkPriorityTests.nice()) }
        return try curl.download(url, to: partial, expectedLength: expectedLength, expectedSHA256: expectedSHA256, progress: progress, abort: abort)
    }
}
