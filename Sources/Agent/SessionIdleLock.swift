import AsyncAlgorithms
import LocalAPI
import ServiceLifecycle

/// Locks the officer session once it has been idle for `session.idle_lock`, within a second
/// of the deadline, so the `session-locked` event goes out when it happens and not at the
/// next request.
struct SessionIdleLock: Service {
    let session: OfficerSession

    func run() async {
        for await _ in AsyncTimerSequence(interval: .seconds(1), clock: .continuous).cancelOnGracefulShutdown() {
            session.lockIfIdle()
        }
    }
}
