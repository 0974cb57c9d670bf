import FieldSync
import FieldWire
import Foundation
import Logging
import Store
import Synchronization
import Watchlist

/// The lost-terminal protections (docs/operations.md, "A lost terminal"): signed orders from
/// the center — lock, unlock, wipe the lists, wipe everything — verified and executed once,
/// in order, and acknowledged through the outbox; the lock the local API enforces; and the
/// dead-man timer, which refuses checks and at last wipes the lists of a terminal that has
/// not verified a manifest for too long, judged by time a clock set back cannot undo.
///
/// A wipe writes a durable mark first (`WipeMark`); one interrupted by a crash or power loss
/// is completed by `completeInterruptedWipe` before the daemon serves anything.
public final class TerminalProtection: TerminalGuard, Sendable {
    public struct Settings: Sendable {
        public var unit: String
        /// The root the terminal was provisioned with (orders are verified against the root
        /// trusted now, which the sync walks forward from it).
        public var provisionedRoot: URL
        /// The device certificate and key: an order may name the certificate; `wipe-all`
        /// removes both.
        public var certificate: String
        public var key: String
        /// `security.max_offline`, seconds (nil: off).
        public var maxOffline: Int64?
        /// `security.wipe_after_offline`, seconds (nil: off).
        public var wipeAfterOffline: Int64?
        /// `security.luks_device`: the state partition whose key slots `wipe-all` may erase.
        public var luksDevice: String?
        /// How long `wipe-all` tries to deliver its acknowledgement (and the outbox) before
        /// the device key goes.
        public var acknowledgementDeadline: Double
        /// `security.wipe_journal_after`, seconds: after a lists wipe, journal records the
        /// center has received go at once, the rest when delivered — or at this deadline.
        public var wipeJournalAfter: Int64

        public init(unit: String, provisionedRoot: URL, certificate: String, key: String, maxOffline: Int64? = nil,
                    wipeAfterOffline: Int64? = nil, luksDevice: String? = nil, acknowledgementDeadline: Double = 30,
                    wipeJournalAfter: Int64 = 604_800) {
            (self.unit, self.provisionedRoot, self.certificate, self.key) = (unit, provisionedRoot, certificate, key)
            (self.maxOffline, self.wipeAfterOffline, self.luksDevice) = (maxOffline, wipeAfterOffline, luksDevice)
            (self.acknowledgementDeadline, self.wipeJournalAfter) = (acknowledgementDeadline, wipeJournalAfter)
        }
    }

    /// What the daemon is told (its event stream, its log).
    public enum Event: Sendable, Equatable {
        case locked(TerminalLock)
        case unlocked
        /// An order refused, with its code.
        case orderRefused(code: String, sequence: Int64?)
        /// The lists were wiped (by order or by the dead-man timer).
        case listsWiped(orderSequence: Int64)
        /// Checks are refused: no verified manifest for `max_offline`.
        case offlineRefusing(OfflineState)
    }

    /// What one order came to.
    public struct Outcome: Sendable, Equatable, Codable {
        public var sequence: Int64?
        public var kind: TerminalOrder.Kind?
        /// `executed` or `refused`.
        public var outcome: OrderAckPayload.Outcome
        /// The refusal's code (`order.replayed`, …).
        public var reason: String?
        public var message: String?
    }

    public let settings: Settings
    let state: StateDirectory
    let lists: ListsStore
    let journal: JournalStore
    let clock: any TerminalClock
    let logger: Logger
    /// Tries to deliver the outbox within the given seconds; true when no order
    /// acknowledgement is left in it (the uplink's flush; nil without an uplink).
    let deliver: (@Sendable (Double) -> Bool)?
    /// Ends the process after a `wipe-all` (the daemon: exit 75, and systemd starts it again
    /// as a wiped terminal).
    let afterWipeAll: @Sendable () -> Void
    let onEvent: @Sendable (Event) -> Void
    /// Whether the dead-man timer runs (sync configured: a terminal that never syncs has no
    /// center to be out of touch with).
    let deadManEnabled: Bool

    private let lock: Mutex<TerminalLock?>
    private let wiped: WipedRecord?
    /// Judged time (ms) and the monotonic reading it was taken at: judged time only moves on.
    private let anchor: Mutex<(judged: Int64, monotonic: Int64)>
    private let lastVerified: Mutex<Int64>
    private let refusingReported = Atomic<Bool>(false)
    /// One order (or dead-man wipe) at a time, whichever path it came by.
    private let serial = Mutex(())

    public var unit: String { settings.unit }

    /// An order that could not be handled for a fault of this terminal: not recorded, not
    /// acknowledged — the center's feed offers it again.
    public static let localFault = "order.local-fault"
    /// No trust root to verify against (`sync.trust_root` unreadable).
    public static let unverifiable = "order.unverifiable"

    public init(_ settings: Settings, state: StateDirectory, lists: ListsStore, journal: JournalStore, clock: any TerminalClock = SystemClock(),
                deadManEnabled: Bool, deliver: (@Sendable (Double) -> Bool)? = nil,
                afterWipeAll: @escaping @Sendable () -> Void = {}, logger: Logger = Logger(label: "mpolice.protection"),
                onEvent: @escaping @Sendable (Event) -> Void = { _ in }) throws {
        self.settings = settings
        self.state = state
        self.lists = lists
        self.journal = journal
        self.clock = clock
        self.deadManEnabled = deadManEnabled
        self.deliver = deliver
        self.afterWipeAll = afterWipeAll
        self.logger = logger
        self.onEvent = onEvent
        let record = try journal.protection(now: clock.nowMilliseconds)
        wiped = try state.wipedRecord()
        var current = record.lock
        if let wiped, current?.cause != .wipeAll {
            // A wiped terminal starts on a fresh journal: the lock comes from wiped.json.
            current = TerminalLock(cause: .wipeAll, orderSequence: wiped.orderSequence, since: wiped.completedAt)
            try journal.setTerminalLock(current)
        }
        lock = Mutex(current)
        let floor = (try journal.trustFloor()?.trustedTime ?? 0) * 1000
        anchor = Mutex((max(clock.nowMilliseconds, record.judgedAt, floor), clock.monotonicMilliseconds))
        lastVerified = Mutex(record.lastVerifiedAt)
        if let current {
            lists.markUnavailableIfWiped(current)
        }
    }

    // MARK: The lock

    public var isLocked: Bool { lock.withLock { $0 != nil } }
    public var currentLock: TerminalLock? { lock.withLock { $0 } }

    /// A technician at the terminal lifts an order's lock (not a `wipe-all`'s: that terminal
    /// is re-provisioned). The sync fetches the lists again.
    public func liftLock() throws {
        try serial.withLock { _ in
            guard let current = lock.withLock({ $0 }) else { return }
            guard current.cause != .wipeAll else {
                throw StoreError(.locked, "this terminal was wiped by order \(current.orderSequence): re-provision it (docs/operations.md)")
            }
            try journal.setTerminalLock(nil)
            lock.withLock { $0 = nil }
            lists.seal(false)
        }
        logger.notice("terminal lock lifted by a technician")
        onEvent(.unlocked)
    }

    /// Throws `StoreError.locked` while locked (the API's gate).
    public func requireUnlocked() throws {
        guard let current = lock.withLock({ $0 }) else { return }
        throw StoreError(.locked, Self.describe(current))
    }

    static func describe(_ lock: TerminalLock) -> String {
        switch lock.cause {
        case .lockOrder: "the terminal is locked by order \(lock.orderSequence) from the center (since \(lock.since)): an unlock order or a technician lifts it"
        case .wipeLists: "the terminal's lists were wiped by order \(lock.orderSequence) (since \(lock.since)); it stays locked until an unlock order or a technician lifts it"
        case .wipeAll: "the terminal was wiped by order \(lock.orderSequence) (\(lock.since)): a technician must re-provision it"
        case .deadMan: "the terminal's lists were wiped after too long without reaching the center (since \(lock.since)); an unlock order or a technician lifts the lock"
        }
    }

    // MARK: Orders

    public func ordersCursor() -> Int64 {
        (try? journal.ordersCursor()) ?? 0
    }

    /// Orders from the long poll or the orders file: those handled before are skipped.
    public func receive(_ orders: [SignedEnvelope], source: OrderSource) {
        for envelope in orders {
            let hash = Self.hash(envelope)
            if (try? journal.hasVerifiedOrder(envelopeSHA256: hash)) == true { continue }
            _ = handle(envelope, source: source)
        }
    }

    /// One order, verified and executed (or refused), recorded and acknowledged.
    public func handle(_ envelope: SignedEnvelope, source: OrderSource) -> Outcome {
        serial.withLock { _ in handleSerially(envelope, source: source) }
    }

    private func handleSerially(_ envelope: SignedEnvelope, source: OrderSource) -> Outcome {
        let now = clock.nowMilliseconds
        let hash = Self.hash(envelope)
        let order: TerminalOrder
        do {
            let (trust, _) = try TrustState.current(provisionedRoot: settings.provisionedRoot, stored: try lists.syncState(),
                                                    floor: try journal.trustFloor())
            let record = try journal.protection(now: now)
            let recipient = TerminalOrder.Recipient(
                unit: settings.unit, certificateSHA256: FileManager.default.contents(atPath: settings.certificate).flatMap(CertificateFingerprint.sha256),
                lastSequence: record.lastOrderSequence)
            order = try TerminalOrder.verify(envelope, root: trust.root, recipient: recipient, now: judgedNow() / 1000)
        } catch let refusal as OrderRefusal {
            // The sequence is kept only when the signature held: a forgery cannot move the poll's cursor.
            let signed = ![.badFormat, .badSignature, .wrongRole, .noRole].contains(refusal.code)
            let claimed = Self.claimed(envelope)
            let outcome = Outcome(sequence: signed ? claimed?.sequence : nil, kind: claimed?.kind, outcome: .refused,
                                  reason: refusal.code.rawValue, message: refusal.message)
            logger.warning("order refused", metadata: ["code": "\(refusal.code.rawValue)", "detail": "\(refusal.message)", "source": "\(source.rawValue)"])
            do {
                if try journal.recordOrder(ReceivedOrder(envelopeSHA256: hash, sequence: outcome.sequence, kind: outcome.kind, outcome: .refused,
                                                         reason: refusal.code.rawValue, source: source.rawValue, receivedAt: now),
                                           unitId: settings.unit) {
                    onEvent(.orderRefused(code: refusal.code.rawValue, sequence: outcome.sequence))
                }
            } catch {
                logger.error("cannot record a refused order", metadata: ["error": "\(error)"])
            }
            return outcome
        } catch let failure as SyncFailure where failure.reason == .trustRoot {
            // Nothing to verify against: the order is neither executed nor refused (the feed
            // offers it again once the trust root is there).
            logger.error("cannot verify an order: no trust root", metadata: ["error": "\(failure.message)"])
            return Outcome(sequence: nil, kind: nil, outcome: .refused, reason: Self.unverifiable, message: failure.message)
        } catch {
            logger.error("cannot verify an order", metadata: ["error": "\(error)"])
            return Outcome(sequence: nil, kind: nil, outcome: .refused, reason: Self.localFault, message: "\(error)")
        }
        logger.notice("order verified", metadata: ["kind": "\(order.kind.rawValue)", "sequence": "\(order.sequence)", "source": "\(source.rawValue)"])
        do {
            try execute(order, envelopeSHA256: hash, source: source, now: now)
        } catch {
            logger.error("order execution failed", metadata: ["sequence": "\(order.sequence)", "error": "\(error)"])
            return Outcome(sequence: order.sequence, kind: order.kind, outcome: .refused, reason: Self.localFault, message: "\(error)")
        }
        return Outcome(sequence: order.sequence, kind: order.kind, outcome: .executed, reason: nil, message: nil)
    }

    private func execute(_ order: TerminalOrder, envelopeSHA256: String, source: OrderSource, now: Int64) throws {
        let received = ReceivedOrder(envelopeSHA256: envelopeSHA256, sequence: order.sequence, kind: order.kind, outcome: .executed,
                                     reason: nil, source: source.rawValue, receivedAt: now)
        let since = Timestamp.iso8601(milliseconds: now)
        switch order.kind {
        case .lock:
            let next = lock.withLock { $0 } ?? TerminalLock(cause: .lockOrder, orderSequence: order.sequence, since: since)
            try journal.recordOrder(received, unitId: settings.unit, lock: .some(next))
            lock.withLock { $0 = next }
            onEvent(.locked(next))
        case .unlock:
            guard lock.withLock({ $0?.cause }) != .wipeAll else {
                try journal.recordOrder(received, unitId: settings.unit)
                return
            }
            try journal.recordOrder(received, unitId: settings.unit, lock: .some(nil))
            lock.withLock { $0 = nil }
            lists.seal(false)
            onEvent(.unlocked)
        case .wipeLists, .wipeAll:
            let mark = WipeMark(kind: order.kind, orderSequence: order.sequence,
                                eraseKeySlots: order.eraseKeySlots == true && settings.luksDevice != nil, startedAt: now,
                                envelopeSHA256: envelopeSHA256, source: source.rawValue)
            try state.writeWipeMark(mark)
            let next = TerminalLock(cause: order.kind == .wipeAll ? .wipeAll : .wipeLists, orderSequence: order.sequence, since: since)
            try journal.recordOrder(received, unitId: settings.unit, lock: .some(next))
            lock.withLock { $0 = next }
            onEvent(.locked(next))
            try wipe(mark)
        }
    }

    /// The wipe behind `mark` (already durable), from the lists on.
    private func wipe(_ mark: WipeMark) throws {
        try lists.wipe(reason: Self.describe(lock.withLock { $0 } ?? TerminalLock(cause: .wipeLists, orderSequence: mark.orderSequence, since: "")))
        try journal.forgetBulletins()
        logger.notice("lists wiped", metadata: ["order": "\(mark.orderSequence)"])
        onEvent(.listsWiped(orderSequence: mark.orderSequence))
        guard mark.kind == .wipeAll else {
            // What the center already has goes now; the rest stays until it is delivered.
            _ = try journal.prune(JournalRetention(days: 0, maxRejected: 0), now: clock.nowMilliseconds)
            try state.removeWipeMark()
            return
        }
        var delivering = mark
        delivering.acknowledged = deliver?(settings.acknowledgementDeadline) ?? false
        try state.writeWipeMark(delivering)
        logger.notice(delivering.acknowledged == true ? "wipe-all acknowledged by the center" : "wipe-all acknowledgement undeliverable",
                      metadata: ["order": "\(mark.orderSequence)"])
        try Self.finishWipeAll(delivering, state: state, settings: settings, logger: logger, clock: clock)
        afterWipeAll()
    }

    /// The part of `wipe-all` after the acknowledgement: the device key and certificate, the
    /// erase request for the helper, the journal; then `wiped.json` and the mark removed.
    static func finishWipeAll(_ mark: WipeMark, state: StateDirectory, settings: Settings, logger: Logger, clock: any TerminalClock) throws {
        for path in [settings.key, settings.certificate] {
            do {
                try StateDirectory.overwriteAndRemove(path)
            } catch {
                // /etc is read-only to the hardened daemon: the erase helper (root) removes them.
                logger.notice("cannot remove \(path) here; the erase helper will", metadata: ["error": "\(error)"])
            }
        }
        try state.requestKeySlotErasure(orderSequence: mark.orderSequence, eraseKeySlots: mark.eraseKeySlots)
        try state.wipeJournalFiles()
        try state.writeWipedRecord(WipedRecord(orderSequence: mark.orderSequence, completedAt: Timestamp.iso8601(milliseconds: clock.nowMilliseconds),
                                               acknowledged: mark.acknowledged ?? false, keySlotsErasureRequested: mark.eraseKeySlots))
        try state.removeWipeMark()
        logger.notice("terminal wiped", metadata: ["order": "\(mark.orderSequence)"])
    }

    /// Completes a wipe a crash interrupted, before any store is opened: the lists, and for
    /// `wipe-all` everything else (its acknowledgement is then recorded undeliverable unless
    /// it was delivered before the crash). Returns the mark of a completed `wipe-lists` (the
    /// caller records its order and lock in the journal it opens next), nil otherwise.
    public static func completeInterruptedWipe(state: StateDirectory, settings: Settings, clock: any TerminalClock = SystemClock(),
                                               logger: Logger) throws -> WipeMark? {
        let mark: WipeMark
        do {
            guard let found = try state.wipeMark() else { return nil }
            mark = found
        } catch {
            // A mark that cannot be read is the widest wipe it could be.
            logger.critical("unreadable wipe mark: completing it as a wipe-all", metadata: ["error": "\(error)"])
            mark = WipeMark(kind: .wipeAll, orderSequence: 0, eraseKeySlots: settings.luksDevice != nil, startedAt: clock.nowMilliseconds,
                            envelopeSHA256: "", source: "unknown")
        }
        logger.notice("completing an interrupted wipe before serving", metadata: ["kind": "\(mark.kind.rawValue)", "order": "\(mark.orderSequence)"])
        try state.wipeListsFiles()
        if mark.kind == .wipeAll {
            try finishWipeAll(mark, state: state, settings: settings, logger: logger, clock: clock)
            return nil
        }
        return mark
    }

    /// After `completeInterruptedWipe` returned a `wipe-lists` mark: its order and lock in
    /// the journal, the acknowledged records pruned, the mark removed.
    public func recordCompletedWipe(_ mark: WipeMark) throws {
        let next = TerminalLock(cause: mark.kind == .wipeLists && mark.orderSequence == 0 ? .deadMan : .wipeLists,
                                orderSequence: mark.orderSequence, since: Timestamp.iso8601(milliseconds: mark.startedAt))
        if mark.orderSequence > 0 {
            try journal.recordOrder(ReceivedOrder(envelopeSHA256: mark.envelopeSHA256, sequence: mark.orderSequence, kind: mark.kind,
                                                  outcome: .executed, reason: nil, source: mark.source, receivedAt: mark.startedAt),
                                    unitId: settings.unit, lock: .some(next))
        } else {
            try journal.setTerminalLock(next)
        }
        lock.withLock { $0 = next }
        lists.markUnavailableIfWiped(next)
        try journal.forgetBulletins()
        _ = try journal.prune(JournalRetention(days: 0, maxRejected: 0), now: clock.nowMilliseconds)
        try state.removeWipeMark()
    }

    // MARK: Time and the dead-man timer

    /// Unix milliseconds by the judged clock: the later of the wall clock, the time judged
    /// before (kept in the journal across restarts) plus the monotonic time since, and the
    /// last verified manifest's issue time. Setting the clock back does not move it back.
    public func judgedNow() -> Int64 {
        let wall = clock.nowMilliseconds, monotonic = clock.monotonicMilliseconds
        return anchor.withLock { anchor in
            let judged = max(wall, anchor.judged + max(0, monotonic - anchor.monotonic))
            anchor = (judged, monotonic)
            return judged
        }
    }

    public func manifestVerified() {
        let judged = judgedNow()
        lastVerified.withLock { $0 = max($0, judged) }
        refusingReported.store(false, ordering: .relaxed)
        do {
            try journal.recordVerifiedManifest(judged: judged)
        } catch {
            logger.warning("cannot record the verified manifest's time", metadata: ["error": "\(error)"])
        }
    }

    /// The dead-man timer now; nil when it is off.
    public func offline() -> OfflineState? {
        guard deadManEnabled, settings.maxOffline != nil || settings.wipeAfterOffline != nil else { return nil }
        let judged = judgedNow()
        let since = lastVerified.withLock { $0 }
        return OfflineState(offlineSeconds: max(0, judged - since) / 1000, maxOfflineSeconds: settings.maxOffline,
                            wipeAfterOfflineSeconds: settings.wipeAfterOffline)
    }

    /// What every check is admitted by: refused past `max_offline`, else the countdown
    /// warning once it is worth saying.
    public func admitCheck() throws -> [Notice] {
        guard let offline = offline() else { return [] }
        if offline.refusing {
            throw StoreError(.expired, offline.warning ?? "no verified list update within security.max_offline")
        }
        return offline.notice.map { [$0] } ?? []
    }

    /// One round of the timer (the daemon's `ProtectionTimer`, every 30 s): the judged time
    /// kept in the journal, refusal announced, the lists wiped when `wipe_after_offline` has
    /// passed.
    public func tick() {
        let judged = judgedNow()
        do {
            try journal.advanceJudgedTime(to: judged)
        } catch {
            logger.warning("cannot keep the judged time", metadata: ["error": "\(error)"])
        }
        tendJournalAfterWipe(judged: judged)
        guard let offline = offline() else { return }
        if offline.refusing, !refusingReported.exchange(true, ordering: .relaxed) {
            logger.error("no verified manifest within security.max_offline: checks are refused", metadata: ["offline_s": "\(offline.offlineSeconds)"])
            onEvent(.offlineRefusing(offline))
        }
        guard offline.wipeDue else { return }
        serial.withLock { _ in
            guard ![.wipeLists, .wipeAll, .deadMan].contains(lock.withLock({ $0?.cause })) else { return }
            logger.critical("no verified manifest within security.wipe_after_offline: wiping the lists",
                            metadata: ["offline_s": "\(offline.offlineSeconds)"])
            let now = clock.nowMilliseconds
            let mark = WipeMark(kind: .wipeLists, orderSequence: 0, eraseKeySlots: false, startedAt: now, envelopeSHA256: "", source: "dead-man")
            do {
                try state.writeWipeMark(mark)
                let next = TerminalLock(cause: .deadMan, orderSequence: 0, since: Timestamp.iso8601(milliseconds: now))
                try journal.setTerminalLock(next)
                lock.withLock { $0 = next }
                onEvent(.locked(next))
                try wipe(mark)
            } catch {
                logger.error("dead-man wipe failed; it completes at the next start", metadata: ["error": "\(error)"])
            }
        }
    }

    /// After a lists wipe the journal keeps only what the center has not received, and that
    /// only until `wipe_journal_after` has passed since the wipe.
    private func tendJournalAfterWipe(judged: Int64) {
        guard let current = lock.withLock({ $0 }), current.cause == .wipeLists || current.cause == .deadMan,
              let since = Timestamp.milliseconds(iso8601: current.since) else { return }
        do {
            _ = try journal.prune(JournalRetention(days: 0, maxRejected: 0), now: clock.nowMilliseconds)
            if judged - since >= settings.wipeJournalAfter * 1000, try journal.outboxStatus(now: clock.nowMilliseconds).pending
                > journal.pendingOrderAcknowledgements() {
                let discarded = try journal.discardRecordsAfterWipe()
                logger.warning("security.wipe_journal_after passed since the lists wipe: undelivered records discarded",
                               metadata: ["items": "\(discarded)"])
            }
        } catch {
            logger.warning("cannot prune the journal after the wipe", metadata: ["error": "\(error)"])
        }
    }

    // MARK: Status

    public func status() -> ProtectionStatus {
        ProtectionStatus(lock: currentLock, lastOrderSequence: (try? journal.protection(now: clock.nowMilliseconds).lastOrderSequence) ?? 0,
                         offline: offline(), wiped: wiped)
    }

    // MARK: Helpers

    static func hash(_ envelope: SignedEnvelope) -> String {
        SHA256Hex.of((try? WireJSON.encode(envelope)) ?? Data())
    }

    /// What an order claims to be, unverified (for a refusal's record).
    static func claimed(_ envelope: SignedEnvelope) -> (sequence: Int64, kind: TerminalOrder.Kind)? {
        guard let bytes = Data(base64Encoded: envelope.payload), let order = try? WireJSON.decode(TerminalOrder.self, from: bytes) else { return nil }
        return (order.sequence, order.kind)
    }
}

extension ListsStore {
    /// A terminal locked by a wipe has no lists: say so, whatever lists.db shows.
    func markUnavailableIfWiped(_ lock: TerminalLock) {
        guard lock.cause != .lockOrder else { return }
        seal(true)
        markUnavailable(TerminalProtection.describe(lock))
    }
}
