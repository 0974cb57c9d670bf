import LocalAPI
import ServiceLifecycle

/// Locks the officer session once it has been idle for `session.idle_lock`, at the deadline,
/// so the `session-locked` event goes out when it happens and not at the next request. It
/// sleeps until the session's deadline — or, while nobody is signed in, for the idle time
/// itself (at most a minute): a sign-in meanwhile cannot come due before it looks again. No
/// ticking: a handheld's battery is spent by wakeups.
struct SessionIdleLock: Service {
    let session: OfficerSession
    var longest: Duration { min(session.policy.idleLock, .seconds(60)) }

    func run() async {
        await cancelWhenGracefulShutdown {
            while !Task.isCancelled {
                session.lockIfIdle()
                let wait = min(session.untilIdleLock() ?? longest, longest)
                try? await Task.sleep(for: wait + .milliseconds(10))
            }
        }
    }
}
