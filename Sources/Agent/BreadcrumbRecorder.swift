import FieldWire
import Location
import Store
import Synchronization
import Watchlist

/// Where Location meets Store: turns fixes into breadcrumbs in journal.db by a
/// `BreadcrumbPolicy`. Hooked to `LocationService`'s `onFix`; a journal write error is
/// counted and reported, never thrown into the gpsd reader.
final class BreadcrumbRecorder: Sendable {
    let policy: BreadcrumbPolicy
    private let journal: JournalStore
    private let clock: any TerminalClock
    private let last = Mutex<Fix?>(nil)
    private let failures = Atomic<Int>(0)

    init(policy: BreadcrumbPolicy, journal: JournalStore, clock: any TerminalClock) {
        (self.policy, self.journal, self.clock) = (policy, journal, clock)
    }

    /// Journal writes that failed since start.
    var failureCount: Int { failures.load(ordering: .relaxed) }

    func record(_ fix: Fix) {
        let due = last.withLock { last -> Bool in
            guard policy.shouldRecord(fix, after: last) else { return false }
            last = fix
            return true
        }
        guard due else { return }
        do {
            try journal.appendBreadcrumb(
                BreadcrumbPayload(fixTime: fix.time, latitude: fix.latitude, longitude: fix.longitude, speed: fix.speed,
                           track: fix.track, horizontalError: fix.horizontalError, mode: fix.mode.rawValue),
                maxStored: policy.maxStored, now: clock.nowMilliseconds)
        } catch {
            failures.add(1, ordering: .relaxed)
        }
    }
}
