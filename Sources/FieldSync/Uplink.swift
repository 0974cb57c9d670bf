import TerminalConfiguration
import FieldWire
import Foundation
import Logging
import ServiceLifecycle
import Store
import Synchronization
import Watchlist

/// The uplink (docs/sync-protocol.md, "Uplink"): the outbox's items to the center in
/// compressed batches, each item removed only when the center acknowledges its id; and the
/// unit's dispatches from the center by long poll, resumable by cursor. Both over the same
/// mutual-TLS transport as the list sync.
///
/// As a `Service` (the daemon) it runs the uploads and the dispatch poll side by side
/// (`Uplink+Run.swift`), logs them and reports new dispatches as events.
public final class Uplink: Service, Sendable {
    public struct Configuration: Sendable {
        /// The center's uplink endpoint, e.g. `https://central.example/uplink/` (a trailing
        /// `/` is added).
        public var baseURL: String
        /// This terminal's unit; the center checks it against the device certificate.
        public var unit: String
        public var batchItems: Int
        /// Payload bytes per batch before compression (one larger item still goes alone).
        public var batchBytes: Int
        /// How long the center may hold a dispatch poll open, seconds.
        public var dispatchWait: Double

        public init(baseURL: String, unit: String, batchItems: Int = 500, batchBytes: Int = 512 * 1024, dispatchWait: Double = 25) {
            self.baseURL = baseURL.hasSuffix("/") ? baseURL : baseURL + "/"
            self.unit = unit
            self.batchItems = batchItems
            self.batchBytes = batchBytes
            self.dispatchWait = dispatchWait
        }
    }

    /// What one `flush` sent.
    public struct FlushReport: Sendable, Equatable {
        public var batches = 0
        public var acknowledged = 0
        public var rejected = 0
        /// Compressed request bytes.
        public var bytesSent = 0
    }

    static let maxResponseBytes: Int64 = 4 << 20

    /// What the running uplink reports to the daemon.
    public enum Event: Sendable, Equatable {
        /// A dispatch from the center was stored (its receipt queued).
        case dispatchReceived(Dispatch)
        /// The center updated, cancelled or reassigned a dispatch (`change`); the dispatch as it is now.
        case dispatchChanged(DispatchOrder.Change, Dispatch)
        /// The center answered a confirmation request.
        case hitConfirmation(HitConfirmation)
    }

    public let configuration: Configuration
    private let transport: CurlTransport
    let journal: JournalStore
    private let location: @Sendable () -> CheckLocation
    private let clock: any TerminalClock
    let schedule: RetryPolicy
    /// Fired after every write that queued outbox items (the journal's `onEnqueue`).
    let enqueued: WakeSignal
    /// Ends the upload loop's wait (also its backoff): the link is back.
    let uploadWake = WakeSignal()
    /// Fired when an emergency is queued (the journal's `onUrgent`): ends any wait or backoff.
    let urgent: WakeSignal
    /// Ends the dispatch poll's backoff: the link is back.
    let pollWake = WakeSignal()
    let logger: Logger
    let onEvent: @Sendable (Event) -> Void
    /// Orders that arrive with a dispatch poll go here (nil: none are asked for).
    let terminalGuard: (any TerminalGuard)?
    /// Bulletins pushed with a dispatch poll go here (nil: none are asked for).
    let bulletins: BulletinReceiver?
    private let sending = Atomic<Bool>(false)
    /// A batch is on its way to the center (photo prefetch waits meanwhile).
    public var isSending: Bool { sending.load(ordering: .relaxed) }

    /// - Parameter enqueued: the signal the journal fires when it queues items.
    public init(_ configuration: Configuration, transport: CurlTransport, journal: JournalStore,
                location: @escaping @Sendable () -> CheckLocation = { .notAvailable }, clock: any TerminalClock = SystemClock(),
                schedule: RetryPolicy = RetryPolicy(), enqueued: WakeSignal = WakeSignal(), urgent: WakeSignal = WakeSignal(),
                terminalGuard: (any TerminalGuard)? = nil, bulletins: BulletinReceiver? = nil,
                logger: Logger = Logger(label: "mpolice.uplink"), onEvent: @escaping @Sendable (Event) -> Void = { _ in }) {
        self.terminalGuard = terminalGuard
        self.bulletins = bulletins
        self.configuration = configuration
        self.transport = transport
        self.journal = journal
        self.location = location
        self.clock = clock
        self.schedule = schedule
        self.enqueued = enqueued
        self.urgent = urgent
        self.logger = logger
        self.onEvent = onEvent
    }

    private func nowMilliseconds() -> Int64 { clock.nowMilliseconds }

    // MARK: Upload

    /// Sends due items, batch after batch, until none is due. Blocking.
    /// - Throws: `SyncFailure` when a batch did not get a usable answer (its items stay, with
    ///   the attempt counted); `StoreError` for a local fault. Batches before it are settled.
    public func flush(abort: AbortFlag? = nil) throws -> FlushReport {
        var report = FlushReport()
        while true {
            let now = nowMilliseconds()
            let items = try journal.dueOutboxItems(now: now, maxItems: configuration.batchItems, maxBytes: configuration.batchBytes)
            if items.isEmpty { break }
            let body = Gzip.compress(UplinkBatch.json(unit: configuration.unit, items: items.map(\.stored), chainHead: try journal.chainHead()))
            let answers: [String: OutboxSettlement]
            do {
                sending.store(true, ordering: .relaxed)
                defer { sending.store(false, ordering: .relaxed) }
                answers = try send(body, items: items, abort: abort)
            } catch let failure as SyncFailure {
                try journal.outboxAttemptFailed(items, error: failure.description)
                try? journal.recordUpload(UploadSummary(at: now, ok: false, acknowledged: report.acknowledged,
                                                        rejected: report.rejected, error: failure.description))
                throw failure
            }
            try journal.settleOutbox(items, answers: answers, now: now, retryAt: now + Self.itemRetryDelay(attempts: items.map(\.attempts).max() ?? 0))
            report.batches += 1
            report.bytesSent += body.count
            for answer in answers.values {
                switch answer {
                case .acknowledged: report.acknowledged += 1
                case .rejected: report.rejected += 1
                case .retry: break
                }
            }
            // Something left unanswered is held back by its own retry time; the loop ends when nothing is due.
        }
        if report.batches > 0 {
            try journal.recountOutbox()
            try? journal.recordUpload(UploadSummary(at: nowMilliseconds(), ok: true, acknowledged: report.acknowledged,
                                                    rejected: report.rejected, error: nil))
        }
        return report
    }

    /// Flushes again and again (a failed attempt is retried each second) until `done` holds
    /// or `seconds` have passed: the last words of a terminal about to be wiped.
    /// - Returns: whether `done` held in time.
    public func deliver(within seconds: Double, until done: () -> Bool) -> Bool {
        let abort = AbortFlag()
        let deadline = ContinuousClock.now + .milliseconds(Int64(seconds * 1000))
        let timer = Thread {
            while ContinuousClock.now < deadline, !abort.isSet { Thread.sleep(forTimeInterval: 0.05) }
            abort.set()
        }
        timer.start()
        defer { abort.set() }
        while ContinuousClock.now < deadline {
            do {
                _ = try flush(abort: abort)
            } catch {
                logger.notice("delivery before the wipe failed; trying again", metadata: ["error": "\(error)"])
            }
            if done() { return true }
            Thread.sleep(forTimeInterval: 1)
        }
        return done()
    }

    /// An item the center left unanswered waits 5 s · 2^attempts, at most an hour (an
    /// emergency item a second: `JournalStore.settleOutbox`).
    static func itemRetryDelay(attempts: Int) -> Int64 {
        min(3_600_000, 5_000 << Int64(min(attempts, 20)))
    }

    private func send(_ body: Data, items: [OutboxItem], abort: AbortFlag?) throws -> [String: OutboxSettlement] {
        let url = configuration.baseURL + "items"
        let response = try transport.post(url, body: body, headers: ["Content-Type: application/json", "Content-Encoding: gzip"],
                                          maxBytes: Self.maxResponseBytes, abort: abort)
        let decoded = try Self.decode(UplinkAnswer.self, response, url, "a batch response")
        // Ids are unique by the outbox's constraint; a batch that repeated one all the same
        // must not stop the uploader.
        var answers = Dictionary(items.map { ($0.id, OutboxSettlement.retry) }, uniquingKeysWith: { first, _ in first })
        for result in decoded.results where answers[result.id] != nil {
            switch result.status {
            case .accepted, .duplicate: answers[result.id] = .acknowledged
            case .rejected: answers[result.id] = .rejected(result.reason ?? "rejected without a reason")
            case .retry: answers[result.id] = .retry
            }
        }
        return answers
    }

    /// A 200 answer's JSON body as `type`.
    static func decode<T: Decodable>(_ type: T.Type, _ response: CurlTransport.Response, _ url: String, _ what: String) throws -> T {
        try requireOK(response, url)
        do {
            return try WireJSON.decode(type, from: response.body)
        } catch {
            throw SyncFailure(.badFormat, "\(url): the answer is not \(what) (\(error))")
        }
    }

    static func requireOK(_ response: CurlTransport.Response, _ url: String) throws {
        switch response.status {
        case 200: return
        case 400, 495, 496:
            throw SyncFailure(.clientCertificateRefused, "\(url): the server refused the device certificate (HTTP \(response.status))")
        case 401, 403, 404, 405, 413, 415, 422:
            let detail = String(decoding: response.body.prefix(300), as: UTF8.self)
            throw SyncFailure(.refused, "\(url): HTTP \(response.status): \(detail)")
        default:
            throw SyncFailure(.network, "\(url): HTTP \(response.status)")
        }
    }

    // MARK: Dispatch

    /// What one long poll brought.
    public struct PollResult: Sendable {
        public var dispatches: [AppliedDispatchChange] = []
        public var bulletins: [Bulletin] = []
        /// Confirmation requests the center answered.
        public var confirmations: [HitConfirmation] = []

        public var isEmpty: Bool { dispatches.isEmpty && bulletins.isEmpty && confirmations.isEmpty }
    }

    /// One long poll: waits up to `dispatchWait` for dispatch log entries after the stored
    /// cursor, orders, bulletins and confirmation answers; applies them (each new dispatch
    /// acknowledged `received` through the outbox, each bulletin verified) and returns what
    /// changed.
    public func pollDispatches(abort: AbortFlag? = nil) throws -> PollResult {
        let cursor = try journal.dispatchCursor()
        let wait = configuration.dispatchWait
        var url = configuration.baseURL + "dispatches?after=\(cursor)&wait=\(Int(wait))"
        if let terminalGuard { url += "&orders_after=\(terminalGuard.ordersCursor())" }
        if let bulletins {
            url += "&bulletins_after=\(try journal.bulletinCursor())"
            if let region = bulletins.region { url += "&region=\(Self.queryValue(region))" }
        }
        url += "&confirmations_after=\(try journal.confirmationCursor())"
        let response = try transport.get(url, maxBytes: Self.maxResponseBytes, timeout: wait + transport.configuration.connectTimeout + 10,
                                         abort: abort)
        let poll = try Self.decode(DispatchPoll.self, response, url, "a dispatch poll")
        guard poll.cursor >= cursor else {
            throw SyncFailure(.badFormat, "\(url): the cursor went back from \(cursor) to \(poll.cursor)")
        }
        var result = PollResult()
        if let orders = poll.orders, !orders.isEmpty { terminalGuard?.receive(orders, source: .poll) }
        if let bulletins, let pushed = poll.bulletins, !pushed.isEmpty {
            result.bulletins = bulletins.receive(pushed, source: "poll").received
        }
        if let serial = poll.bulletinCursor { try journal.raiseBulletinCursor(to: serial) }
        if let answers = poll.confirmations { result.confirmations = try journal.storeConfirmationAnswers(answers, now: nowMilliseconds()) }
        if !poll.dispatches.isEmpty || poll.cursor != cursor {
            result.dispatches = try journal.storeDispatches(poll.dispatches, cursor: poll.cursor, unitId: configuration.unit,
                                                            location: location(), now: nowMilliseconds())
        }
        return result
    }

    /// A query parameter's value, percent-encoded (a region may be `臺北`).
    static func queryValue(_ text: String) -> String {
        text.addingPercentEncoding(withAllowedCharacters: .alphanumerics) ?? ""
    }
}

