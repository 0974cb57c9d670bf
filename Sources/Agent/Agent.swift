import FieldSync
import Foundation
import LocalAPI
import Location
import Logging
import ServiceLifecycle
import Store
import Watchlist

/// The daemon's composition: opens the state, builds each part from its slice of the
/// configuration and runs them as one `ServiceGroup` in dependency order — location → sync
/// → API → systemd notifications — so that shutdown (SIGTERM, SIGINT) runs in reverse:
/// STOPPING=1 and the event streams closed first, then the API, sync and location.
public enum Agent {
    /// Graceful shutdown must finish well inside the unit's TimeoutStopSec (20 s).
    public static let shutdownBound: Duration = .seconds(10)

    public static func run(_ configuration: AgentConfiguration, logger: Logger,
                           environment: [String: String] = ProcessInfo.processInfo.environment) async throws {
        let started = Date()
        // Files and the socket are private until given their configured mode.
        umask(0o077)
        let state = StateDirectory(path: configuration.terminal.stateDirectory)
        try state.create()
        let lists = try ListsStore.open(state)
        let uplinkTriggers = Uplink.Triggers()
        let journal = try JournalStore.open(path: state.journalPath, outboxLimits: configuration.uplink.limits,
                                            onEnqueue: { uplinkTriggers.enqueued.fire() })
        let events = EventHub()
        let session = OfficerSession(unitId: configuration.terminal.unit)

        // Location: gpsd reader, breadcrumbs, state changes as events.
        let location: LocationService? = configuration.gps.gpsd.map { gps in
            let breadcrumbs = BreadcrumbRecorder(policy: BreadcrumbPolicy(), journal: journal)
            return LocationService(gps, onChange: { state in
                logger.info("gps state changed", metadata: ["status": "\(state.status.rawValue)"])
                events.publish(AgentEvent(.gpsStateChanged, state))
            }, onFix: { breadcrumbs.record($0) })
        }
        if location == nil { logger.notice("location disabled (gps.gpsd = off)") }
        let currentLocation: (@Sendable () -> LocationState)?
        if let location {
            currentLocation = { location.state() }
        } else {
            currentLocation = nil
        }
        let checker = Checker(lists: lists, journal: journal, location: {
            guard let currentLocation else { return .notAvailable }
            return currentLocation().forCheck
        })

        // Sync: scheduled, with sync-now from the API.
        let sync: SyncComponent?
        if let central = configuration.sync.central {
            let s = configuration.sync
            let transport = CurlTransport(.init(caFile: s.ca, clientCertificate: s.certificate, clientKey: s.key, pinnedPublicKey: s.pin,
                                                connectTimeout: s.connectTimeout, totalTimeout: s.timeout))
            let engine = ListsSync(.init(baseURL: central, provisionedRoot: URL(fileURLWithPath: s.trustRoot),
                                         workDirectory: state.url.appendingPathComponent("sync")),
                                   transport: transport, lists: lists, journal: journal)
            sync = SyncComponent(engine: engine, policy: s.policy, events: events, logger: logger)
        } else {
            sync = nil
            logger.notice("sync disabled (no sync.central)")
        }
        // Uplink: the outbox to the center, dispatches from it.
        let uplink: UplinkComponent?
        if let central = configuration.uplink.central {
            let s = configuration.sync, u = configuration.uplink
            let transport = CurlTransport(.init(caFile: s.ca, clientCertificate: s.certificate, clientKey: s.key, pinnedPublicKey: s.pin,
                                                connectTimeout: s.connectTimeout, totalTimeout: s.timeout))
            let engine = Uplink(.init(baseURL: central, unit: configuration.terminal.unit, batchItems: u.batchItems,
                                      batchBytes: u.batchBytes, dispatchWait: u.dispatchWait),
                                transport: transport, journal: journal, location: { currentLocation?().forCheck ?? .notAvailable })
            uplink = UplinkComponent(engine: engine, policy: u.policy, triggers: uplinkTriggers, events: events, logger: logger)
        } else {
            uplink = nil
            logger.notice("uplink disabled (no uplink.central): items stay in the outbox")
        }

        let syncNow: (@Sendable () -> Void)?
        if let trigger = sync?.trigger {
            syncNow = { trigger.fire() }
        } else {
            syncNow = nil
        }

        // The API, and systemd told once it listens.
        let notifier = SystemdNotifier(environment: environment)
        let systemd = SystemdComponent(notifier: notifier, watchdogInterval: SystemdNotifier.watchdogInterval(environment: environment),
                                       socketPath: configuration.api.socket, lists: lists, journal: journal, events: events,
                                       location: currentLocation, logger: logger)
        let api = LocalAPI(.init(lists: lists, journal: journal, checker: checker, session: session, events: events,
                                 location: currentLocation, syncNow: syncNow, uplinkConfigured: uplink != nil,
                                 startedAt: started),
                           maxBodyBytes: configuration.api.maxBodyBytes)
        let listener = LocalAPI.Listener(
            socketPath: configuration.api.socket, socketMode: mode_t(configuration.api.socketMode), socketGroup: configuration.api.socketGroup,
            peers: try PeerPolicy(users: configuration.api.allowedUsers, groups: configuration.api.allowedGroups),
            tcpPort: configuration.api.tcpListen?.port)
        let servers = try api.services(listener, logger: logger) {
            logger.info("ready", metadata: ["socket": "\(configuration.api.socket)",
                                            "ms": "\(Int(Date().timeIntervalSince(started) * 1000))"])
            systemd.markReady()
        }

        var services: [any Service] = []
        if let location { services.append(LocationComponent(service: location)) }
        if let sync { services.append(sync) }
        if let uplink { services.append(uplink) }
        services += servers
        services.append(systemd)
        var group = ServiceGroupConfiguration(services: services.map { .init(service: $0) },
                                              gracefulShutdownSignals: [.sigterm, .sigint], logger: logger)
        group.maximumGracefulShutdownDuration = shutdownBound
        group.maximumCancellationDuration = .seconds(3)
        try await ServiceGroup(configuration: group).run()
        logger.info("stopped")
    }
}

/// gpsd as a service: the reader runs until graceful shutdown.
struct LocationComponent: Service {
    let service: LocationService

    func run() async throws {
        await cancelWhenGracefulShutdown { await service.run() }
    }
}

/// Uploads and the dispatch poll, side by side until graceful shutdown.
struct UplinkComponent: Service {
    let engine: Uplink
    let policy: SyncSchedule.Policy
    let triggers: Uplink.Triggers
    let events: EventHub
    let logger: Logger

    func run() async throws {
        let engine = engine, policy = policy, triggers = triggers, events = events, logger = logger
        await cancelWhenGracefulShutdown {
            await withTaskGroup(of: Void.self) { group in
                group.addTask {
                    await engine.runUploads(policy, triggers: triggers) { result in
                        switch result {
                        case .success(let report) where report.batches > 0:
                            logger.info("uploaded", metadata: ["batches": "\(report.batches)", "acknowledged": "\(report.acknowledged)",
                                                               "rejected": "\(report.rejected)", "bytes": "\(report.bytesSent)"])
                            if report.rejected > 0 {
                                logger.warning("the center rejected items; they are kept (status: outbox.rejected)",
                                               metadata: ["rejected": "\(report.rejected)"])
                            }
                        case .success: break
                        case .failure(let error):
                            logger.warning("upload failed; items stay queued", metadata: ["error": "\(error)"])
                        }
                    }
                }
                group.addTask {
                    await engine.runDispatchPoll(policy, triggers: triggers) { result in
                        switch result {
                        case .success(let dispatches):
                            for dispatch in dispatches {
                                logger.notice("dispatch received", metadata: ["id": "\(dispatch.order.id)", "priority": "\(dispatch.order.priority)"])
                                events.publish(AgentEvent(.dispatchReceived, dispatch))
                            }
                        case .failure(let error as SyncFailure) where error.message.hasSuffix("aborted (shutting down)"):
                            break
                        case .failure(let error):
                            logger.warning("dispatch poll failed", metadata: ["error": "\(error)"])
                        }
                    }
                }
            }
        }
    }
}

/// The scheduled list sync; `trigger` is sync-now.
struct SyncComponent: Service {
    let engine: ListsSync
    let policy: SyncSchedule.Policy
    let events: EventHub
    let logger: Logger
    let trigger = SyncTrigger()

    func run() async throws {
        let events = events, logger = logger
        await cancelWhenGracefulShutdown {
            await engine.runScheduled(policy, trigger: trigger) { result in
                switch result {
                case .success(let report):
                    logger.info("sync \(report.outcome.rawValue)", metadata: ["manifest": "\(report.manifestSequence.map(String.init) ?? "-")"])
                    if report.outcome == .updated {
                        events.publish(AgentEvent(.listUpdated, ListUpdated(report)))
                    }
                case .failure(let error as SyncFailure):
                    logger.warning("sync failed", metadata: ["reason": "\(error.reason.rawValue)", "detail": "\(error.message)"])
                    events.publish(AgentEvent(.syncFailed, SyncFailed(reason: error.reason.rawValue, message: error.message)))
                case .failure(let error):
                    logger.error("sync failed", metadata: ["error": "\(error)"])
                    events.publish(AgentEvent(.syncFailed, SyncFailed(reason: "local", message: "\(error)")))
                }
            }
        }
    }

    struct ListUpdated: Encodable {
        var manifestSequence: Int64?
        var methods: [String: String]
        init(_ report: ListsSync.Report) {
            manifestSequence = report.manifestSequence
            methods = Dictionary(uniqueKeysWithValues: report.methods.map { ($0.key.rawValue, $0.value) })
        }
    }

    struct SyncFailed: Encodable {
        var reason: String
        var message: String
    }
}
