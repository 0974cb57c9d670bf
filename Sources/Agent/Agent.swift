import TerminalConfiguration
import FieldSync
import FieldWire
import Foundation
import LocalAPI
import LocalAPIContract
import Location
import Logging
import Protection
import ServiceLifecycle
import Store
import Synchronization
import Watchlist

/// The daemon's composition: opens the state, builds each engine from its slice of the
/// configuration, connects the engines' events to the API's event stream, and runs them as
/// one `ServiceGroup` in dependency order — location → sync → uplink → API → systemd
/// notifications — so that shutdown (SIGTERM, SIGINT) runs in reverse: STOPPING=1 and the
/// event streams closed first, then the API, the uplink, sync and location.
public enum Agent {
    /// Graceful shutdown must finish well inside the unit's TimeoutStopSec (20 s).
    public static let shutdownBound: Duration = .seconds(10)

    public static func run(_ configuration: AgentConfiguration, logger: Logger, clock: any TerminalClock = SystemClock(),
                           environment: [String: String] = ProcessInfo.processInfo.environment) async throws {
        let started = clock.monotonicMilliseconds
        ProcessMemory.shareArenas()
        // Files and the socket are private until given their configured mode.
        umask(0o077)
        let state = StateDirectory(path: configuration.terminal.stateDirectory)
        try state.create()
        let claim = try state.claimForDaemon()
        defer { withExtendedLifetime(claim) {} }
        // A wipe a crash interrupted is completed before anything is opened or served.
        let s = configuration.sync
        let sec = configuration.security
        let protectionSettings = TerminalProtection.Settings(
            unit: configuration.terminal.unit, provisionedRoot: URL(fileURLWithPath: s.trustRoot), certificate: s.certificate, key: s.key,
            maxOffline: sec.maxOffline, wipeAfterOffline: sec.wipeAfterOffline, luksDevice: sec.luksDevice,
            acknowledgementDeadline: sec.acknowledgementDeadline, wipeJournalAfter: sec.wipeJournalAfter)
        let interruptedWipe = try TerminalProtection.completeInterruptedWipe(state: state, settings: protectionSettings, clock: clock, logger: logger)
        let wiped = try state.wipedRecord() != nil
        if wiped { logger.critical("this terminal was wiped by an order: it serves status only until a technician re-provisions it") }
        let outboxQueued = WakeSignal()
        let emergencyQueued = WakeSignal()
        // Top-priority items (an emergency, a confirmation request) also move the deadline watch.
        let deadlinesChanged = WakeSignal()
        let journal = try JournalStore.open(path: state.journalPath, outboxLimits: configuration.uplink.limits,
                                            onEnqueue: { outboxQueued.fire() }, onUrgent: { emergencyQueued.fire(); deadlinesChanged.fire() })
        if let emergency = try journal.activeEmergency() {
            logger.critical("an emergency is active (raised \(emergency.raisedAt)): it goes to the center first, breadcrumbs every 2 s, until cancelled with the officer's PIN")
        }
        // A terminal that has applied lists before expects them: missing or broken lists are
        // then unavailable (checks refused with the reason) until a sync replaces them.
        // So does a terminal whose lists were wiped: no empty lists stand in for them.
        let wipeLock = try journal.protection(now: clock.nowMilliseconds).lock.map { $0.cause != .lockOrder } ?? false
        let lists = try ListsStore.open(state, expectLists: try journal.trustFloor() != nil || wipeLock || wiped || interruptedWipe != nil)
        if let reason = lists.unavailableReason { logger.error("lists unavailable", metadata: ["reason": "\(reason)"]) }
        let events = EventHub()
        let late = LateBound()
        // Photos come from the published directory, so only with a sync.
        let photoStore: PhotoStore? = try (wiped ? nil : s.central).map { _ in
            try PhotoStore(state: state, budgetBytes: configuration.photos.budgetBytes)
        }
        let protection = try TerminalProtection(
            protectionSettings, state: state, lists: lists, journal: journal, clock: clock,
            deadManEnabled: s.central != nil && !wiped,
            deliver: { seconds in
                guard let uplink = late.uplink else { return false }
                return uplink.deliver(within: seconds) { ((try? journal.pendingOrderAcknowledgements()) ?? 1) == 0 }
            },
            afterWipeAll: {
                // Every open file of the wiped journal goes with the process; systemd starts a
                // wiped terminal (exit 75 is a failure to restart on).
                logger.critical("wipe-all complete: exiting")
                _exit(75)
            },
            logger: logger
        ) { event in
            switch event {
            case .locked(let lock): events.publish(AgentEvent(.terminalLocked, lock))
            case .unlocked:
                events.publish(AgentEvent(.terminalUnlocked, EmptyEvent()))
                late.sync?.wake.fire()
            case .orderRefused(let code, let sequence):
                events.publish(AgentEvent(.orderRefused, OrderResult(sequence: sequence, kind: nil, outcome: "refused", reason: code, message: nil)))
            case .listsWiped:
                // The files went with the lists.
                photoStore?.forgetAll()
                late.photos?.listsChanged()
            case .offlineRefusing(let offline): events.publish(AgentEvent(.listsExpired, offline))
            }
        }
        if let interruptedWipe { try protection.recordCompletedWipe(interruptedWipe) }
        let session = OfficerSession(
            unitId: configuration.terminal.unit, lists: lists, journal: journal, clock: clock,
            policy: .init(idleLock: .seconds(configuration.session.idleLock), lockout: .seconds(configuration.session.lockout))
        ) { change, info in
            logger.info("session \(change == .locked ? "locked" : "unlocked")")
            events.publish(AgentEvent(change == .locked ? .sessionLocked : .sessionUnlocked, info))
        }

        // Location: the gpsd reader; its fixes become breadcrumbs, its changes events.
        let location: LocationService? = configuration.gps.gpsd.map { gps in
            let breadcrumbs = BreadcrumbRecorder(policy: BreadcrumbPolicy(), journal: journal, clock: clock)
            return LocationService(gps, onChange: { state in
                logger.info("gps state changed", metadata: ["status": "\(state.status.rawValue)"])
                events.publish(AgentEvent(.gpsStateChanged, state))
            }, onFix: { breadcrumbs.record($0) })
        }
        if location == nil { logger.notice("location disabled (gps.gpsd = off)") }
        let currentLocation: (@Sendable () -> LocationState)?
        if let location { currentLocation = { location.state() } } else { currentLocation = nil }
        let checkLocation: @Sendable () -> CheckLocation = { currentLocation?().forCheck ?? .notAvailable }
        let checker = Checker(lists: lists, journal: journal, clock: clock, location: checkLocation,
                              admission: { try protection.admitCheck() },
                              photos: photoStore, fetchForHit: { late.photos?.requestForHit($0) })

        // Bulletins: pushed with the dispatch poll, listed in the manifest; matched by every check.
        let bulletins = BulletinReceiver(provisionedRoot: URL(fileURLWithPath: s.trustRoot), region: configuration.terminal.region,
                                         lists: lists, journal: journal, clock: clock, logger: logger) { event in
            switch event {
            case .received(let bulletin, _):
                deadlinesChanged.fire()
                guard !protection.isLocked else { return }
                events.publish(AgentEvent(.bulletin, BulletinView(bulletin)))
            case .refused(let code, let id):
                events.publish(AgentEvent(.bulletinRefused, BulletinRefusedEvent(reason: code.rawValue, bulletinId: id)))
            }
        }

        // Sync: scheduled, with sync-now from the API (a wiped terminal has no key to sync with).
        // Connections to the center are kept: a sync run's requests and the long poll every
        // `dispatch_wait` seconds would otherwise each pay a TLS handshake (round trips and
        // battery on a cellular link).
        let transport = CurlTransport(.init(caFile: s.ca, clientCertificate: s.certificate, clientKey: s.key, pinnedPublicKey: s.pin,
                                            connectTimeout: s.connectTimeout, totalTimeout: s.timeout, reuseConnections: true))
        let sync: ListsSync? = (wiped ? nil : s.central).map { central in
            ListsSync(.init(baseURL: central, provisionedRoot: URL(fileURLWithPath: s.trustRoot),
                            workDirectory: state.url.appendingPathComponent("sync")),
                      transport: transport, lists: lists, journal: journal, clock: clock, schedule: s.policy, terminalGuard: protection,
                      bulletins: bulletins, logger: logger) { event in
                switch event {
                case .updated(let report):
                    late.photos?.listsChanged()
                    events.publish(AgentEvent(.listUpdated, ListUpdatedEvent(
                        manifestSequence: report.manifestSequence,
                        methods: Dictionary(uniqueKeysWithValues: report.methods.map { ($0.key.rawValue, $0.value) }))))
                case .failed(let reason, let message):
                    events.publish(AgentEvent(.syncFailed, SyncFailedEvent(reason: reason, message: message)))
                }
            }
        }
        if sync == nil, !wiped { logger.notice("sync disabled (no sync.central)") }
        late.sync = sync

        // Uplink: the outbox to the center, dispatches from it.
        let u = configuration.uplink
        let uplink: Uplink? = (wiped ? nil : u.central).map { central in
            Uplink(.init(baseURL: central, unit: configuration.terminal.unit, batchItems: u.batchItems, batchBytes: u.batchBytes,
                         dispatchWait: u.dispatchWait),
                   transport: transport, journal: journal, location: checkLocation, clock: clock, schedule: u.policy,
                   enqueued: outboxQueued, urgent: emergencyQueued, terminalGuard: protection, bulletins: bulletins, logger: logger) { event in
                // A locked terminal's screen shows nothing new: the dispatch waits in the journal.
                guard !protection.isLocked else { return }
                switch event {
                case .dispatchReceived(let dispatch): events.publish(AgentEvent(.dispatchReceived, dispatch))
                case .dispatchChanged(let change, let dispatch):
                    let name: EventName = switch change {
                    case .created: .dispatchReceived
                    case .updated: .dispatchUpdated
                    case .cancelled: .dispatchCancelled
                    case .reassigned: .dispatchReassigned
                    }
                    events.publish(AgentEvent(name, dispatch))
                case .hitConfirmation(let confirmation): events.publish(AgentEvent(.hitConfirmation, confirmation))
                }
            }
        }
        if uplink == nil, !wiped { logger.notice("uplink disabled (no uplink.central): items stay in the outbox") }
        late.uplink = uplink

        // Photos: a queue below the lists and the uplink; a hit's photos go first.
        let photos: PhotoSync? = s.central.flatMap { central in photoStore.map { store in
            // A transport of its own that keeps its connection: photos are many small files.
            let photoTransport = CurlTransport(.init(caFile: s.ca, clientCertificate: s.certificate, clientKey: s.key, pinnedPublicKey: s.pin,
                                                     connectTimeout: s.connectTimeout, totalTimeout: s.timeout, reuseConnections: true))
            return PhotoSync(.init(baseURL: central, region: configuration.photos.region), transport: photoTransport, lists: lists, store: store,
                      clock: clock, busy: { sync?.isRunning == true || uplink?.isSending == true }, terminalGuard: protection,
                      logger: logger) { event in
                switch event {
                case .available(let photo, let urgent):
                    if urgent, !protection.isLocked {
                        events.publish(AgentEvent(.photoAvailable, PhotoAvailableEvent(sha256: photo.sha256, kind: photo.kind.rawValue,
                                                                                       bytes: photo.bytes)))
                    }
                }
            }
        } }
        late.photos = photos

        // The fleet view's health reports: daily, and on `mpolicectl diag --upload`.
        let healthReporter = uplink.map { _ in
            HealthReporter(unit: configuration.terminal.unit, lists: lists, journal: journal, stateDirectory: state.url.path,
                           certificatePath: s.certificate, clock: clock, logger: logger)
        }
        var healthReport: (@Sendable () throws -> HealthReport)?
        if let healthReporter { healthReport = { try healthReporter.send(.diag) } }

        // The API, and systemd told once it listens.
        let syncNow: (@Sendable () -> Int?)?
        if let sync { syncNow = { sync.requestSync() } } else { syncNow = nil }
        let api = LocalAPI(.init(lists: lists, journal: journal, checker: checker, session: session, events: events,
                                 stateDirectory: state.url.path, location: currentLocation,
                                 syncNow: syncNow, uplinkConfigured: uplink != nil,
                                 clock: clock, purposes: CheckPurpose.Codes(allowed: configuration.checks.purposes,
                                                                            needingReference: Set(configuration.checks.purposesWithReference)),
                                 protection: ProtectionControls(
                                    requireUnlocked: { try protection.requireUnlocked() },
                                    submit: { envelope in await Self.submit(envelope, to: protection) },
                                    liftLock: { try protection.liftLock() },
                                    status: { protection.status() }),
                                 photos: photoStore,
                                 healthReport: healthReport),
                           maxBodyBytes: configuration.api.maxBodyBytes)
        let a = configuration.api
        let listener = LocalAPI.Listener(
            socketPath: a.socket, socketMode: mode_t(a.socketMode), socketGroup: a.socketGroup,
            peers: try PeerPolicy(users: a.allowedUsers, groups: a.allowedGroups),
            limits: ConnectionLimits(total: a.maxConnections, perPeer: a.maxConnectionsPerPeer, idleTimeout: .seconds(a.idleTimeout)))
        let notifier = SystemdNotifier(environment: environment)
        let systemd = SystemdComponent(notifier: notifier, watchdogInterval: SystemdNotifier.watchdogInterval(environment: environment),
                                       events: events, logger: logger, lists: lists, journal: journal,
                                       readStatus: {
            try TerminalStatus.read(lists: lists, journal: journal, stateDirectory: state.url.path, clock: clock, scope: .summaryLine)
        }, daemonParts: { status in
            status.syncConfigured = sync != nil
            status.location = currentLocation?()
            status.protection = protection.status()
            status.photos = photoStore?.status
        })
        let (server, health) = try api.server(listener, logger: logger) { result in
            if case .success = result {
                logger.info("ready", metadata: ["socket": "\(a.socket)", "ms": "\(clock.monotonicMilliseconds - started)"])
            }
            systemd.markReady(result)
        }
        systemd.probe = { await health.probe() }

        let housekeeping = Housekeeping(lists: lists, journal: journal, settings: (configuration.lists, configuration.journal), clock: clock,
                                        logger: logger, onListsUnavailable: { sync?.wake.fire() })

        let deadlines = DeadlineWatch(lists: lists, journal: journal, clock: clock, changed: deadlinesChanged, logger: logger,
                                      onExpired: { events.publish(AgentEvent(.bulletinExpired, BulletinView($0))) },
                                      onOverdue: { events.publish(AgentEvent(.hitConfirmationOverdue, $0)) })

        var services: [any Service] = [housekeeping, SessionIdleLock(session: session), ProtectionTimer(protection: protection), deadlines]
        if let location { services.append(location) }
        if let sync { services.append(sync) }
        if let uplink { services.append(uplink) }
        if let photos { services.append(photos) }
        if let healthReporter { services.append(healthReporter) }
        if a.trimAfter > 0 {
            services.append(QuietTrim(activity: api.activity, quiet: .seconds(a.trimAfter), clock: clock, lists: lists, journal: journal,
                                      logger: logger))
        }
        services.append(server)
        services.append(systemd)
        var group = ServiceGroupConfiguration(services: services.map { .init(service: $0) },
                                              gracefulShutdownSignals: [.sigterm, .sigint], logger: logger)
        group.maximumGracefulShutdownDuration = shutdownBound
        group.maximumCancellationDuration = .seconds(3)
        try await ServiceGroup(configuration: group).run()
        logger.info("stopped")
    }

    /// An order handed in through the API, verified and executed on a thread of its own (a
    /// wipe writes and syncs files).
    static func submit(_ envelope: SignedEnvelope, to protection: TerminalProtection) async -> OrderResult {
        // `handle` does not throw: every failure is an outcome of its own.
        guard case .success(let outcome) = await onOwnThread("order", { protection.handle(envelope, source: .api) }) else {
            return OrderResult(sequence: nil, kind: nil, outcome: "refused", reason: TerminalProtection.localFault, message: nil)
        }
        return OrderResult(sequence: outcome.sequence, kind: outcome.kind?.rawValue, outcome: outcome.outcome.rawValue,
                           reason: outcome.reason, message: outcome.message)
    }
}

/// The engines the protections reach that are built after them.
private final class LateBound: Sendable {
    private let slots = Mutex<(uplink: Uplink?, sync: ListsSync?, photos: PhotoSync?)>((nil, nil, nil))
    var photos: PhotoSync? {
        get { slots.withLock { $0.photos } }
        set { slots.withLock { $0.photos = newValue } }
    }
    var uplink: Uplink? {
        get { slots.withLock { $0.uplink } }
        set { slots.withLock { $0.uplink = newValue } }
    }
    var sync: ListsSync? {
        get { slots.withLock { $0.sync } }
        set { slots.withLock { $0.sync = newValue } }
    }
}

/// An event without a body: `{}`.
struct EmptyEvent: Codable, Sendable {}
