import AsyncAlgorithms
import Foundation
import Logging
import ServiceLifecycle
import Store
import TerminalConfiguration
import Watchlist

/// The daemon's periodic care of its files, at start and then every
/// `lists.integrity_interval`: an integrity check of lists.db (corruption makes the lists
/// unavailable and asks for a sync, which fetches them whole), and the journal's pruning of
/// what the center already has.
struct Housekeeping: Service {
    let lists: ListsStore
    let journal: JournalStore
    let settings: (lists: AgentConfiguration.Lists, journal: AgentConfiguration.Journal)
    let clock: any TerminalClock
    let logger: Logger
    /// Called when the lists turned out corrupt (the sync's wake-up).
    let onListsUnavailable: @Sendable () -> Void

    func run() async {
        let interval = Duration.seconds(settings.lists.integrityInterval)
        await runOnce()
        for await _ in AsyncTimerSequence(interval: interval, clock: .continuous).cancelOnGracefulShutdown() {
            await runOnce()
        }
    }

    /// One round, on a thread of its own (it reads the whole lists file).
    func runOnce() async {
        let lists = lists, journal = journal, settings = settings, clock = clock, logger = logger, onListsUnavailable = onListsUnavailable
        await withCheckedContinuation { (continuation: CheckedContinuation<Void, Never>) in
            let thread = Thread {
                switch lists.checkIntegrity(budget: .seconds(settings.lists.integrityBudget)) {
                case .corrupt(let findings):
                    logger.error("lists.db failed its integrity check: the lists are unavailable until a sync replaces them",
                                 metadata: ["findings": "\(findings)"])
                    onListsUnavailable()
                case .unfinished:
                    logger.notice("lists integrity check did not finish within its budget", metadata: ["seconds": "\(settings.lists.integrityBudget)"])
                case .ok, .unavailable:
                    break
                }
                do {
                    let pruned = try journal.prune(JournalRetention(days: settings.journal.retentionDays, maxRejected: settings.journal.maxRejected),
                                                   now: clock.nowMilliseconds)
                    if pruned.checkRecords + pruned.rejectedItems + pruned.dispatches > 0 {
                        logger.info("journal pruned", metadata: ["check_records": "\(pruned.checkRecords)", "rejected": "\(pruned.rejectedItems)",
                                                                 "dispatches": "\(pruned.dispatches)"])
                    }
                } catch {
                    logger.warning("journal pruning failed", metadata: ["error": "\(error)"])
                }
                continuation.resume()
            }
            thread.name = "housekeeping"
            thread.start()
        }
    }
}
