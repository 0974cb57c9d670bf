import Foundation
import Logging
import Synchronization

/// Reads what the database says changed (`CenterBackend.pollChanges`) on a thread of its
/// own and wakes the long polls concerned: one listener for the whole process, however
/// many polls wait. Started by the first poll that has to wait; stopped with the server.
final class PollWaker: Sendable {
    private let database: UplinkDatabase
    private let waiters: PollWaiters
    private let logger: Logger
    private let state = Mutex<(started: Bool, stopped: Bool)>((false, false))

    init(database: UplinkDatabase, waiters: PollWaiters, logger: Logger) {
        self.database = database
        self.waiters = waiters
        self.logger = logger
    }

    deinit { stop() }

    func start() {
        let first = state.withLock { state -> Bool in
            defer { state.started = true }
            return !state.started && !state.stopped
        }
        guard first else { return }
        let thread = Thread { [weak self] in self?.listen() }
        thread.name = "mpolice-central poll waker"
        thread.start()
    }

    func stop() { state.withLock { $0.stopped = true } }

    private var stopped: Bool { state.withLock { $0.stopped } }

    private func listen() {
        var source: (any PollChangeSource)?
        var failing = false
        while !stopped {
            do {
                if source == nil {
                    source = try database.backend.pollChanges()
                    // What changed while nobody listened is not known: every poll looks again.
                    if failing { waiters.wake([.everyone]) }
                }
                let topics = try source!.next(timeout: .seconds(1))
                if !topics.isEmpty { waiters.wake(topics) }
                if failing {
                    logger.notice("poll waker: listening again on \(database.backend.location)")
                    failing = false
                }
            } catch {
                if !failing { logger.error("poll waker: \(error); retrying every second (long polls end at their deadline meanwhile)") }
                failing = true
                source?.close()
                source = nil
                Thread.sleep(forTimeInterval: 1)
            }
        }
        source?.close()
    }
}
