import FieldWire
import Foundation
import Hummingbird
import LocalAPIContract
import NIOCore
import Store
import Watchlist

/// The terminal's local API for its front-end app: HTTP/1.1 + JSON over a Unix socket,
/// versioned under `/v1` (docs/api/openapi.yaml). Request and response bodies are the
/// `LocalAPIContract` types its clients share; checks have the same semantics and JSON as
/// `mpolicectl`; errors are `APIError`s.
public struct LocalAPI: Sendable {
    /// What the API reads and drives; the agent composes it.
    public struct Dependencies: Sendable {
        public var lists: ListsStore
        public var journal: JournalStore
        public var checker: Checker
        public var session: OfficerSession
        public var events: EventHub
        public var stateDirectory: String
        /// The current location state; nil when location is not configured.
        public var location: (@Sendable () -> LocationState)?
        /// Requests a sync now: nil when requested, else the seconds to wait (the sync is
        /// backing off); nil itself when sync is not configured.
        public var syncNow: (@Sendable () -> Int?)?
        /// Whether items go up to a center (uplink.central).
        public var uplinkConfigured: Bool
        public var clock: any TerminalClock
        /// The purpose codes checks may give (`checks.purposes`).
        public var purposes: CheckPurpose.Codes
        /// The lost-terminal protections (nil: not composed, as in some tests).
        public var protection: ProtectionControls?
        /// The photo cache (nil: photos not configured).
        public var photos: PhotoStore?
        /// Queues a health report for the center now (nil: no uplink configured).
        public var healthReport: (@Sendable () throws -> HealthReport)?

        public init(lists: ListsStore, journal: JournalStore, checker: Checker, session: OfficerSession, events: EventHub,
                    stateDirectory: String, location: (@Sendable () -> LocationState)?, syncNow: (@Sendable () -> Int?)?,
                    uplinkConfigured: Bool = false, clock: any TerminalClock = SystemClock(), purposes: CheckPurpose.Codes = .standard,
                    protection: ProtectionControls? = nil, photos: PhotoStore? = nil,
                    healthReport: (@Sendable () throws -> HealthReport)? = nil) {
            self.healthReport = healthReport
            self.protection = protection
            self.photos = photos
            self.lists = lists
            self.journal = journal
            self.checker = checker
            self.session = session
            self.events = events
            self.stateDirectory = stateDirectory
            self.location = location
            self.syncNow = syncNow
            self.uplinkConfigured = uplinkConfigured
            self.clock = clock
            self.purposes = purposes
        }
    }

    public let dependencies: Dependencies
    public let maxBodyBytes: Int
    /// When a request last came in.
    public let activity: APIActivity
    /// Monotonic milliseconds at start (uptime).
    private let startedAt: Int64

    public init(_ dependencies: Dependencies, maxBodyBytes: Int) {
        self.dependencies = dependencies
        self.maxBodyBytes = maxBodyBytes
        activity = APIActivity(clock: dependencies.clock)
        startedAt = dependencies.clock.monotonicMilliseconds
    }

    public func router() -> Router<APIRequestContext> {
        // HEAD is answered wherever GET is; a known path with another method is 405 + Allow.
        let router = Router(context: APIRequestContext.self, options: .autoGenerateHeadEndpoints)
        let routes = RouteTable()
        router.add(middleware: ActivityMiddleware(activity: activity))
        router.add(middleware: JSONErrorMiddleware(routes: routes))
        if let protection = dependencies.protection { router.add(middleware: TerminalLockMiddleware(protection: protection)) }
        let v1 = RecordedRoutes(group: router.group("v1"), prefix: "/v1", table: routes)
        let d = dependencies
        let body = RequestReader(maxBytes: maxBodyBytes)

        v1.get("health") { _, _ in
            JSONBody.response(HealthResponse(storageFull: d.journal.storageFull, listsUnavailable: d.lists.unavailableReason))
        }
        let startedAt = startedAt
        v1.get("status") { _, _ in JSONBody.response(try Self.status(d, startedAt: startedAt)) }

        // Checks: a signed-in, unlocked officer, strict bodies, the same answers as the CLI.
        v1.post("checks/plate") { request, context in
            let plate = try await body.read(PlateCheckRequest.self, request, logger: context.logger)
            return try Self.check(.plate(plate.plate), purpose: plate, language: request.language, d)
        }
        v1.post("checks/vin") { request, context in
            let vin = try await body.read(VINCheckRequest.self, request, logger: context.logger)
            return try Self.check(.vin(vin.vin), purpose: vin, language: request.language, d)
        }
        v1.post("checks/engine") { request, context in
            let engine = try await body.read(EngineCheckRequest.self, request, logger: context.logger)
            return try Self.check(.engineNumber(engine.engineNumber), purpose: engine, language: request.language, d)
        }
        v1.post("checks/person") { request, context in
            let person = try await body.read(PersonCheckRequest.self, request, logger: context.logger)
            guard let query = person.query else {
                throw APIError(.badRequest, "request.bad-combination", "give id, or name with dateOfBirth", field: person.id == nil ? "name" : "id")
            }
            return try Self.check(query, purpose: person, language: request.language, d)
        }
        v1.post("checks/licence") { request, context in
            let licence = try await body.read(LicenceCheckRequest.self, request, logger: context.logger)
            return try Self.check(.licence(licence.id), purpose: licence, language: request.language, d)
        }

        // The signed-in officer's own checks (the screen's history), newest first, by pages.
        v1.get("checks") { request, _ in
            let officer = try d.session.context()
            let query = request.uri.queryParameters
            let limitText = query.get("limit") ?? "20"
            guard let limit = Int(limitText), (1...100).contains(limit) else {
                throw APIError(.badRequest, "request.bad-value", "limit must be 1 to 100", field: "limit")
            }
            let before = query.get("before")
            if let before, before.range(of: "^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$", options: .regularExpression) == nil {
                throw APIError(.badRequest, "request.bad-value", "before must be a check id from an earlier page", field: "before")
            }
            let checks = try d.journal.recentChecks(limit: limit + 1, officerId: officer.officerId, before: before)
            return JSONBody.response(CheckHistory(checks: Array(checks.prefix(limit)), next: checks.count > limit ? checks[limit - 1].checkId : nil))
        }

        // A listed person's photo, by content: only what the store holds and has just checked
        // against its name; for a signed-in officer, like the answers that name it.
        v1.get("photos/:sha256") { request, context in
            let sha = try context.parameters.require("sha256")
            guard PhotoReference.isSHA256(sha) else {
                throw APIError(.badRequest, "request.bad-value", "a photo is named by 64 lower-case hex digits (its SHA-256)", field: "sha256")
            }
            guard let photos = d.photos else {
                throw APIError(.notFound, "photo.not-configured", "photos are not configured on this terminal: they come with the sync (sync.central)")
            }
            _ = try d.session.context()
            return try Self.photo(sha, photos, ifNoneMatch: request.headers[.ifNoneMatch])
        }

        v1.get("location") { _, _ in
            guard let location = d.location else {
                throw APIError(.notFound, "gps.not-configured", "location is not configured on this terminal (gps.gpsd = off)")
            }
            return JSONBody.response(location())
        }

        // The officer session: verified offline against the roster; root is a technician.
        v1.get("session") { _, _ in
            guard let session = d.session.current else { throw APIError(.notFound, "session.none", "no officer is signed in") }
            return JSONBody.response(session)
        }
        v1.post("session") { request, context in
            let signIn = try await body.read(SessionRequest.self, request, logger: context.logger)
            let session = try await d.session.signIn(signIn.officerId, pin: signIn.pin, otp: signIn.otp, currentPin: signIn.currentPin,
                                                     by: context.actor)
            return JSONBody.response(session, status: .created)
        }
        v1.post("session/unlock") { request, context in
            let unlock = try await body.read(SessionPINRequest.self, request, logger: context.logger)
            return JSONBody.response(try await d.session.unlock(pin: unlock.pin, by: context.actor))
        }
        v1.post("session/sign-out") { request, context in
            let signOut = try await body.read(SessionPINRequest.self, request, logger: context.logger)
            try await d.session.signOut(pin: signOut.pin, by: context.actor)
            return Response(status: .noContent)
        }

        v1.post("sync") { _, _ in
            guard let syncNow = d.syncNow else {
                throw APIError(.conflict, "sync.not-configured", "sync is not configured on this terminal (sync.central)")
            }
            if let wait = syncNow() {
                throw APIError(.tooManyRequests, "sync.backoff",
                               "the sync is backing off after a failure, or was asked for moments ago: try again in \(wait) s", retryAfter: wait)
            }
            return JSONBody.response(SyncRequested(), status: .accepted)
        }

        // A health report for the center's fleet view, now (`mpolicectl diag --upload`).
        v1.post("health-report") { _, _ in
            guard let healthReport = d.healthReport else {
                throw APIError(.conflict, "uplink.not-configured", "the uplink is not configured on this terminal (uplink.central): no report can reach the center")
            }
            return JSONBody.response(try healthReport(), status: .created)
        }

        // Dispatches from the command center; status changes go to the center through the outbox.
        v1.get("dispatches") { _, _ in JSONBody.response(DispatchList(dispatches: try d.journal.dispatches())) }
        v1.get("dispatches/:id") { _, context in
            let id = try context.parameters.require("id")
            guard let dispatch = try d.journal.dispatch(id: id) else {
                throw DispatchError(.unknown, "no dispatch \(id) on this terminal")
            }
            return JSONBody.response(dispatch)
        }
        v1.post("dispatches/:id/status") { request, context in
            let id = try context.parameters.require("id")
            let change = try await body.read(DispatchStatusRequest.self, request, logger: context.logger)
            // The center's own statuses (cancelled, reassigned) are no request's.
            let known: [DispatchStatus] = [.received] + DispatchStatus.officerSettable
            guard let status = DispatchStatus(rawValue: change.status), known.contains(status) else {
                throw APIError(.badRequest, "request.bad-value", "status must be one of \(known.map(\.rawValue).joined(separator: ", "))",
                               field: "status")
            }
            let officer = try d.session.context()
            let location = d.location?().forCheck ?? .notAvailable
            return JSONBody.response(try d.journal.changeDispatch(id, to: status, disposition: change.disposition, officerId: officer.officerId,
                                                                  unitId: officer.unitId, location: location, now: d.clock.nowMilliseconds))
        }

        Self.fieldOperationRoutes(v1, body, d)
        Self.bulletinRoutes(v1, body, d)

        v1.get("events") { _, _ in Self.events(d.events) }

        // Lost-terminal orders: anyone allowed on the socket may hand one in (its signature is
        // what counts); a technician (root) may lift an order's lock at the terminal.
        v1.post("orders") { request, context in
            guard let protection = d.protection else {
                throw APIError(.conflict, "order.not-configured", "this daemon does not take orders")
            }
            let envelope = try await body.read(SignedEnvelope.self, request, logger: context.logger)
            let result = await protection.submit(envelope)
            guard result.outcome == "executed" else {
                let status: HTTPResponse.Status = switch result.reason {
                case "order.local-fault": .internalServerError
                case "order.unverifiable": .serviceUnavailable
                default: .forbidden
                }
                throw APIError(status, result.reason ?? "order.refused", result.message ?? "the order was refused")
            }
            return JSONBody.response(result)
        }
        v1.post("terminal/unlock") { _, context in
            guard let protection = d.protection else {
                throw APIError(.conflict, "order.not-configured", "this daemon does not take orders")
            }
            guard context.actor == .technician else {
                throw APIError(.forbidden, "terminal.technician-only", "only a technician (root at the terminal) lifts an order's lock; or the center sends unlock")
            }
            try protection.liftLock()
            return Response(status: .noContent)
        }
        return router
    }

    // MARK: Handlers

    static func check(_ query: CheckQuery, purpose: some PurposeCarrying, language: MessageLanguage, _ d: Dependencies) throws -> Response {
        let session: CheckContext
        do {
            session = try d.session.context()
        } catch let error as SessionError where error.code == .none {
            // Nobody can sign in while the roster (in the lists) is unreadable: say why.
            if let reason = d.lists.unavailableReason { throw StoreError(.unavailable, reason) }
            throw error
        }
        var context = try session.with(purpose: purpose.checkPurpose(d.purposes))
        context.language = language
        context.incidentId = d.journal.openIncidentId()
        return JSONBody.response(try d.checker.check(query, context: context))
    }

    /// A verified photo: immutable (named by its content), so cached for good by the
    /// client; a matching `If-None-Match` is answered 304.
    static func photo(_ sha: String, _ photos: PhotoStore, ifNoneMatch: String?) throws -> Response {
        let etag = "\"\(sha)\""
        var headers: HTTPFields = [.eTag: etag, .cacheControl: "private, max-age=31536000, immutable", .xContentTypeOptions: "nosniff"]
        if let ifNoneMatch, ifNoneMatch.split(separator: ",").contains(where: { $0.trimmingCharacters(in: .whitespaces) == etag }),
           photos.contains(sha) {
            return Response(status: .notModified, headers: headers)
        }
        guard let data = photos.photo(sha) else {
            throw APIError(.notFound, "photo.not-on-device",
                           "photo \(sha.prefix(12))… is not on this terminal (yet): it is fetched when the link allows (event photo-available)")
        }
        headers[.contentType] = "image/jpeg"
        return Response(status: .ok, headers: headers, body: ResponseBody(byteBuffer: ByteBuffer(bytes: data)))
    }

    static func status(_ d: Dependencies, startedAt: Int64) throws -> TerminalStatus {
        var status = try TerminalStatus.read(lists: d.lists, journal: d.journal, stateDirectory: d.stateDirectory, clock: d.clock)
        status.unit = d.session.unitId
        status.uptimeSeconds = (d.clock.monotonicMilliseconds - startedAt) / 1000
        status.officer = d.session.current
        status.syncConfigured = d.syncNow != nil
        status.uplinkConfigured = d.uplinkConfigured
        status.location = d.location?()
        status.protection = d.protection?.status()
        status.photos = d.photos?.status
        return status
    }

    /// `text/event-stream`: a comment first (so a client knows it is connected), then one
    /// `event:`/`data:` block per event, and a keep-alive comment every 15 s. Ends when the
    /// client goes away or the daemon shuts down.
    static func events(_ hub: EventHub, keepAlive: Duration = .seconds(15)) -> Response {
        let subscription = hub.subscribe()
        return Response(
            status: .ok,
            headers: [.contentType: "text/event-stream", .cacheControl: "no-store"],
            body: ResponseBody { writer in
                // Events and keep-alives merge into one stream the writer drains.
                let (chunks, feed) = AsyncStream.makeStream(of: String.self, bufferingPolicy: .bufferingNewest(EventHub.bufferPerSubscriber))
                let forward = Task {
                    for await event in subscription { feed.yield("event: \(event.name.rawValue)\ndata: \(event.data)\n\n") }
                    feed.finish()
                }
                let tick = Task {
                    while (try? await Task.sleep(for: keepAlive)) != nil { feed.yield(": keep-alive\n\n") }
                }
                defer {
                    forward.cancel()
                    tick.cancel()
                }
                try await writer.write(ByteBuffer(string: ": connected\n\n"))
                for await chunk in chunks { try await writer.write(ByteBuffer(string: chunk)) }
                try await writer.finish(nil)
            })
    }
}
