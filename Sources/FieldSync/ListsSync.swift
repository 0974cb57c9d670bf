import TerminalConfiguration
import FieldWire
import Foundation
import Logging
import ServiceLifecycle
import Store
import Synchronization
import Watchlist

/// What the list sync needs from HTTPS: `CurlTransport` in the terminal.
public protocol SyncTransport: Sendable {
    func get(_ url: String, maxBytes: Int64, ifNoneMatch etag: String?, timeout: Double?, abort: AbortFlag?) throws -> CurlTransport.Response
    func download(_ url: String, to partial: URL, expectedLength: Int64, expectedSHA256: String,
                  progress: (@Sendable (Int64) -> Void)?, abort: AbortFlag?) throws -> CurlTransport.Download
}

extension CurlTransport: SyncTransport {}

extension SyncTransport {
    func get(_ url: String, maxBytes: Int64, ifNoneMatch etag: String? = nil) throws -> CurlTransport.Response {
        try get(url, maxBytes: maxBytes, ifNoneMatch: etag, timeout: nil, abort: nil)
    }
}

/// Where a sync run is, for a progress bar or a status line.
public enum SyncProgress: Sendable, Equatable {
    case checkingManifest
    /// Bytes of the needed files on disk, of the total the manifest states.
    case downloading(bytes: Int64, of: Int64)
    /// Records written into one list (`of` is 0 when unknown, as for deltas).
    case applying(ListKind, records: Int, of: Int)
    /// A step of making a new lists generation current (snapshots).
    case generation(GenerationStep)
    /// Deltas written in place, about to commit.
    case deltasWritten
}

/// The downlink: brings the three lists to the center's latest signed manifest
/// (docs/sync-protocol.md). One run (`syncOnce`): roots → manifest (conditional GET) →
/// verify in TUF's order → plan deltas or snapshots → download with length and SHA-256
/// checks (resumable) → apply with the content digest check, the new trust state in the same
/// commit. Every run is recorded in the journal with its outcome and stable reason code.
///
/// As a `Service` (the daemon), it syncs at once and then on its `RetryPolicy`; `wake`
/// (sync-now) cuts a wait short. Each run is logged and reported as an `Event`.
public final class ListsSync: Service, Sendable {
    public struct Configuration: Sendable {
        /// The published directory, e.g. `https://central.example/lists/` (a trailing `/` is added).
        public var baseURL: String
        /// The root the terminal was provisioned with (`root.json` from `mpolice-central keys init`).
        public var provisionedRoot: URL
        /// Where partly downloaded files wait for a resume (`<state>/sync`).
        public var workDirectory: URL

        public init(baseURL: String, provisionedRoot: URL, workDirectory: URL) {
            self.baseURL = baseURL.hasSuffix("/") ? baseURL : baseURL + "/"
            self.provisionedRoot = provisionedRoot
            self.workDirectory = workDirectory
        }
    }

    /// What a run did.
    public struct Report: Sendable, Equatable {
        public var outcome: SyncAttempt.Outcome
        public var manifestSequence: Int64?
        /// Per list: how it was brought up to date (`snapshot`, `deltas`, `unchanged`).
        public var methods: [ListKind: String]
        public var bytesFetched: Int64
        /// From the start of the run until the new lists answered checks (the apply's commit).
        public var secondsUntilApplied: Double?
        /// Of it, the apply alone: reading the fetched files and writing the lists, to the commit.
        public var applySeconds: Double?
        /// The WAL checkpoint after the apply, which makes it durable in the lists file.
        public var checkpointSeconds: Double?

        init(outcome: SyncAttempt.Outcome, manifestSequence: Int64?, methods: [ListKind: String], bytesFetched: Int64,
             secondsUntilApplied: Double? = nil, applySeconds: Double? = nil, checkpointSeconds: Double? = nil) {
            (self.outcome, self.manifestSequence, self.methods) = (outcome, manifestSequence, methods)
            (self.bytesFetched, self.secondsUntilApplied) = (bytesFetched, secondsUntilApplied)
            (self.applySeconds, self.checkpointSeconds) = (applySeconds, checkpointSeconds)
        }
    }

    /// How a scheduled run ended, for the daemon's event stream.
    public enum Event: Sendable, Equatable {
        /// New lists (or a newer manifest) applied.
        case updated(Report)
        case failed(reason: String, message: String)
    }

    /// Manifests and roots are small; anything larger is refused unread.
    static let maxDocumentBytes: Int64 = 1 << 20

    public let configuration: Configuration
    private let transport: any SyncTransport
    private let lists: ListsStore
    private let journal: JournalStore
    private let clock: any TerminalClock
    private let schedule: RetryPolicy
    /// Orders and the lock (nil: the terminal fetches no orders file).
    private let terminalGuard: (any TerminalGuard)?
    /// Takes the manifest's bulletins (nil: they are not taken).
    private let bulletins: BulletinReceiver?
    /// Sync-now: ends the scheduled loop's wait (see `requestSync`).
    public let wake = WakeSignal()
    /// Monotonic milliseconds before which a sync-now is refused: the backoff after a
    /// failure, or the minimum spacing after the last sync-now.
    private let notBefore = Mutex<Int64>(0)
    /// Sync-now requests closer together than this are refused.
    static let syncNowSpacing: Int64 = 10_000
    private let logger: Logger
    private let onEvent: @Sendable (Event) -> Void
    private let running = Atomic<Bool>(false)
    /// A sync run is under way (photo prefetch waits meanwhile).
    public var isRunning: Bool { running.load(ordering: .relaxed) }

    public init(_ configuration: Configuration, transport: any SyncTransport, lists: ListsStore, journal: JournalStore,
                clock: any TerminalClock = SystemClock(), schedule: RetryPolicy = RetryPolicy(), terminalGuard: (any TerminalGuard)? = nil,
                bulletins: BulletinReceiver? = nil,
                logger: Logger = Logger(label: "mpolice.sync"), onEvent: @escaping @Sendable (Event) -> Void = { _ in }) {
        self.configuration = configuration
        self.bulletins = bulletins
        self.terminalGuard = terminalGuard
        self.transport = transport
        self.lists = lists
        self.journal = journal
        self.clock = clock
        self.schedule = schedule
        self.logger = logger
        self.onEvent = onEvent
    }

    private var now: Int64 { clock.nowSeconds }

    /// Runs one sync and records it in the journal.
    /// - Throws: `SyncFailure` (already recorded); `StoreError` for local faults.
    @discardableResult
    public func syncOnce(progress: (@Sendable (SyncProgress) -> Void)? = nil) throws -> Report {
        running.store(true, ordering: .relaxed)
        defer { running.store(false, ordering: .relaxed) }
        let started = Date()
        let fetched = ByteCounter()
        var sequence: Int64?
        func record(_ outcome: SyncAttempt.Outcome, _ failure: SyncFailure?) {
            // The journal is local; failing to note an attempt must not hide the attempt's own result.
            try? journal.recordSyncAttempt(SyncAttempt(
                startedAt: Int64(started.timeIntervalSince1970 * 1000), durationMs: Int64(Date().timeIntervalSince(started) * 1000),
                outcome: outcome, reason: failure?.reason.rawValue, message: failure?.message, manifestSequence: sequence,
                bytesFetched: fetched.value))
        }
        do {
            let report = try runOnce(started: started, fetched: fetched, sequence: &sequence, progress: progress)
            record(report.outcome, nil)
            return report
        } catch let failure as SyncFailure {
            record(.failed, failure)
            throw failure
        } catch let error as StoreError {
            guard let failure = Self.syncFailure(error) else { throw error }
            record(.failed, failure)
            throw failure
        }
    }

    /// Store errors that describe what the center sent, as sync reasons.
    static func syncFailure(_ error: StoreError) -> SyncFailure? {
        switch error.code {
        case .baseMismatch: SyncFailure(.baseMismatch, error.message)
        case .digestMismatch: SyncFailure(.digestMismatch, error.message)
        case .badDataset: SyncFailure(.badFormat, error.message)
        case .locked: SyncFailure(.locked, error.message)
        default: nil
        }
    }

    private func runOnce(started: Date, fetched: ByteCounter, sequence: inout Int64?, progress: (@Sendable (SyncProgress) -> Void)?) throws -> Report {
        progress?(.checkingManifest)
        let stored = try lists.syncState()
        var (trust, rootEnvelope) = try TrustState.current(provisionedRoot: configuration.provisionedRoot, stored: stored, floor: try journal.trustFloor())
        let rootBefore = trust.root.version

        // 1. Newer roots, each signed by its predecessor's root keys and its own.
        try walkRoots(&trust, &rootEnvelope, fetched: fetched)
        let rootChanged = trust.root.version != rootBefore

        // 1b. This unit's orders, verified against the root just walked to; a locked
        // terminal stops here.
        if let terminalGuard {
            try fetchOrders(terminalGuard, fetched: fetched)
            if terminalGuard.isLocked {
                throw SyncFailure(.locked, "the terminal is locked by an order or a wipe: no lists are fetched until it is unlocked")
            }
        }

        // 2. The manifest, conditionally.
        let manifestURL = configuration.baseURL + Manifest.path
        let etag = rootChanged ? nil : stored?.manifestETag
        let response = try transport.get(manifestURL, maxBytes: Self.maxDocumentBytes, ifNoneMatch: etag)
        fetched.add(Int64(response.body.count))
        if response.notModified, let stored {
            if rootChanged { try lists.saveSyncState(SyncState(manifestSequence: stored.manifestSequence, trustedTime: stored.trustedTime,
                                                              root: rootEnvelope, manifestETag: stored.manifestETag)) }
            sequence = stored.manifestSequence
            // 304 over mutual TLS: the manifest verified before is still the center's word.
            terminalGuard?.manifestVerified()
            return Report(outcome: .upToDate, manifestSequence: stored.manifestSequence, methods: [:], bytesFetched: fetched.value)
        }
        try Self.requireOK(response, manifestURL)

        // 3. Signature → rollback → freeze → structure.
        let manifest = try trust.verify(SignedEnvelope.decode(response.body), now: now)
        sequence = manifest.sequence
        terminalGuard?.manifestVerified()
        // 3b. Bulletins the push may have missed (those held already are skipped).
        if let bulletins, let listed = manifest.bulletins { bulletins.receive(listed, source: "manifest", root: trust.root) }
        let local = try lists.versions()
        if let stored, manifest.sequence == stored.manifestSequence, Self.matches(manifest, local) {
            try lists.saveSyncState(SyncState(manifestSequence: stored.manifestSequence, trustedTime: stored.trustedTime,
                                              root: rootEnvelope, manifestETag: response.etag))
            return Report(outcome: .upToDate, manifestSequence: manifest.sequence, methods: [:], bytesFetched: fetched.value)
        }

        // 4. Plan, then fetch every needed file before touching the lists.
        let plan = Self.plan(manifest, local: local)
        try FileManager.default.createDirectory(at: configuration.workDirectory, withIntermediateDirectories: true,
                                                attributes: [.posixPermissions: 0o700])
        let files = plan.values.flatMap(\.files)
        removeStaleDownloads(keeping: Set(files.map { localURL($0).lastPathComponent }))
        let total = files.reduce(0) { $0 + $1.length }
        var done: Int64 = 0
        for file in files {
            let base = done
            let result = try transport.download(configuration.baseURL + file.path, to: localURL(file), expectedLength: file.length,
                                                expectedSHA256: file.sha256, progress: { bytes in progress?(.downloading(bytes: base + bytes, of: total)) },
                                                abort: nil)
            fetched.add(result.fetched)
            done += file.length
            progress?(.downloading(bytes: done, of: total))
        }

        // 5. Apply with the trust state that vouches for it.
        trust.accept(manifest)
        var update = ListsUpdate(lists: [:], issuedAt: manifest.issuedAt, expiresAt: manifest.expiresAt,
                                 syncState: SyncState(manifestSequence: trust.lastSequence, trustedTime: trust.lastTrustedTime,
                                                      root: rootEnvelope, manifestETag: response.etag))
        for (list, step) in plan {
            let target = manifest.lists[list.rawValue]!
            let source: ListsUpdate.Source
            switch step {
            case .unchanged: source = .unchanged
            case .snapshot(let file): source = .snapshot(body(file, expectedRecords: target.recordCount))
            case .deltas(let deltas): source = .deltas(deltas.map { body($0, expectedRecords: target.recordCount) })
            case .catchUp(let file): source = .deltas([body(file, expectedRecords: target.recordCount)])
            }
            update.lists[list] = ListsUpdate.Target(version: target.version, recordCount: target.recordCount, digest: target.digest, source: source,
                                                    mode: target.mode ?? .full)
        }
        let floor = TrustFloor(manifestSequence: trust.lastSequence, trustedTime: trust.lastTrustedTime, root: rootEnvelope)
        let applying = Date()
        try lists.apply(update) { step in
            switch step {
            case .records(let list, let done, let total): progress?(.applying(list, records: done, of: total))
            case .generation(let step): progress?(.generation(step))
            case .deltasWritten: progress?(.deltasWritten)
            }
        }
        let applied = Date()
        if trust.floorWasReset { try journal.resetTrustFloor(floor) } else { try journal.raiseTrustFloor(floor) }
        for file in files { try? FileManager.default.removeItem(at: localURL(file)) }
        try lists.checkpoint()
        return Report(outcome: .updated, manifestSequence: manifest.sequence, methods: plan.mapValues(\.name), bytesFetched: fetched.value,
                      secondsUntilApplied: applied.timeIntervalSince(started), applySeconds: applied.timeIntervalSince(applying),
                      checkpointSeconds: Date().timeIntervalSince(applied))
    }

    /// Fetches `orders/<unit>.json` and hands its orders over. None published (404, 403)
    /// is no order; an unreadable file is logged and skipped — it must not stop the lists.
    private func fetchOrders(_ terminalGuard: any TerminalGuard, fetched: ByteCounter) throws {
        let url = configuration.baseURL + OrderFeed.path(unit: terminalGuard.unit)
        let response = try transport.get(url, maxBytes: Self.maxDocumentBytes, ifNoneMatch: nil)
        fetched.add(Int64(response.body.count))
        if response.status == 404 || response.status == 403 { return }
        try Self.requireOK(response, url)
        do {
            let feed = try WireJSON.decode(OrderFeed.self, from: response.body)
            terminalGuard.receive(feed.orders, source: .file)
        } catch {
            logger.warning("the orders file cannot be read; skipped", metadata: ["url": "\(url)", "error": "\(error)"])
        }
    }

    /// Moves `trust` along the center's newer roots, each signed by its predecessor's root
    /// keys and its own, until the next one is not there: 404, or 403 (what object stores
    /// answer for a missing key). Any other failure fails the sync: a terminal must not
    /// carry on with an old root because the next one could not be fetched.
    private func walkRoots(_ trust: inout TrustState, _ rootEnvelope: inout Data, fetched: ByteCounter) throws {
        while true {
            let url = configuration.baseURL + "roots/\(trust.root.version + 1).root.json"
            let response = try transport.get(url, maxBytes: Self.maxDocumentBytes, ifNoneMatch: nil)
            fetched.add(Int64(response.body.count))
            if response.status == 404 || response.status == 403 { break }
            try Self.requireOK(response, url)
            try trust.rotate(to: [SignedEnvelope.decode(response.body)], now: now)
            rootEnvelope = response.body
        }
    }

    /// Verifies a manifest the way a sync run would (the trusted root, newer roots from the
    /// center, signature → rollback → expiry → structure) without storing anything:
    /// diagnostics. Throws the sync's `SyncFailure`.
    public func verify(manifest body: Data) throws -> Manifest {
        var (trust, rootEnvelope) = try TrustState.current(provisionedRoot: configuration.provisionedRoot, stored: try lists.syncState(),
                                                           floor: try journal.trustFloor())
        try walkRoots(&trust, &rootEnvelope, fetched: ByteCounter())
        return try trust.verify(SignedEnvelope.decode(body), now: now)
    }

    static func requireOK(_ response: CurlTransport.Response, _ url: String) throws {
        switch response.status {
        case 200: return
        case 400, 495, 496:
            throw SyncFailure(.clientCertificateRefused, "\(url): the server refused the device certificate (HTTP \(response.status))")
        default:
            throw SyncFailure(.network, "\(url): HTTP \(response.status)")
        }
    }

    /// Same versions and digests for every list the manifest names.
    static func matches(_ manifest: Manifest, _ local: [ListKind: ListMeta]) -> Bool {
        manifest.lists.allSatisfy { name, target in
            guard let list = ListKind(rawValue: name), let meta = local[list] else { return false }
            return meta.version == target.version && meta.digest == target.digest
        }
    }

    enum Step: Equatable {
        case unchanged
        case deltas([Manifest.File])
        /// One catch-up delta from a version at or before the local one.
        case catchUp(Manifest.File)
        case snapshot(Manifest.File)

        var files: [Manifest.File] {
            switch self {
            case .unchanged: []
            case .deltas(let files): files
            case .catchUp(let file), .snapshot(let file): [file]
            }
        }

        var bytes: Int64 { files.reduce(0) { $0 + $1.length } }

        var name: String {
            switch self {
            case .unchanged: "unchanged"
            case .deltas: "deltas"
            case .catchUp: "catch-up"
            case .snapshot: "snapshot"
            }
        }
    }

    /// Per list: nothing when up to date, else the fewest bytes of the ways the manifest
    /// offers from the local version — the consecutive deltas from it (when all are still
    /// listed), a catch-up from a version at or before it, or the snapshot. On equal bytes
    /// the deltas, then a catch-up, are preferred to the snapshot.
    static func plan(_ manifest: Manifest, local: [ListKind: ListMeta]) -> [ListKind: Step] {
        var plan: [ListKind: Step] = [:]
        for (name, target) in manifest.lists {
            guard let list = ListKind(rawValue: name) else { continue }
            let meta = local[list]!
            if meta.version == target.version, meta.digest == target.digest {
                plan[list] = .unchanged
                continue
            }
            var ways: [Step] = []
            if meta.version > 0, meta.version < target.version {
                if let start = target.deltas.firstIndex(where: { $0.fromVersion == meta.version }) {
                    ways.append(.deltas(target.deltas[start...].map(\.file)))
                }
                for catchUp in target.catchUps ?? [] where catchUp.fromVersion <= meta.version && meta.version < catchUp.toVersion {
                    ways.append(.catchUp(catchUp.file))
                }
            }
            ways.append(.snapshot(target.snapshot))
            // min(by:) keeps the first of equals: the order above is the preference.
            plan[list] = ways.min { $0.bytes < $1.bytes }!
        }
        return plan
    }

    /// Removes what earlier runs left in the work directory that this run does not need: a
    /// partial download of a file a newer manifest no longer lists would otherwise stay
    /// forever. Partial files this run needs stay, to be resumed.
    private func removeStaleDownloads(keeping needed: Set<String>) {
        let directory = configuration.workDirectory
        for name in (try? FileManager.default.contentsOfDirectory(atPath: directory.path)) ?? [] where !needed.contains(name) {
            try? FileManager.default.removeItem(at: directory.appendingPathComponent(name))
        }
    }

    /// Downloads are named by their SHA-256, so a resume finds its partial file.
    private func localURL(_ file: Manifest.File) -> URL {
        configuration.workDirectory.appendingPathComponent("\(file.sha256).gz")
    }

    /// A verified file's uncompressed body, read when the store needs it. The ceiling is far
    /// above any honest list (2 KiB per record, plus 64 MiB) and stops a gzip bomb.
    private func body(_ file: Manifest.File, expectedRecords: Int64) -> ListsUpdate.Body {
        let url = localURL(file)
        let ceiling = Int(min(Int64(Int32.max), expectedRecords * 2048 + (64 << 20)))
        return {
            guard let data = FileManager.default.contents(atPath: url.path) else {
                throw SyncFailure(.truncated, "\(file.path): downloaded file disappeared")
            }
            return try Gzip.decompress(data, maxBytes: ceiling)
        }
    }
}

/// Bytes fetched in one run, added from transfer callbacks.
private final class ByteCounter: @unchecked Sendable {
    private let lock = NSLock()
    private var total: Int64 = 0
    func add(_ n: Int64) { lock.withLock { total += n } }
    var value: Int64 { lock.withLock { total } }
}

extension ListsSync {
    /// A sync-now from the API: the scheduled loop runs at once — unless it is backing off
    /// after a failure, or the last sync-now was under 10 s ago. A client asking again and
    /// again cannot make the terminal hammer the center.
    /// - Returns: nil when the sync was requested, else the seconds to wait.
    public func requestSync() -> Int? {
        let now = clock.monotonicMilliseconds
        let wait = notBefore.withLock { notBefore -> Int64? in
            guard now >= notBefore else { return notBefore - now }
            notBefore = now + Self.syncNowSpacing
            return nil
        }
        guard let wait else {
            wake.fire()
            return nil
        }
        return Int((wait + 999) / 1000)
    }

    /// Syncs now, then on the schedule; `wake.fire()` (sync-now) cuts the current wait
    /// short. Each run happens on a thread of its own (libcurl and SQLite block): never on
    /// the caller's executor, and never waiting for a shared pool that other blocking work
    /// may have filled. Returns at graceful shutdown.
    public func run() async {
        await cancelWhenGracefulShutdown { [self] in
            var retries = RetrySchedule(schedule)
            while !Task.isCancelled {
                let result = await onOwnThread("list-sync", priority: .background) { try self.syncOnce() }
                report(result)
                let succeeded = (try? result.get()) != nil
                let delay = retries.delay(afterSuccess: succeeded, random: Double.random(in: 0..<1))
                if !succeeded {
                    let until = clock.monotonicMilliseconds + Int64(delay.components.seconds * 1000 + delay.components.attoseconds / 1_000_000_000_000_000)
                    notBefore.withLock { $0 = max($0, until) }
                }
                await wait(for: delay, orUntil: [wake])
            }
        }
    }

    private func report(_ result: Result<Report, any Error>) {
        switch result {
        case .success(let report):
            logger.info("sync \(report.outcome.rawValue)", metadata: ["manifest": "\(report.manifestSequence.map(String.init) ?? "-")"])
            if report.outcome == .updated { onEvent(.updated(report)) }
        case .failure(let error as SyncFailure):
            logger.warning("sync failed", metadata: ["reason": "\(error.reason.rawValue)", "detail": "\(error.message)"])
            onEvent(.failed(reason: error.reason.rawValue, message: error.message))
        case .failure(let error):
            logger.error("sync failed", metadata: ["error": "\(error)"])
            onEvent(.failed(reason: "local", message: "\(error)"))
        }
    }
}
