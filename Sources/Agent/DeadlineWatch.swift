import FieldSync
import FieldWire
import Foundation
import Logging
import ServiceLifecycle
import Store
import Watchlist

/// Drops bulletins at their expiry (judged time, as list staleness) and raises confirmation
/// requests whose deadline passed unanswered. Sleeps until the nearest of those moments
/// (at most a minute), woken early when a bulletin or a request is added: no timer ticks
/// while nothing is due.
struct DeadlineWatch: Service {
    let lists: ListsStore
    let journal: JournalStore
    let clock: any TerminalClock
    /// Fired when a bulletin is stored or a confirmation asked: the nearest deadline may have moved.
    let changed: WakeSignal
    let logger: Logger
    let onExpired: @Sendable (Bulletin) -> Void
    let onOverdue: @Sendable (HitConfirmation) -> Void

    func run() async {
        await cancelWhenGracefulShutdown {
            while !Task.isCancelled {
                let next = round()
                await wait(for: next, orUntil: [changed])
            }
        }
    }

    /// One pass; returns how long to sleep.
    func round() -> Duration {
        var nextMs: Int64 = 60_000
        do {
            let judged = lists.judgementTime(clock)
            for bulletin in try journal.dropExpiredBulletins(now: judged) {
                logger.notice("urgent bulletin expired and dropped", metadata: ["bulletin": "\(bulletin.id)"])
                onExpired(bulletin)
            }
            if let soonest = try journal.activeBulletins(now: judged).map(\.expiresAt).min() {
                nextMs = min(nextMs, max(0, soonest - judged) * 1000 + 200)
            }
            let now = clock.nowMilliseconds
            for overdue in try journal.markOverdueConfirmations(now: now) {
                logger.warning("hit confirmation overdue: no answer from the center; confirm by radio",
                               metadata: ["check": "\(overdue.checkId)", "urgent": "\(overdue.urgent)"])
                onOverdue(overdue)
            }
            if let deadline = try journal.nextConfirmationDeadline() { nextMs = min(nextMs, max(0, deadline - now) + 50) }
        } catch {
            logger.warning("bulletin and confirmation deadlines not checked", metadata: ["error": "\(error)"])
        }
        return .milliseconds(max(nextMs, 50))
    }
}
