import FieldWire
import Foundation
import Logging
import ServiceLifecycle
import Store
import Synchronization
import Watchlist

/// The photo downlink (docs/sync-protocol.md, "Photos"): brings the photos the lists name
/// from the published `photos/<sha256>.jpg` files into the `PhotoStore`, one at a time, each
/// resumable (HTTP Range) and checked against its SHA-256 before it is ever served.
///
/// A queue of its own, below the lists and the uplink: prefetch (the store's plan, cut to
/// the budget) waits while the list sync or an upload is under way; a hit's missing photos
/// go first of all — a prefetch download under way is interrupted for them (it resumes
/// later from where it stopped). Photos fetched for a hit are kept past the budget while
/// their record is listed (until the daemon restarts).
public final class PhotoSync: Service, Sendable {
    public struct Configuration: Sendable {
        /// The published directory (the list sync's `sync.central`).
        public var baseURL: String
        /// `[photos] region`: records of this place go before the rest.
        public var region: String?

        public init(baseURL: String, region: String?) {
            self.baseURL = baseURL.hasSuffix("/") ? baseURL : baseURL + "/"
            self.region = region
        }
    }

    public enum Event: Sendable, Equatable {
        /// A photo is on the device; `urgent` when fetched for a hit.
        case available(PhotoReference, urgent: Bool)
    }

    public let configuration: Configuration
    private let transport: any SyncTransport
    private let lists: ListsStore
    private let store: PhotoStore
    private let clock: any TerminalClock
    /// The list sync or an upload is under way.
    private let busy: @Sendable () -> Bool
    private let terminalGuard: (any TerminalGuard)?
    private let logger: Logger
    private let onEvent: @Sendable (Event) -> Void

    private let queue = Mutex(PhotoQueue())
    /// Photos fetched for hits: kept past the budget.
    private let pinned = Mutex<Set<String>>([])
    /// The download under way: its abort flag, and whether it is a hit's.
    private let current = Mutex<(flag: AbortFlag, urgent: Bool)?>(nil)
    private let needsPlan = Atomic<Bool>(true)
    /// New lists, a hit's photos, the link back: look at the queue again.
    public let wake = WakeSignal()

    public init(_ configuration: Configuration, transport: any SyncTransport, lists: ListsStore, store: PhotoStore,
                clock: any TerminalClock = SystemClock(), busy: @escaping @Sendable () -> Bool = { false },
                terminalGuard: (any TerminalGuard)? = nil, logger: Logger = Logger(label: "mpolice.photos"),
                onEvent: @escaping @Sendable (Event) -> Void = { _ in }) {
        self.configuration = configuration
        self.transport = transport
        self.lists = lists
        self.store = store
        self.clock = clock
        self.busy = busy
        self.terminalGuard = terminalGuard
        self.logger = logger
        self.onEvent = onEvent
    }

    // MARK: Requests

    /// A hit's photos that are not on the device: fetched at once, ahead of everything.
    public func requestForHit(_ photos: [PhotoReference]) {
        let missing = photos.filter { !store.contains($0.sha256) }
        guard !missing.isEmpty else { return }
        pinned.withLock { $0.formUnion(missing.map(\.sha256)) }
        guard queue.withLock({ $0.requestForHit(missing) }) else { return }
        // A prefetch download gives way; what it fetched stays for its resume.
        current.withLock { current in
            if let current, !current.urgent { current.flag.set() }
        }
        wake.fire()
    }

    /// The lists changed (a sync applied, a wipe): plan the prefetch again.
    public func listsChanged() {
        needsPlan.store(true, ordering: .relaxed)
        wake.fire()
    }

    // MARK: One step each

    /// Plans the prefetch: the lists' photos in priority order, cut to the budget (the store
    /// removes what falls outside it, and photos whose record was deleted).
    func plan() {
        do {
            let plan = try lists.photoPlan(region: configuration.region)
            let fitting = store.retain(plan: plan, pinned: pinned.withLock { $0 })
            let missing = fitting.filter { !store.contains($0.sha256) }
            queue.withLock { $0.plan(missing) }
            logger.info("photo plan", metadata: ["listed": "\(plan.count)", "fitting": "\(fitting.count)", "to-fetch": "\(missing.count)",
                                                 "held-bytes": "\(store.status.bytes)", "budget-bytes": "\(store.budgetBytes)"])
        } catch {
            // Lists unavailable (or wiped): nothing to fetch until they are back.
            queue.withLock { $0.plan([]) }
            logger.notice("photo plan: no lists", metadata: ["error": "\(error)"])
        }
    }

    /// Downloads one photo into the store: resumed, length-capped, SHA-256 checked twice.
    /// - Throws: `SyncFailure` (`.cancelled` when interrupted), `StoreError(.digestMismatch)`.
    func fetch(_ photo: PhotoReference, abort: AbortFlag) throws -> CurlTransport.Download {
        try store.prepare()
        let partial = store.partialURL(photo.sha256)
        let download = try transport.download(configuration.baseURL + photo.publishedPath, to: partial,
                                              expectedLength: Int64(photo.bytes), expectedSHA256: photo.sha256,
                                              progress: nil, abort: abort)
        try store.admit(photo.sha256, from: partial)
        return download
    }

    // MARK: The loop

    /// Plans, then fetches whatever the queue says, until graceful shutdown; a download under
    /// way then ends within about a second (its bytes kept for the resume).
    public func run() async {
        let stopping = Atomic<Bool>(false)
        await cancelWhenGracefulShutdown { [self] in
            await withTaskCancellationHandler {
                while !Task.isCancelled {
                    if terminalGuard?.isLocked == true {
                        await wait(for: .seconds(5), orUntil: [wake])
                        continue
                    }
                    if needsPlan.exchange(false, ordering: .relaxed) {
                        _ = await onOwnThread("photo-plan", priority: .background) { self.plan() }
                    }
                    let now = clock.monotonicMilliseconds
                    switch queue.withLock({ $0.next(now: now, busy: busy()) }) {
                    case .wait(let until):
                        let delay = until.map { max(0, $0 - now) } ?? 3_600_000
                        await wait(for: .milliseconds(delay), orUntil: [wake])
                    case .fetch(let photo, let urgent):
                        let flag = AbortFlag()
                        current.withLock { $0 = (flag, urgent) }
                        if stopping.load(ordering: .relaxed) { flag.set() }
                        let result = await onOwnThread("photo", priority: urgent ? .normal : .background) { try self.fetch(photo, abort: flag) }
                        current.withLock { $0 = nil }
                        finish(photo, urgent: urgent, result)
                    }
                }
            } onCancel: {
                stopping.store(true, ordering: .relaxed)
                current.withLock { $0?.flag.set() }
            }
        }
    }

    private func finish(_ photo: PhotoReference, urgent: Bool, _ result: Result<CurlTransport.Download, any Error>) {
        let name = String(photo.sha256.prefix(12))
        switch result {
        case .success(let download):
            queue.withLock { $0.fetched(photo) }
            logger.debug("photo on the device", metadata: ["photo": "\(name)", "urgent": "\(urgent)", "resumed-from": "\(download.resumedFrom)"])
            if download.resumedFrom > 0 {
                logger.info("photo download resumed", metadata: ["photo": "\(name)", "resumed-from": "\(download.resumedFrom)"])
            }
            onEvent(.available(photo, urgent: urgent))
        case .failure(let failure as SyncFailure) where failure.reason == .cancelled:
            break   // interrupted: tried again from where it stopped
        case .failure(let error):
            let wait = queue.withLock { $0.failed(photo, now: clock.monotonicMilliseconds) }
            let reason = (error as? SyncFailure)?.reason.rawValue ?? (error as? StoreError)?.code.rawValue ?? "local"
            logger.warning("photo refused or not fetched; tried again later",
                           metadata: ["photo": "\(name)", "reason": "\(reason)", "retry-s": "\(wait / 1000)", "detail": "\(error)"])
        }
    }
}
