import FieldSync
import FieldWire
import Foundation
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
        let sync = world.sync(schedule: RetryPolicy(interval: .seconds(3600)))
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
    }
}
