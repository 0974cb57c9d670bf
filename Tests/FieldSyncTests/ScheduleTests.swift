import FieldSync
import Foundation
import Testing
import Watchlist

@Suite("Sync schedule")
struct ScheduleTests {
    let policy = SyncSchedule.Policy(interval: .seconds(900), jitter: 0.1, firstRetry: .seconds(30), maxRetry: .seconds(1800))

    @Test("success waits the interval within ± jitter")
    func interval() {
        var schedule = SyncSchedule(policy)
        #expect(schedule.delay(afterSuccess: true, random: 0) == .seconds(810))
        #expect(schedule.delay(afterSuccess: true, random: 0.5) == .seconds(900))
        #expect(schedule.delay(afterSuccess: true, random: 0.999_999) > .seconds(989))
    }

    @Test("failures back off exponentially with equal jitter, capped, and a success resets")
    func backoff() {
        var schedule = SyncSchedule(policy)
        let full = (1...8).map { _ in schedule.delay(afterSuccess: false, random: 0.999_999_9) }
        #expect(full.map { Int($0.components.seconds) } == [29, 59, 119, 239, 479, 959, 1799, 1799])
        #expect(schedule.consecutiveFailures == 8)
        var low = SyncSchedule(policy)
        #expect(low.delay(afterSuccess: false, random: 0) == .seconds(15))
        _ = schedule.delay(afterSuccess: true, random: 0.5)
        #expect(schedule.consecutiveFailures == 0)
        #expect(schedule.delay(afterSuccess: false, random: 0) == .seconds(15))
    }

    @Test("the scheduler syncs at once, again on sync-now long before the interval, and stops when cancelled")
    func scheduled() async throws {
        let world = try SyncWorld(records: 500)
        defer { world.remove() }
        try world.publish()
        let sync = world.sync()
        let trigger = SyncTrigger()
        let runs = Counter()
        let task = Task {
            await sync.runScheduled(.init(interval: .seconds(3600)), trigger: trigger) { result in
                runs.add((try? result.get()) != nil)
            }
        }
        try await runs.waitFor(1)
        #expect(try world.lists.versions()[.stolenVehicles]?.version == 1)
        try world.editVehicles(add: ["RXA-1235"])
        try world.publish()
        trigger.fire()
        try await runs.waitFor(2)
        #expect(try world.lists.versions()[.stolenVehicles]?.version == 2)
        task.cancel()
        await task.value
        #expect(runs.successes == 2)
    }
}

final class Counter: @unchecked Sendable {
    private let lock = NSLock()
    private var count = 0
    private var ok = 0
    func add(_ success: Bool) { lock.withLock { count += 1; if success { ok += 1 } } }
    var successes: Int { lock.withLock { ok } }

    func waitFor(_ n: Int, seconds: Double = 20) async throws {
        let deadline = Date().addingTimeInterval(seconds)
        while lock.withLock({ count }) < n {
            guard Date() < deadline else { throw TestFailure(description: "only \(lock.withLock { count }) runs") }
            try await Task.sleep(for: .milliseconds(20))
        }
    }
}
