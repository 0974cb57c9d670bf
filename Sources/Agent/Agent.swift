import TerminalConfiguration
import FieldSync
import Foundation
import LocalAPI
import LocalAPIContract
import Location
import Logging
import ServiceLifecycle
import Store
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
        // Files and the socket are private until given their configured mode.
        umask(0o077)
        let state = StateDirectory(path: configuration.terminal.stateDirectory)
        try state.create()
        let claim = try state.claimForDaemon()
        defer { withExtendedLifetime(claim) {} }
        let outboxQueued = WakeSignal()
        let journal = try JournalStore.open(path: state.journalPath, outboxLimits: configuration.uplink.limits,
                                            onEnqueue: { outboxQueued.fire() })
        // A terminal that has applied lists before expects them: missing or broken lists are
        // then unavailable (checks refused with the reason) until a sync replaces them.
        let lists = try ListsStore.open(state, expectLists: try journal.trustFloor() != nil)
        if let reason = lists.unavailableReason { logger.error("lists unavailable", metadata: ["reason": "\(reason)"]) }
        let events = EventHub()
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
        let checker = Checker(lists: lists, journal: journal, clock: clock, location: checkLocation)

        // Sync: scheduled, with sync-now from the API.
        let s = configuration.sync
        let transport = CurlTransport(.init(caFile: s.ca, clientCertificate: s.certificate, clientKey: s.key, pinnedPublicKey: s.pin,
                                            connectTimeout: s.connectTimeout, totalTimeout: s.timeout))
        let sync: ListsSync? = s.central.map { central in
            ListsSync(.init(baseURL: central, provisionedRoot: URL(fileURLWithPath: s.trustRoot),
                            workDirectory: state.url.appendingPathComponent("sync")),
                      transport: transport, lists: lists, journal: journal, clock: clock, schedule: s.policy, logger: logger) { event in
                switch event {
                case .updated(let report):
                    events.publish(AgentEvent(.listUpdated, ListUpdatedEvent(
                        manifestSequence: report.manifestSequence,
                        methods: Dictionary(uniqueKeysWithValues: report.methods.map { ($0.key.rawValue, $0.value) }))))
                case .failed(let reason, let message):
                    events.publish(AgentEvent(.syncFailed, SyncFailedEvent(reason: reason, message: message)))
                }
            }
        }
        if sync == nil { logger.notice("sync disabled (no sync.central)") }

        // Uplink: the outbox to the center, dispatches from it.
        let u = configuration.uplink
        let uplink: Uplink? = u.central.map { central in
            Uplink(.init(baseURL: central, unit: configuration.terminal.unit, batchItems: u.batchItems, batchBytes: u.batchBytes,
                         dispatchWait: u.dispatchWait),
                   transport: transport, journal: journal, location: checkLocation, clock: clock, schedule: u.policy,
                   enqueued: outboxQueued, logger: logger) { event in
                switch event {
                case .dispatchReceived(let dispatch): events.publish(AgentEvent(.dispatchReceived, dispatch))
                }
            }
        }
        if uplink == nil { logger.notice("uplink disabled (no uplink.central): items stay in the outbox") }

        // The API, and systemd told once it listens.
        let syncNow: (@Sendable () -> Int?)?
        if let sync { syncNow = { sync.requestSync() } } else { syncNow = nil }
        let api = LocalAPI(.init(lists: lists, journal: journal, checker: checker, session: session, events: events,
                                 stateDirectory: state.url.path, location: currentLocation,
                                 syncNow: syncNow, uplinkConfigured: uplink != nil,
                                 clock: clock, purposes: CheckPurpose.Codes(allowed: configuration.checks.purposes,
                                                                            needingReference: Set(configuration.checks.purposesWithReference))),
                           maxBodyBytes: configuration.api.maxBodyBytes)
        let a = configuration.api
        let listener = LocalAPI.Listener(
            socketPath: a.socket, socketMode: mode_t(a.socketMode), socketGroup: a.socketGroup,
            peers: try PeerPolicy(users: a.allowedUsers, groups: a.allowedGroups),
            limits: ConnectionLimits(total: a.maxConnections, perPeer: a.maxConnectionsPerPeer, idleTimeout: .seconds(a.idleTimeout)))
        let notifier = SystemdNotifier(environment: environment)
        let systemd = SystemdComponent(notifier: notifier, watchdogInterval: SystemdNotifier.watchdogInterval(environment: environment),
                                       events: events, logger: logger, lists: lists, journal: journal) {
            var status = try TerminalStatus.read(lists: lists, journal: journal, stateDirectory: state.url.path, clock: clock)
            status.syncConfigured = sync != nil
            status.location = currentLocation?()
            return status
        }
        let (server, health) = try api.server(listener, logger: logger) { result in
            if case .success = result {
                logger.info("ready", metadata: ["socket": "\(a.socket)", "ms": "\(clock.monotonicMilliseconds - started)"])
            }
            systemd.markReady(result)
        }
        systemd.probe = { await health.probe() }

        let housekeeping = Housekeeping(lists: lists, journal: journal, settings: (configuration.lists, configuration.journal), clock: clock,
                                        logger: logger, onListsUnavailable: { sync?.wake.fire() })

        var services: [any Service] = [housekeeping, SessionIdleLock(session: session)]
        if let location { services.append(location) }
        if let sync { services.append(sync) }
        if let uplink { services.append(uplink) }
        services.append(server)
        services.append(systemd)
        var group = ServiceGroupConfiguration(services: services.map { .init(service: $0) },
                                              gracefulShutdownSignals: [.sigterm, .sigint], logger: logger)
        group.maximumGracefulShutdownDuration = shutdownBound
        group.maximumCancellationDuration = .seconds(3)
        try await ServiceGroup(configuration: group).run()
        logger.info("stopped")
    }
}
