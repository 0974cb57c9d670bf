import FieldWire
import Foundation
import ServiceLifecycle
import Store

extension Uplink {
    /// The uploads and the dispatch poll side by side until graceful shutdown.
    public func run() async {
        await cancelWhenGracefulShutdown { [self] in
            await withTaskGroup(of: Void.self) { group in
                group.addTask { await self.runUploads() }
                group.addTask { await self.runDispatchPoll() }
            }
        }
    }

    /// Uploads whenever items are queued; when idle, looks again every `schedule.interval`
    /// for items whose retry time has come. After a failure it backs off (`firstRetry`
    /// doubling to `maxRetry`, jittered) without reacting to new items, but a successful
    /// dispatch poll ends the backoff at once. While an emergency waits for the center there
    /// is no backoff: it is tried every second, and queuing one ends any wait. Returns when
    /// cancelled; a transfer under way is aborted within about a second.
    func runUploads() async {
        let abort = AbortFlag()
        await withTaskCancellationHandler {
            var retries = RetrySchedule(schedule)
            while !Task.isCancelled {
                let result = await onOwnThread("uplink") { try self.flush(abort: abort) }
                switch result {
                case .success(let report) where report.batches > 0:
                    logger.info("uploaded", metadata: ["batches": "\(report.batches)", "acknowledged": "\(report.acknowledged)",
                                                       "rejected": "\(report.rejected)", "bytes": "\(report.bytesSent)"])
                    if report.rejected > 0 {
                        logger.warning("the center rejected items; they are kept (status: outbox.rejected)",
                                       metadata: ["rejected": "\(report.rejected)"])
                    }
                case .success: break
                case .failure(let failure as SyncFailure) where failure.reason == .cancelled: break
                case .failure(let error):
                    logger.warning("upload failed; items stay queued", metadata: ["error": "\(error)"])
                }
                let succeeded = (try? result.get()) != nil
                if succeeded, retries.consecutiveFailures > 0 { pollWake.fire() }
                var delay = retries.delay(afterSuccess: succeeded, random: Double.random(in: 0..<1))
                if (try? journal.urgentPending()) == true { delay = min(delay, .seconds(1)) }
                await wait(for: delay, orUntil: succeeded ? [enqueued, uploadWake, urgent] : [uploadWake, urgent])
            }
        } onCancel: {
            abort.set()
        }
    }

    /// Long-polls for dispatches, one poll after another; after a failure backs off like the
    /// uploads, and a successful upload ends the backoff. The first success after failures
    /// wakes the uploads: the link is back.
    func runDispatchPoll() async {
        let abort = AbortFlag()
        await withTaskCancellationHandler {
            var retries = RetrySchedule(schedule)
            while !Task.isCancelled {
                let started = ContinuousClock.now
                let result = await onOwnThread("dispatch-poll") { try self.pollDispatches(abort: abort) }
                switch result {
                case .success(let polled):
                    for confirmation in polled.confirmations {
                        logger.notice("hit confirmation answered", metadata: ["check": "\(confirmation.checkId)",
                                                                              "state": "\(confirmation.answer?.state.rawValue ?? "-")"])
                        onEvent(.hitConfirmation(confirmation))
                    }
                    for applied in polled.dispatches {
                        let dispatch = applied.dispatch
                        logger.notice(applied.change == .created ? "dispatch received" : "dispatch \(applied.change.rawValue)",
                                      metadata: ["id": "\(dispatch.order.id)", "priority": "\(dispatch.order.priority)"])
                        onEvent(applied.change == .created ? .dispatchReceived(dispatch) : .dispatchChanged(applied.change, dispatch))
                    }
                    if retries.consecutiveFailures > 0 { uploadWake.fire() }
                    _ = retries.delay(afterSuccess: true, random: 0)
                    // The poll itself waited; a center that answers an empty poll at once must not make it spin.
                    if polled.isEmpty, ContinuousClock.now - started < .seconds(1) { try? await Task.sleep(for: .seconds(1)) }
                    continue
                case .failure(let failure as SyncFailure) where failure.reason == .cancelled:
                    break
                case .failure(let error):
                    logger.warning("dispatch poll failed", metadata: ["error": "\(error)"])
                }
                await wait(for: retries.delay(afterSuccess: false, random: Double.random(in: 0..<1)), orUntil: [pollWake])
            }
        } onCancel: {
            abort.set()
        }
    }
}
