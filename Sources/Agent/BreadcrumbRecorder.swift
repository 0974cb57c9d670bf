import FieldWire
import Location
import Store
import Synchronization
import Watchlist

/// Where Location meets Store: turns fixes into breadcrumbs in journal.db by a
/// `BreadcrumbPolicy` — and, while an emergency is active, every 2 s whatever the policy,
/// first in the outbox and naming the emergency. Hooked to `LocationService`'s `onFix`; a
/// journal write error is counted and reported, never thrown into the gpsd reader.
final class BreadcrumbRecorder: Sendable {
    let policy: BreadcrumbPolicy
    private let journal: JournalStore
    private let clock: any TerminalClock
    private let last = Mutex<Fix?>(nil)
    /// Monotonic milliseconds of the last emergency breadcrumb.
    private let lastEmergency = Mutex<Int64?>(nil)
    private let failures = Atomic<Int>(0)

    /// The emergency cadence, and how early a fix may come for it (gpsd's 1 Hz fixes arrive
    /// with jitter: the second one after the last breadcrumb is taken).
    static let emergencyInterval: Int64 = 2_000
    static let emergencyTolerance: Int64 = 250

    init(policy: BreadcrumbPolicy, journal: JournalStore, clock: any TerminalClock) {
        (self.policy, self.journal, self.clock) = (policy, journal, clock)
    }

    /// Journal writes that failed since start.
    var failureCount: Int { failures.load(ordering: .relaxed) }

    func record(_ fix: Fix) {
        if let emergency = journal.activeEmergencyId() {
            let now = clock.monotonicMilliseconds
            let due = lastEmergency.withLock { last -> Bool in
                if let last, now - last < Self.emergencyInterval - Self.emergencyTolerance { return false }
                last = now
                return true
            }
            guard due else { return }
            last.withLock { $0 = fix }
            append(fix, emergencyId: emergency)
            return
        }
        let due = last.withLock { last -> Bool in
            guard policy.shouldRecord(fix, after: last) else { return false }
            last = fix
            return true
        }
        guard due else { return }
        append(fix, emergencyId: nil)
    }

    private func append(_ fix: Fix, emergencyId: String?) {
        do {
            try journal.appendBreadcrumb(
                BreadcrumbPayload(fixTime: fix.time, latitude: fix.latitude, longitude: fix.longitude, speed: fix.speed,
                           track: fix.track, horizontalError: fix.horizontalError, mode: fix.mode.rawValue, emergencyId: emergencyId),
                maxStored: policy.maxStored, now: clock.nowMilliseconds)
        } catch {
            failures.add(1, ordering: .relaxed)
        }
    }
}
