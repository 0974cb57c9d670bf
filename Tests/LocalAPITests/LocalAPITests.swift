import Central
import FieldWire
import Foundation
import Hummingbird
import HummingbirdTesting
import LocalAPI
import LocalAPIContract
import Store
import TestSupport
import Testing
import Watchlist

/// The local API in process (Hummingbird's router test client) over real lists.db and
/// journal.db files: routes, the contract's bodies, strict request reading and error codes.
@Suite("Local API in process")
struct LocalAPITests {
    static let issuedAt: Int64 = 1_795_700_000

    /// A terminal's stores with generated lists, and its API.
    struct World {
        let scratch: Scratch
        let journal: JournalStore
        let lists: ListsStore
        let api: LocalAPI
        let clock: ManualClock
        let photos: PhotoStore?
        let session: OfficerSession

        init(syncNow: (@Sendable () -> Int?)? = nil, photos photoCount: Int = 0) throws {
            scratch = try Scratch("api")
            let state = StateDirectory(path: scratch.path)
            try DatasetGenerator(counts: .init(records: 500), seed: 7, issuedAt: LocalAPITests.issuedAt, photos: photoCount).write(to: state.datasetURL)
            lists = try ListsStore.open(state)
            try lists.replaceAll(withDatasetAt: state.datasetURL)
            journal = try JournalStore.open(path: state.journalPath)
            let clock = ManualClock(nowMilliseconds: (LocalAPITests.issuedAt + 3_600) * 1000)
            photos = photoCount > 0 ? try PhotoStore(state: state, budgetBytes: 1 << 30) : nil
            let checker = Checker(lists: lists, journal: journal, clock: clock, photos: photos)
            self.clock = clock
            session = OfficerSession(unitId: "TPE-DA-01", lists: lists, journal: journal, clock: clock)
            api = LocalAPI(.init(lists: lists, journal: journal, checker: checker,
                                 session: session,
                                 events: EventHub(), stateDirectory: state.url.path, location: nil, syncNow: syncNow, clock: clock,
                                 photos: photos),
                           maxBodyBytes: 16_384)
        }

        /// Runs `body` against the API's router.
        func test(_ body: @escaping @Sendable (any TestClientProtocol) async throws -> Void) async throws {
            try await Application(router: api.router()).test(.router, body)
        }
    }

    static func json(_ text: String) -> ByteBuffer { ByteBuffer(string: text) }

    /// The demo roster's officer, PIN alone, allowed on TPE-DA-01.
    static let signIn = #"{"officerId":"\#(DemoRecords.officer.officerId)","pin":"\#(DemoRecords.officer.pin)"}"#

    static func decode<T: Decodable>(_ type: T.Type, _ response: TestResponse) throws -> T {
        try WireJSON.decode(type, from: Data(buffer: response.body))
    }

    static func error(_ response: TestResponse) throws -> APIErrorBody.Detail {
        try decode(APIErrorBody.self, response).error
    }

    @Test("a check needs a signed-in officer; then it answers as the CLI does and is journaled")
    func signInAndCheck() async throws {
        let world = try World()
        defer { world.scratch.remove() }
        try await world.test { client in
            try await client.execute(uri: "/v1/checks/plate", method: .post, body: Self.json(#"{"plate":"BLT-8023"}"#)) { response async throws in
                #expect(response.status == .forbidden)
                #expect(try Self.error(response).code == "session.none")
            }
            try await client.execute(uri: "/v1/session", method: .post, body: Self.json(Self.signIn)) { response async throws in
                #expect(response.status == .created)
                #expect(try Self.decode(SessionInfo.self, response).officerId == "OF-0042")
            }
            try await client.execute(uri: "/v1/checks/plate", method: .post, body: Self.json(#"{"plate":"blt 8023"}"#)) { response async throws in
                #expect(response.status == .ok)
                #expect(response.headers[.contentType] == "application/json")
                let answer = try Self.decode(CheckAnswer.self, response)
                #expect(answer.outcome == .hit)
                #expect(answer.officerId == "OF-0042")
                #expect(answer.unitId == "TPE-DA-01")
            }
            try await client.execute(uri: "/v1/checks/person", method: .post, body: Self.json(#"{"id":"\#(DemoRecords.wantedID)","purpose":"law-6-1"}"#)) { response async throws in
                #expect(try Self.decode(CheckAnswer.self, response).lists.first { $0.list == .wantedPersons }?.outcome == .hit)
            }
            try await client.execute(uri: "/v1/checks/person", method: .post,
                                     body: Self.json(#"{"name":"陳淑芬","dateOfBirth":"民國35年7月30日","purpose":"case","purposeReference":"1150001234"}"#)) { response async throws in
                #expect(try Self.decode(CheckAnswer.self, response).kind == .personName)
            }
            try await client.execute(uri: "/v1/checks/person", method: .post, body: Self.json(#"{"name":"陳淑芬"}"#)) { response async throws in
                #expect(response.status == .badRequest)
                #expect(try Self.error(response).code == "request.bad-combination")
            }
            try await client.execute(uri: "/v1/checks/vin", method: .post, body: Self.json(#"{"vin":"\#(DemoRecords.stolenVIN)"}"#)) { response async throws in
                #expect(try Self.decode(CheckAnswer.self, response).outcome == .hit)
            }
            try await client.execute(uri: "/v1/checks/engine", method: .post, body: Self.json(#"{"engineNumber":"AB"}"#)) { response async throws in
                #expect(response.status == .badRequest)
                let error = try Self.error(response)
                #expect(error.code == "input.wrong-length" && error.field == "engineNumber")
            }
            try await client.execute(uri: "/v1/status", method: .get) { response async throws in
                let status = try Self.decode(TerminalStatus.self, response)
                #expect(status.unit == "TPE-DA-01")
                #expect(status.officer?.officerId == "OF-0042")
                #expect(status.checkRecords == 4)
                #expect(status.lists.map(\.list) == ["stolen-vehicles", "wanted-persons", "missing-persons", "officers"], "no document lists carried")
                #expect(status.syncConfigured == false && status.uplinkConfigured == false)
                #expect(status.integrity == nil)
            }
            try await client.execute(uri: "/v1/session/sign-out", method: .post, body: ByteBuffer(string: "{}")) { response async throws in
                #expect(response.status == .unauthorized)
                #expect(try Self.error(response).code == "session.pin-required")
            }
            try await client.execute(uri: "/v1/session/sign-out", method: .post, body: Self.json(#"{"pin":"\#(DemoRecords.officer.pin)"}"#)) { response async throws in
                #expect(response.status == .noContent)
            }
            try await client.execute(uri: "/v1/session", method: .get) { response async throws in
                #expect(response.status == .notFound)
            }
        }
        #expect(try world.journal.checkCount() == 4, "refused entries are not checks")
    }

    @Test("GET /v1/photos/{sha256}: a held photo as image/jpeg with its ETag and immutable caching, 304 on a match; the officer signed in; 404 until it is on the device; 400 for a bad name")
    func photos() async throws {
        let world = try World(photos: 10)
        defer { world.scratch.remove() }
        let store = try #require(world.photos)
        let plan = try world.lists.photoPlan(region: nil)
        let held = plan[0], absent = plan[1]
        let source = DatasetGenerator.photoDirectory(StateDirectory(path: world.scratch.path).datasetURL)
        try FileManager.default.copyItem(at: source.appendingPathComponent("\(held.sha256).jpg"), to: store.partialURL(held.sha256))
        try store.admit(held.sha256, from: store.partialURL(held.sha256))
        try await world.test { client in
            try await client.execute(uri: "/v1/photos/\(held.sha256)", method: .get) { response async throws in
                #expect(response.status == .forbidden)
                #expect(try Self.error(response).code == "session.none")
            }
            try await client.execute(uri: "/v1/session", method: .post, body: Self.json(Self.signIn)) { _ async throws in }
            try await client.execute(uri: "/v1/photos/\(held.sha256)", method: .get) { response async throws in
                #expect(response.status == .ok)
                #expect(response.headers[.contentType] == "image/jpeg")
                #expect(response.headers[.eTag] == "\"\(held.sha256)\"")
                #expect(response.headers[.cacheControl]?.contains("immutable") == true)
                #expect(SHA256Hex.of(Data(buffer: response.body)) == held.sha256)
            }
            try await client.execute(uri: "/v1/photos/\(held.sha256)", method: .get, headers: [.ifNoneMatch: "\"\(held.sha256)\""]) { response async throws in
                #expect(response.status == .notModified)
                #expect(response.body.readableBytes == 0)
            }
            try await client.execute(uri: "/v1/photos/\(absent.sha256)", method: .get) { response async throws in
                #expect(response.status == .notFound)
                #expect(try Self.error(response).code == "photo.not-on-device")
            }
            try await client.execute(uri: "/v1/photos/\(held.sha256.uppercased())", method: .get) { response async throws in
                #expect(response.status == .badRequest)
                #expect(try Self.error(response).field == "sha256")
            }
            try await client.execute(uri: "/v1/status", method: .get) { response async throws in
                #expect(try Self.decode(TerminalStatus.self, response).photos == PhotoStatus(held: 1, bytes: Int64(held.bytes), budgetBytes: 1 << 30))
            }
        }
    }

    @Test("request bodies are read strictly: the first bad field is named with a stable code", arguments: [
        (#"{"plate":"ABC-1235","colour":"red"}"#, "request.unknown-field", "colour"),
        (#"{"plate":12}"#, "request.wrong-type", "plate"),
        (#"{"plate":null}"#, "request.missing-field", "plate"),
        (#"{}"#, "request.missing-field", "plate"),
        (#"{"plate":"ABC"#, "request.bad-json", nil),
        (#"["ABC-1235"]"#, "request.bad-json", nil),
        ("", "request.bad-json", nil),
    ] as [(String, String, String?)])
    func strictBodies(body: String, code: String, field: String?) async throws {
        let world = try World()
        defer { world.scratch.remove() }
        try await world.test { client in
            _ = try await client.execute(uri: "/v1/session", method: .post, body: Self.json(Self.signIn))
            try await client.execute(uri: "/v1/checks/plate", method: .post, body: Self.json(body)) { response async throws in
                #expect(response.status == .badRequest)
                let error = try Self.error(response)
                #expect(error.code == code)
                #expect(error.field == field)
            }
        }
    }

    @Test("errors of the other routes: unknown path, not configured, unknown dispatch, bad status, too large")
    func routeErrors() async throws {
        let world = try World()
        defer { world.scratch.remove() }
        try await world.test { client in
            try await client.execute(uri: "/v1/nothing", method: .get) { response async throws in
                #expect(response.status == .notFound)
                #expect(try Self.error(response).code == "request.not-found")
            }
            try await client.execute(uri: "/v1/location", method: .get) { response async throws in
                #expect(try Self.error(response).code == "gps.not-configured")
            }
            try await client.execute(uri: "/v1/sync", method: .post) { response async throws in
                #expect(response.status == .conflict)
                #expect(try Self.error(response).code == "sync.not-configured")
            }
            try await client.execute(uri: "/v1/health-report", method: .post) { response async throws in
                #expect(response.status == .conflict)
                #expect(try Self.error(response).code == "uplink.not-configured")
            }
            try await client.execute(uri: "/v1/dispatches/\(UUIDv7.make(milliseconds: 1))", method: .get) { response async throws in
                #expect(response.status == .notFound)
                #expect(try Self.error(response).code == "dispatch.unknown")
            }
            try await client.execute(uri: "/v1/dispatches/x/status", method: .post, body: Self.json(#"{"status":"flying"}"#)) { response async throws in
                #expect(response.status == .badRequest)
                let error = try Self.error(response)
                #expect(error.code == "request.bad-value" && error.field == "status")
            }
            let huge = #"{"plate":""# + String(repeating: "A", count: 40_000) + #""}"#
            try await client.execute(uri: "/v1/checks/plate", method: .post, body: Self.json(huge)) { response async throws in
                #expect(response.status == .contentTooLarge)
                #expect(try Self.error(response).code == "request.too-large")
            }
        }
    }

    @Test("HTTP as documented: 405 with Allow for a known path's wrong method, HEAD wherever GET is")
    func methods() async throws {
        let world = try World()
        defer { world.scratch.remove() }
        try await world.test { client in
            try await client.execute(uri: "/v1/checks/plate", method: .get) { response async throws in
                #expect(response.status == .methodNotAllowed)
                #expect(response.headers[.allow] == "POST")
                #expect(try Self.error(response).code == "request.method-not-allowed")
            }
            try await client.execute(uri: "/v1/session", method: .put) { response async throws in
                #expect(response.status == .methodNotAllowed)
                #expect(response.headers[.allow] == "GET, HEAD, POST")
            }
            try await client.execute(uri: "/v1/dispatches/\(UUIDv7.make(milliseconds: 1))/status", method: .get) { response async throws in
                #expect(response.headers[.allow] == "POST")
            }
            try await client.execute(uri: "/v1/status", method: .head) { response async throws in
                #expect(response.status == .ok)
                #expect(response.body.readableBytes == 0)
            }
            try await client.execute(uri: "/v1/nowhere", method: .put) { response async throws in
                #expect(response.status == .notFound)
            }
        }
    }

    @Test("sync-now while the sync backs off is 429 with Retry-After")
    func syncBackoff() async throws {
        let world = try World(syncNow: { 7 })
        defer { world.scratch.remove() }
        try await world.test { client in
            try await client.execute(uri: "/v1/sync", method: .post) { response async throws in
                #expect(response.status == .tooManyRequests)
                #expect(response.headers[.retryAfter] == "7")
                #expect(try Self.error(response).code == "sync.backoff")
            }
        }
    }

    @Test("unavailable lists: checks are 503 lists.unavailable with the reason, health is degraded, the rest serves")
    func listsUnavailable() async throws {
        let world = try World()
        defer { world.scratch.remove() }
        let lists = world.lists
        try await world.test { client in
            // Signed in while the roster could be read; the lists then fail.
            #expect(try await client.execute(uri: "/v1/session", method: .post, body: Self.json(Self.signIn)).status == .created)
            lists.markUnavailable("integrity check failed on lists-x.db: page 7 corrupt")
            try await client.execute(uri: "/v1/checks/plate", method: .post, body: Self.json(#"{"plate":"BLT-8023"}"#)) { response async throws in
                #expect(response.status == .serviceUnavailable)
                let error = try Self.error(response)
                #expect(error.code == "lists.unavailable")
                #expect(error.message.contains("page 7 corrupt"))
            }
            try await client.execute(uri: "/v1/health", method: .get) { response async throws in
                let health = try Self.decode(HealthResponse.self, response)
                #expect(health.status == "degraded")
                #expect(health.problems.map(\.code) == ["lists.unavailable"])
            }
            try await client.execute(uri: "/v1/status", method: .get) { response async throws in
                let status = try Self.decode(TerminalStatus.self, response)
                #expect(status.listsUnavailable?.contains("page 7") == true)
                #expect(status.summaryLine.hasPrefix("lists UNAVAILABLE"))
            }
            try await client.execute(uri: "/v1/dispatches", method: .get) { response async throws in
                #expect(response.status == .ok)
            }
        }
    }

    @Test("a dispatch goes received → en-route → cleared through the API, each change queued for the center")
    func dispatchLifecycle() async throws {
        let world = try World()
        defer { world.scratch.remove() }
        let id = UUIDv7.make(milliseconds: 1_795_700_000_000)
        _ = try world.journal.storeDispatches([DispatchOrder(id: id, cursor: 1, createdAt: "2026-11-27T00:00:00Z", priority: "urgent",
                                                             summary: "collision", latitude: nil, longitude: nil)],
                                             cursor: 1, location: .notAvailable, now: 1)
        try await world.test { client in
            _ = try await client.execute(uri: "/v1/session", method: .post, body: Self.json(Self.signIn))
            try await client.execute(uri: "/v1/dispatches", method: .get) { response async throws in
                #expect(try Self.decode(DispatchList.self, response).dispatches.map(\.order.id) == [id])
            }
            try await client.execute(uri: "/v1/dispatches/\(id)/status", method: .post, body: Self.json(#"{"status":"en-route"}"#)) { response async throws in
                #expect(try Self.decode(Dispatch.self, response).status == .enRoute)
            }
            try await client.execute(uri: "/v1/dispatches/\(id)/status", method: .post, body: Self.json(#"{"status":"received"}"#)) { response async throws in
                #expect(response.status == .conflict)
                #expect(try Self.error(response).code == "dispatch.invalid-transition")
            }
            try await client.execute(uri: "/v1/dispatches/\(id)/status", method: .post,
                                     body: Self.json(#"{"status":"cleared","disposition":"report taken"}"#)) { response async throws in
                let dispatch = try Self.decode(Dispatch.self, response)
                #expect(dispatch.history.map(\.status) == [.received, .enRoute, .cleared])
                #expect(dispatch.history.last?.officerId == "OF-0042")
            }
        }
        #expect(try world.journal.outboxStatus(now: 0).pendingByKind["dispatch-status"] == 3)
    }
}
