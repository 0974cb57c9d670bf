import Foundation
import Glibc

/// How a thread of its own is scheduled against the officer's requests.
public enum WorkPriority: Sendable {
    /// As the API's threads: work the officer waits for (the uplink carries emergencies).
    case normal
    /// Nice 10: work nobody waits for (a list sync, the photo queue's planning and
    /// prefetch). A snapshot's load keeps both cores of a two-core terminal busy (its parser
    /// thread inherits the priority); at the same priority a check arriving then waits whole
    /// scheduler slices for a core.
    case background

    /// The nice value of background work; a thread already nicer keeps its own.
    public static let backgroundNice: Int32 = 10

    /// Applies to the calling thread only (Linux keeps the nice value per thread) and to the
    /// threads it starts afterwards. It only ever lowers the priority, which needs no
    /// privilege; the daemon's unit allows `setpriority` for it. Best effort: where it is
    /// refused, the work runs at the thread's priority.
    public func applyToCurrentThread() {
        guard self == .background else { return }
        let which = __priority_which_t(PRIO_PROCESS.rawValue)
        errno = 0
        let current = getpriority(which, 0)
        if errno == 0, current >= Self.backgroundNice { return }
        _ = setpriority(which, 0, Self.backgroundNice)
    }
}

/// Runs blocking work (libcurl, SQLite writes) on a thread of its own, never on the
/// cooperative pool, and hands back its result.
public func onOwnThread<T: Sendable>(_ name: String, priority: WorkPriority = .normal,
                                     _ body: @escaping @Sendable () throws -> T) async -> Result<T, any Error> {
    await withCheckedContinuation { continuation in
        let thread = Thread {
            priority.applyToCurrentThread()
            continuation.resume(returning: Result { try body() })
        }
        thread.name = name
        thread.start()
    }
}

/// Waits for `delay`, or until one of `signals` fires, or cancellation — whichever is first.
public func wait(for delay: Duration, orUntil signals: [WakeSignal]) async {
    await withTaskGroup(of: Void.self) { group in
        group.addTask { try? await Task.sleep(for: delay) }
        for signal in signals { group.addTask { await signal.wait() } }
        await group.next()
        group.cancelAll()
    }
}
