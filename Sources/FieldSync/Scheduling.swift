import Foundation

/// Runs blocking work (libcurl, SQLite writes) on a thread of its own, never on the
/// cooperative pool, and hands back its result.
public func onOwnThread<T: Sendable>(_ name: String, _ body: @escaping @Sendable () throws -> T) async -> Result<T, any Error> {
    await withCheckedContinuation { continuation in
        let thread = Thread { continuation.resume(returning: Result { try body() }) }
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
