import Foundation
import Store
import Synchronization

/// Turns fixes into breadcrumbs in journal.db by a `BreadcrumbPolicy`. Hooked to
/// `LocationService`'s `onFix`; a journal write error is counted and reported, never thrown
/// into the gpsd reader.
public final class BreadcrumbRecorder: Sendable {
    public let policy: BreadcrumbPolicy
    private let journal: JournalStore
    private let last = Mutex<Fix?>(nil)
    private let failures = Atomic<Int>(0)

    public init(policy: BreadcrumbPolicy, journal: JournalStore) {
        self.policy = policy
        self.journal = journal
    }

    /// Journal writes that failed since start.
    public var failureCount: Int { failures.load(ordering: .relaxed) }

    public func record(_ fix: Fix) {
        let due = last.withLock { last -> Bool in
            guard policy.shouldRecord(fix, after: last) else { return false }
            last = fix
            return true
        }
        guard due else { return }
        do {
            try journal.appendBreadcrumb(
                Breadcrumb(fixTime: fix.time, latitude: fix.latitude, longitude: fix.longitude, speed: fix.speed,
                           track: fix.track, horizontalError: fix.horizontalError, mode: fix.mode.rawValue),
                maxStored: policy.maxStored, now: Int64(Date().timeIntervalSince1970 * 1000))
        } catch {
            failures.add(1, ordering: .relaxed)
        }
    }
}
