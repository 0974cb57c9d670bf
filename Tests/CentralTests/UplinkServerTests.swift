@testable import Central
import FieldWire
import Foundation
import Hummingbird
import HummingbirdTesting
import TestSupport
import Testing
import Watchlist

/// The reference center's uplink endpoint in process: the unit from the certificate headers
/// nginx sets, per-item answers, dispatches by long poll.
@Suite("Reference center: uplink endpoint")
struct UplinkServerTests {
    static func headers(dn: String = "CN=unit-TPE-DA-01,O=NPA", verify: String = "SUCCESS") -> HTTPFields {
        [.init("X-Client-Verify")!: verify, .init("X-Client-DN")!: dn, .contentType: "application/json"]
    }

    static func breadcrumb(_ id: String) -> UplinkItem {
        UplinkItem(id: id, createdAt: 1, attempt: 1, payload: .breadcrumb(BreadcrumbPayload(
            fixTime: "2026-11-27T00:00:00Z", latitude: 25, longitude: 121.5, speed: nil, track: nil, horizontalError: 3, mode: "3d")))
    }

    static func body(_ batch: UplinkBatch) throws -> ByteBuffer { ByteBuffer(data: try WireJSON.encode(batch)) }

    @Test("items are stored once per id; a resend is answered duplicate; malformed items are refused one by one", arguments: CenterEngine.allCases)
    func ingest(engine: CenterEngine) async throws {
        let scratch = try Scratch("central")
        defer { scratch.remove() }
        let database = try engine.database(scratch)
        let items = (1...3).map { Self.breadcrumb(UUIDv7.make(milliseconds: Int64($0))) }
        try await Application(router: UplinkServer(database: database).router()).test(.router) { client in
            try await client.execute(uri: "/uplink/items", method: .post, headers: Self.headers(),
                                     body: try Self.body(UplinkBatch(unit: "TPE-DA-01", items: items))) { response async throws in
                #expect(response.status == .ok)
                let answer = try WireJSON.decode(UplinkAnswer.self, from: Data(buffer: response.body))
                #expect(answer.results.map(\.status) == [.accepted, .accepted, .accepted])
            }
            try await client.execute(uri: "/uplink/items", method: .post, headers: Self.headers(),
                                     body: try Self.body(UplinkBatch(unit: "TPE-DA-01", items: [items[0]]))) { response async throws in
                let answer = try WireJSON.decode(UplinkAnswer.self, from: Data(buffer: response.body))
                #expect(answer.results.map(\.status) == [.duplicate])
            }
            let bad = #"{"unit":"TPE-DA-01","items":[{"id":"x","kind":"breadcrumb","createdAt":1,"attempt":1,"payload":{}}]}"#
            try await client.execute(uri: "/uplink/items", method: .post, headers: Self.headers(), body: ByteBuffer(string: bad)) { response async throws in
                let answer = try WireJSON.decode(UplinkAnswer.self, from: Data(buffer: response.body))
                #expect(answer.results.first?.status == .rejected)
                #expect(answer.results.first?.reason?.hasPrefix("item.bad-id") == true)
            }
            try await client.execute(uri: "/uplink/items", method: .post, headers: Self.headers(), body: ByteBuffer(string: "[1,2]")) { response async throws in
                #expect(response.status == .unprocessableContent)
            }
        }
        #expect(try database.records().map(\.id) == items.map(\.id))
        #expect(try database.records(kind: .breadcrumb).first?.payload == items[0].payload)
    }

    @Test("ids are unique per unit: another unit's item with the same id is its own; a check naming another unit is refused", arguments: CenterEngine.allCases)
    func perUnit(engine: CenterEngine) async throws {
        let scratch = try Scratch("central")
        defer { scratch.remove() }
        let database = try engine.database(scratch)
        let id = UUIDv7.make(milliseconds: 1)
        try await Application(router: UplinkServer(database: database).router()).test(.router) { client in
            for (unit, dn) in [("TPE-DA-01", "CN=unit-TPE-DA-01"), ("KHH-ZY-07", "CN=unit-KHH-ZY-07")] {
                try await client.execute(uri: "/uplink/items", method: .post, headers: Self.headers(dn: dn),
                                         body: try Self.body(UplinkBatch(unit: unit, items: [Self.breadcrumb(id)]))) { response async throws in
                    let answer = try WireJSON.decode(UplinkAnswer.self, from: Data(buffer: response.body))
                    #expect(answer.results.map(\.status) == [.accepted], "\(unit)")
                }
            }
            // A record made to look like another unit's check, sent under this unit's certificate.
            var payload = try WireJSON.decode(CheckRecordPayload.self, from: Data(#"{"checkId":"x","checkedAt":"t","officerId":"OF","unitId":"KHH-ZY-07","kind":"plate","query":"Q","outcome":"no-hit","matches":[],"listVersions":{},"location":{"status":"not-available"}}"#.utf8))
            let checkID = UUIDv7.make(milliseconds: 2)
            payload.checkId = checkID
            let check = UplinkItem(id: checkID, createdAt: 1, attempt: 1, payload: .check(payload))
            try await client.execute(uri: "/uplink/items", method: .post, headers: Self.headers(),
                                     body: try Self.body(UplinkBatch(unit: "TPE-DA-01", items: [check]))) { response async throws in
                let answer = try WireJSON.decode(UplinkAnswer.self, from: Data(buffer: response.body))
                #expect(answer.results.first?.status == .rejected)
                #expect(answer.results.first?.reason?.hasPrefix("check.unit-mismatch") == true)
            }
        }
        #expect(try database.records().map(\.unit) == ["TPE-DA-01", "KHH-ZY-07"])
    }

    @Test("subjects parsed as distinguished names: escapes, multi-valued names, several CNs", arguments: [
        ("CN=unit-TPE-DA-01,O=NPA,C=TW", "TPE-DA-01"),
        ("O=NPA+OU=Traffic,cn=unit-KHH-ZY-07", "KHH-ZY-07"),
        ("CN=unit-TPE-DA-01\\,O=x", nil),
        ("CN=unit-TPE-DA-01\\2C", nil),
        ("CN=unit-A,CN=unit-B", nil),
        ("O=NPA", nil),
        ("CN=unit-", nil),
        ("CN=unit-A B", nil),
        ("CN=unit-A\\", nil),
    ] as [(String, String?)])
    func subjects(dn: String, unit: String?) throws {
        let request = Request(head: HTTPRequest(method: .post, scheme: nil, authority: nil, path: "/uplink/items", headerFields: Self.headers(dn: dn)),
                              body: .init(buffer: ByteBuffer()))
        if let unit {
            #expect(try UplinkServer.unit(request) == unit)
        } else {
            #expect(throws: HTTPError.self) { try UplinkServer.unit(request) }
        }
    }

    @Test("no verified certificate, a CN that is not a unit, or a batch for another unit: 403", arguments: CenterEngine.allCases)
    func identity(engine: CenterEngine) async throws {
        let scratch = try Scratch("central")
        defer { scratch.remove() }
        let database = try engine.database(scratch)
        let batch = try Self.body(UplinkBatch(unit: "TPE-DA-01", items: [Self.breadcrumb(UUIDv7.make(milliseconds: 1))]))
        try await Application(router: UplinkServer(database: database).router()).test(.router) { client in
            for headers in [Self.headers(verify: "NONE"), Self.headers(dn: "CN=somebody,O=NPA"), Self.headers(dn: "CN=unit-KHH-ZY-07")] {
                try await client.execute(uri: "/uplink/items", method: .post, headers: headers, body: batch) { response async throws in
                    #expect(response.status == .forbidden)
                }
            }
        }
        #expect(try database.records().isEmpty)
    }

    @Test("a dispatch poll answers at once with what is queued after the cursor, or empty after the wait", arguments: CenterEngine.allCases)
    func dispatchPoll(engine: CenterEngine) async throws {
        let scratch = try Scratch("central")
        defer { scratch.remove() }
        let database = try engine.database(scratch)
        let order = try database.createDispatch(unit: "TPE-DA-01", priority: "urgent", summary: "collision", latitude: 25, longitude: 121,
                                                now: 1_795_700_000_000)
        _ = try database.createDispatch(unit: "KHH-ZY-07", priority: "routine", summary: "other unit", latitude: nil, longitude: nil, now: 1)
        try await Application(router: UplinkServer(database: database).router()).test(.router) { client in
            try await client.execute(uri: "/uplink/dispatches?after=0&wait=5", method: .get, headers: Self.headers()) { response async throws in
                let poll = try WireJSON.decode(DispatchPoll.self, from: Data(buffer: response.body))
                #expect(poll.dispatches == [order])
                #expect(poll.cursor == order.cursor)
            }
            try await client.execute(uri: "/uplink/dispatches?after=\(order.cursor)&wait=0", method: .get, headers: Self.headers()) { response async throws in
                let poll = try WireJSON.decode(DispatchPoll.self, from: Data(buffer: response.body))
                #expect(poll.dispatches.isEmpty)
                #expect(poll.cursor == order.cursor)
            }
        }
    }
}
