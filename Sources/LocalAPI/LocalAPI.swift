import FieldSync
import Foundation
import Hummingbird
import Location
import Logging
import NIOCore
import Store
import Watchlist

/// The terminal's local API for its front-end app: HTTP/1.1 + JSON over a Unix socket,
/// versioned under `/v1` (docs/api/openapi.yaml). Checks have the same semantics and JSON as
/// `mpolicectl`; errors are `APIError`s.
public struct LocalAPI: Sendable {
    /// What the API reads and drives; the agent composes it.
    public struct Dependencies: Sendable {
        public var lists: ListsStore
        public var journal: JournalStore
        public var checker: Checker
        public var session: OfficerSession
        public var events: EventHub
        /// The current location state; nil when location is not configured.
        public var location: (@Sendable () -> LocationState)?
        /// Requests a sync now; nil when sync is not configured.
        public var syncNow: (@Sendable () -> Void)?
        /// Whether items go up to a center (uplink.central).
        public var uplinkConfigured: Bool
        public var startedAt: Date
        /// Unix seconds.
        public var now: @Sendable () -> Int64

        public init(lists: ListsStore, journal: JournalStore, checker: Checker, session: OfficerSession, events: EventHub,
                    location: (@Sendable () -> LocationState)?, syncNow: (@Sendable () -> Void)?, uplinkConfigured: Bool = false,
                    startedAt: Date = Date(),
                    now: @escaping @Sendable () -> Int64 = { Int64(Date().timeIntervalSince1970) }) {
            self.lists = lists
            self.journal = journal
            self.checker = checker
            self.session = session
            self.events = events
            self.location = location
            self.syncNow = syncNow
            self.uplinkConfigured = uplinkConfigured
            self.startedAt = startedAt
            self.now = now
        }
    }

    public let dependencies: Dependencies
    public let maxBodyBytes: Int

    public init(_ dependencies: Dependencies, maxBodyBytes: Int) {
        self.dependencies = dependencies
        self.maxBodyBytes = maxBodyBytes
    }

    public func router() -> Router<BasicRequestContext> {
        let router = Router(context: BasicRequestContext.self)
        router.add(middleware: JSONErrorMiddleware())
        let v1 = router.group("v1")
        let d = dependencies
        let maxBody = maxBodyBytes

        v1.get("health") { _, _ in JSONBody.response(["status": "ok"]) }
        v1.get("status") { _, _ in try Self.status(d) }

        // Checks: a signed-in officer, strict bodies, the same answers as the CLI.
        v1.post("checks/plate") { request, _ in
            let body = try await JSONBody.object(request, maxBytes: maxBody, allowed: ["plate"])
            let plate = try JSONBody.string(body, "plate")!
            return try Self.check(d) { try d.checker.checkPlate(plate, context: $0) }
        }
        v1.post("checks/vin") { request, _ in
            let body = try await JSONBody.object(request, maxBytes: maxBody, allowed: ["vin"])
            let vin = try JSONBody.string(body, "vin")!
            return try Self.check(d) { try d.checker.checkVIN(vin, context: $0) }
        }
        v1.post("checks/engine") { request, _ in
            let body = try await JSONBody.object(request, maxBytes: maxBody, allowed: ["engineNumber"])
            let number = try JSONBody.string(body, "engineNumber")!
            return try Self.check(d) { try d.checker.checkEngineNumber(number, context: $0) }
        }
        v1.post("checks/person") { request, _ in
            let body = try await JSONBody.object(request, maxBytes: maxBody, allowed: ["id", "name", "dateOfBirth"])
            let id = try JSONBody.string(body, "id", required: false)
            let name = try JSONBody.string(body, "name", required: false)
            let dob = try JSONBody.string(body, "dateOfBirth", required: false)
            switch (id, name, dob) {
            case let (id?, nil, nil):
                return try Self.check(d) { try d.checker.checkPerson(id: id, context: $0) }
            case let (nil, name?, dob?):
                return try Self.check(d) { try d.checker.checkPerson(name: name, dateOfBirth: dob, context: $0) }
            default:
                throw APIError(.badRequest, "request.bad-combination", "give id, or name with dateOfBirth", field: id == nil ? "name" : "id")
            }
        }

        v1.get("location") { _, _ in
            guard let location = d.location else {
                throw APIError(.notFound, "gps.not-configured", "location is not configured on this terminal (gps.gpsd = off)")
            }
            return JSONBody.response(location())
        }

        // The officer session.
        v1.get("session") { _, _ in
            guard let session = d.session.signedIn else { throw APIError(.notFound, "session.none", "no officer is signed in") }
            return JSONBody.response(session)
        }
        v1.post("session") { request, _ in
            let body = try await JSONBody.object(request, maxBytes: maxBody, allowed: ["officerId"])
            let officer = try JSONBody.string(body, "officerId")!
            return JSONBody.response(try d.session.signIn(officer, at: d.now()), status: .created)
        }
        v1.delete("session") { _, _ in
            d.session.signOut()
            return Response(status: .noContent)
        }

        v1.post("sync") { _, _ in
            guard let syncNow = d.syncNow else {
                throw APIError(.conflict, "sync.not-configured", "sync is not configured on this terminal (sync.central)")
            }
            syncNow()
            return JSONBody.response(["requested": true], status: .accepted)
        }

        // Dispatches from the command center; status changes go to the center through the outbox.
        v1.get("dispatches") { _, _ in JSONBody.response(["dispatches": try d.journal.dispatches()]) }
        v1.get("dispatches/:id") { _, context in
            let id = try context.parameters.require("id")
            guard let dispatch = try d.journal.dispatch(id: id) else {
                throw DispatchError(code: .unknown, message: "no dispatch \(id) on this terminal")
            }
            return JSONBody.response(dispatch)
        }
        v1.post("dispatches/:id/status") { request, context in
            let id = try context.parameters.require("id")
            let body = try await JSONBody.object(request, maxBytes: maxBody, allowed: ["status", "disposition"])
            let raw = try JSONBody.string(body, "status")!
            guard let status = DispatchStatus(rawValue: raw) else {
                throw APIError(.badRequest, "request.bad-value",
                               "status must be one of \(DispatchStatus.allCases.map(\.rawValue).joined(separator: ", "))", field: "status")
            }
            let disposition = try JSONBody.string(body, "disposition", required: false)
            guard let context = try d.session.context() else {
                throw APIError(.forbidden, "session.none", "no officer is signed in (POST /v1/session; mpolicectl signin)")
            }
            let location = d.location?().forCheck ?? .notAvailable
            return JSONBody.response(try d.journal.changeDispatch(id, to: status, disposition: disposition, officerId: context.officerId,
                                                                  location: location, now: SystemWallClock().nowMilliseconds))
        }

        v1.get("events") { _, _ in Self.events(d.events) }
        return router
    }

    // MARK: Handlers

    static func check(_ d: Dependencies, _ body: (CheckContext) throws -> CheckAnswer) throws -> Response {
        guard let context = try d.session.context() else {
            throw APIError(.forbidden, "session.none", "no officer is signed in (POST /v1/session; mpolicectl signin)")
        }
        return JSONBody.response(try body(context))
    }

    struct Status: Encodable {
        var unit: String
        var uptimeSeconds: Int64
        var officer: OfficerSession.SignedIn?
        var lists: [ListStatus]
        var manifestSequence: Int64?
        var syncConfigured: Bool
        var lastSync: SyncAttempt?
        var uplinkConfigured: Bool
        var outbox: OutboxStatus
        var lastUpload: UploadSummary?
        var checkRecords: Int
        var location: LocationState?
    }

    static func status(_ d: Dependencies) throws -> Response {
        return JSONBody.response(Status(
            unit: d.session.unitId,
            uptimeSeconds: Int64(Date().timeIntervalSince(d.startedAt)),
            officer: d.session.signedIn,
            lists: try d.lists.statuses(at: d.now()),
            manifestSequence: try d.lists.syncState()?.manifestSequence,
            syncConfigured: d.syncNow != nil,
            lastSync: try d.journal.syncAttempts(limit: 1).first,
            uplinkConfigured: d.uplinkConfigured,
            outbox: try d.journal.outboxStatus(now: SystemWallClock().nowMilliseconds),
            lastUpload: try d.journal.lastUpload(),
            checkRecords: try d.journal.checkCount(),
            location: d.location?()))
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
