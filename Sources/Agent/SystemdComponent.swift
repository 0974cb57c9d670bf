import Foundation
import LocalAPI
import LocalAPIContract
import Logging
import ServiceLifecycle
import Store
import Synchronization

/// Tells systemd how the daemon is: READY=1 once the databases are open and the socket is
/// bound with its mode and group, a STATUS= line (the `TerminalStatus` summary, its
/// databases' part read again only after a journal write or every 5 minutes), WATCHDOG=1
/// at half of WatchdogSec — only after a probe proves the store answers and the API serves —
/// and STOPPING=1 (closing the event streams) as shutdown begins. A socket that could not be
/// given its mode and group ends the daemon before READY=1.
final class SystemdComponent: Service, Sendable {
    let notifier: SystemdNotifier
    let watchdogInterval: Duration?
    let events: EventHub
    let logger: Logger
    let lists: ListsStore
    let journal: JournalStore
    /// The STATUS= line's databases' part (`TerminalStatus.read`, scope `.summaryLine`).
    let readStatus: @Sendable () throws -> TerminalStatus
    /// Sets the STATUS= line's parts the daemon holds in memory (position, lock, photos).
    let daemonParts: @Sendable (inout TerminalStatus) -> Void
    /// The databases' part as last read, with the journal's write count then.
    private let stored = Mutex<(status: TerminalStatus, journalWrites: Int, at: ContinuousClock.Instant)?>(nil)
    /// What time alone changes in the line (staleness, bulletins expiring) shows this late at most.
    static let storedRefresh: Duration = .seconds(300)
    private let ready = AsyncStream.makeStream(of: Result<Void, ListenerError>.self)
    private let apiProbe = Mutex<@Sendable () async -> Bool>({ false })

    init(notifier: SystemdNotifier, watchdogInterval: Duration?, events: EventHub, logger: Logger, lists: ListsStore,
         journal: JournalStore, readStatus: @escaping @Sendable () throws -> TerminalStatus,
         daemonParts: @escaping @Sendable (inout TerminalStatus) -> Void) {
        self.notifier = notifier
        self.watchdogInterval = watchdogInterval
        self.events = events
        self.logger = logger
        self.lists = lists
        self.journal = journal
        self.readStatus = readStatus
        self.daemonParts = daemonParts
    }

    /// The API's health probe (set once the server exists).
    var probe: @Sendable () async -> Bool {
        get { apiProbe.withLock { $0 } }
        set { apiProbe.withLock { $0 = newValue } }
    }

    /// Called by the API once its socket is listening with its mode and group, or could not be.
    func markReady(_ result: Result<Void, ListenerError>) {
        ready.continuation.yield(result)
        ready.continuation.finish()
    }

    func run() async throws {
        try await withGracefulShutdownHandler {
            try await cancelWhenGracefulShutdown { [self] in
                var iterator = ready.stream.makeAsyncIterator()
                guard let result = await iterator.next() else { return }
                try result.get()
                notifier.ready(status: statusLine())
                // Status every 30 s; the watchdog at its own pace when systemd asked for one.
                let period = min(watchdogInterval ?? .seconds(30), .seconds(30))
                var lastStatus = ContinuousClock.now
                while !Task.isCancelled {
                    if watchdogInterval != nil {
                        if await healthy() {
                            notifier.watchdog()
                        } else {
                            logger.error("watchdog probe failed: not petting the watchdog")
                        }
                    }
                    if ContinuousClock.now - lastStatus >= .seconds(30) || watchdogInterval == nil {
                        notifier.status(statusLine())
                        lastStatus = ContinuousClock.now
                    }
                    try? await Task.sleep(for: period)
                }
            }
        } onGracefulShutdown: { [notifier, events, logger] in
            logger.info("stopping")
            notifier.stopping()
            events.finishAll()
        }
    }

    /// The line from the databases' part read at most once per journal change (or
    /// `storedRefresh`): a quiet terminal queries neither database for it, and its memory,
    /// handed back by the quiet trim, stays handed back.
    func statusLine() -> String {
        let writes = journal.writeCount
        let now = ContinuousClock.now
        var status: TerminalStatus
        if let last = stored.withLock({ $0 }), last.journalWrites == writes, now - last.at < Self.storedRefresh {
            status = last.status
        } else {
            guard let read = try? readStatus() else { return "status unreadable: see the daemon log" }
            stored.withLock { $0 = (read, writes, now) }
            status = read
        }
        status.listsUnavailable = lists.unavailableReason
        status.storageFull = journal.storageFull
        daemonParts(&status)
        return status.summaryLine
    }

    /// Both databases answer a small read, and the API listens and its event loops run.
    func healthy() async -> Bool {
        guard (try? lists.versions()) != nil, (try? journal.syncAttempts(limit: 1)) != nil else { return false }
        return await probe()
    }
}
