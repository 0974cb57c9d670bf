import Foundation
import LocalAPI
import LocalAPIClient
import Location
import Logging
import ServiceLifecycle
import Store
import Synchronization
import Watchlist

/// Tells systemd how the daemon is: READY=1 once the databases are open and the socket is
/// bound, a STATUS= line with sync and GPS state, WATCHDOG=1 at half of WatchdogSec — only
/// after a probe proves the store answers and the API's event loop serves a request — and
/// STOPPING=1 (closing the event streams) as shutdown begins.
final class SystemdComponent: Service, Sendable {
    let notifier: SystemdNotifier
    let watchdogInterval: Duration?
    let socketPath: String
    let lists: ListsStore
    let journal: JournalStore
    let events: EventHub
    let location: (@Sendable () -> LocationState)?
    let logger: Logger
    private let ready = AsyncStream.makeStream(of: Void.self)

    init(notifier: SystemdNotifier, watchdogInterval: Duration?, socketPath: String, lists: ListsStore, journal: JournalStore,
         events: EventHub, location: (@Sendable () -> LocationState)?, logger: Logger) {
        self.notifier = notifier
        self.watchdogInterval = watchdogInterval
        self.socketPath = socketPath
        self.lists = lists
        self.journal = journal
        self.events = events
        self.location = location
        self.logger = logger
    }

    /// Called by the API once its socket is listening.
    func markReady() {
        ready.continuation.yield()
        ready.continuation.finish()
    }

    func run() async throws {
        await withGracefulShutdownHandler {
            await cancelWhenGracefulShutdown { [self] in
                var iterator = ready.stream.makeAsyncIterator()
                guard await iterator.next() != nil else { return }
                notifier.ready(status: statusLine())
                // Status every 30 s; the watchdog at its own pace when systemd asked for one.
                let period = min(watchdogInterval ?? .seconds(30), .seconds(30))
                while !Task.isCancelled {
                    if watchdogInterval != nil {
                        if await probe() {
                            notifier.watchdog()
                        } else {
                            logger.error("watchdog probe failed: not petting the watchdog")
                        }
                    }
                    notifier.status(statusLine())
                    try? await Task.sleep(for: period)
                }
            }
        } onGracefulShutdown: { [notifier, events, logger] in
            logger.info("stopping")
            notifier.stopping()
            events.finishAll()
        }
    }

    /// One line for `systemctl status`: list versions and staleness, the last sync, GPS. No
    /// plate, ID or name ever appears here.
    func statusLine() -> String {
        var parts: [String] = []
        let now = Int64(Date().timeIntervalSince1970)
        if let metas = try? lists.versions() {
            let versions = ListKind.allCases.map { "v\(metas[$0]!.version)" }.joined(separator: "/")
            let stale = ListKind.allCases.contains { metas[$0]!.isStale(at: now) }
            parts.append("lists \(versions)\(stale ? " STALE" : "")")
        }
        if let last = try? journal.syncAttempts(limit: 1).first {
            parts.append("sync \(last.outcome.rawValue)\(last.reason.map { " (\($0))" } ?? "")")
        } else {
            parts.append("sync never")
        }
        if let location { parts.append("gps \(location().status.rawValue)") }
        return parts.joined(separator: "; ")
    }

    /// The store answers a read, and the API answers GET /v1/health over its own socket
    /// within 2 s.
    func probe() async -> Bool {
        guard (try? lists.versions()) != nil, (try? journal.syncAttempts(limit: 1)) != nil else { return false }
        let socketPath = socketPath
        return await withCheckedContinuation { continuation in
            Thread {
                let status = try? APIClient(socketPath: socketPath, timeout: 2).request("GET", "/v1/health").status
                continuation.resume(returning: status == 200)
            }.start()
        }
    }
}
