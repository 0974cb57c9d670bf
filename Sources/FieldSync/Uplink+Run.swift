import Foundation
import Store

extension Uplink {
    /// Wake-ups between the two uplink loops and the rest of the daemon.
    public struct Triggers: Sendable {
        /// Fired after every write that queued outbox items.
        public let enqueued = SyncTrigger()
        /// Ends the upload loop's wait (also its backoff): the link is back.
        public let uploadWake = SyncTrigger()
        /// Ends the dispatch poll's backoff: the link is back.
        public let pollWake = SyncTrigger()

        public init() {}
    }

    /// Uploads whenever items are queued; when idle, looks again every `policy.interval` for
    /// items whose retry time has come. After a failure it backs off (`policy.firstRetry`
    /// doubling to `policy.maxRetry`, jittered) without reacting to new items, but a
    /// successful dispatch poll ends the backoff at once. Returns when cancelled; a
    /// transfer under way is aborted within about a second.
    public func runUploads(_ policy: SyncSchedule.Policy, triggers: Triggers,
                           onFlush: (@Sendable (Result<FlushReport, any Error>) -> Void)? = nil) async {
        let abort = AbortFlag()
        await withTaskCancellationHandler {
            var schedule = SyncSchedule(policy)
            while !Task.isCancelled {
                let result = await onOwnThread("uplink") { try self.flush(abort: abort) }
                onFlush?(result)
                let succeeded = (try? result.get()) != nil
                if succeeded, schedule.consecutiveFailures > 0 { triggers.pollWake.fire() }
                let delay = schedule.delay(afterSuccess: succeeded, random: Double.random(in: 0..<1))
                await wait(for: delay, orUntil: succeeded ? [triggers.enqueued, triggers.uploadWake] : [triggers.uploadWake])
            }
        } onCancel: {
            abort.set()
        }
    }

    /// Long-polls for dispatches, one poll after another; after a failure backs off like the
    /// uploads, and a successful upload ends the backoff. The first success after failures
    /// wakes the uploads: the link is back.
    public func runDispatchPoll(_ policy: SyncSchedule.Policy, triggers: Triggers,
                                onPoll: (@Sendable (Result<[Dispatch], any Error>) -> Void)? = nil) async {
        let abort = AbortFlag()
        await withTaskCancellationHandler {
            var schedule = SyncSchedule(policy)
            while !Task.isCancelled {
                let started = ContinuousClock.now
                let result = await onOwnThread("dispatch-poll") { try self.pollDispatches(abort: abort) }
                onPoll?(result)
                if let dispatches = try? result.get() {
                    if schedule.consecutiveFailures > 0 { triggers.uploadWake.fire() }
                    _ = schedule.delay(afterSuccess: true, random: 0)
                    // The poll itself waited; a center that answers an empty poll at once must not make it spin.
                    if dispatches.isEmpty, ContinuousClock.now - started < .seconds(1) { try? await Task.sleep(for: .seconds(1)) }
                    continue
                }
                await wait(for: schedule.delay(afterSuccess: false, random: Double.random(in: 0..<1)), orUntil: [triggers.pollWake])
            }
        } onCancel: {
            abort.set()
        }
    }
}
