import FieldWire
import Foundation
import Testing
import Watchlist

/// The uplink's wire types: the batch the terminal assembles from stored payloads is the
/// Codable encoding byte for byte, and the center reads each item on its own.
@Suite("Uplink contract")
struct UplinkContractTests {
    static let check = CheckRecordPayload(CheckAnswer(
        checkId: UUIDv7.make(milliseconds: 1_795_700_000_000), checkedAt: "2026-11-27T02:30:00.000Z", kind: .plate,
        query: .init(normalized: "BLT8023", format: "current"),
        lists: [.init(list: .stolenVehicles, outcome: .hit, version: .init(version: 3, updatedAt: nil, ageSeconds: 40, stale: false, recordCount: 9),
                      matches: [.init(how: .exact, reason: .init(code: "plate.exact", message: "r"), record: .stolenVehicle(.init(
                          recordId: "SV\"1/\\x", plate: "BLT-8023", vehicleKind: "car", make: "M", model: "m", colour: "白", vin: nil,
                          engineNumber: nil, reportedAt: "t", caseNumber: "c", reportingUnit: "u")))])],
        warnings: [], officerId: "OF-1", unitId: "TPE-DA-01",
        location: CheckLocation(status: "3d", latitude: 25.0478123, longitude: 121.517, fixTime: "2026-11-27T02:29:59Z",
                                ageSeconds: 1.2345, horizontalError: 4.5)))

    static let payloads: [UplinkPayload] = [
        .check(check),
        .breadcrumb(BreadcrumbPayload(fixTime: "2026-11-27T02:30:00Z", latitude: -0.000001, longitude: 1e-7, speed: nil, track: 359.99,
                                      horizontalError: nil, mode: "2d")),
        .dispatchStatus(DispatchStatusPayload(dispatchId: UUIDv7.make(milliseconds: 5), sequence: 2, status: .cleared,
                                              disposition: "報案人 \"已離開\"\n\t\u{1}", at: "t", officerId: "OF-1", location: .notAvailable)),
    ]

    @Test("a batch assembled from stored payloads is byte for byte the Codable encoding of the same items")
    func assembledEqualsCodable() throws {
        let items = Self.payloads.enumerated().map { i, payload in
            UplinkItem(id: UUIDv7.make(milliseconds: Int64(i)), createdAt: 1_795_700_000_000 + Int64(i), attempt: i + 1, payload: payload)
        }
        let stored = items.map { UplinkBatch.StoredItem(id: $0.id, kind: $0.kind, createdAt: $0.createdAt, attempt: $0.attempt, payloadJSON: $0.payload.json) }
        let assembled = UplinkBatch.json(unit: "TPE-DA-01", items: stored)
        let codable = try WireJSON.encode(UplinkBatch(unit: "TPE-DA-01", items: items))
        #expect(String(decoding: assembled, as: UTF8.self) == String(decoding: codable, as: UTF8.self))
        // And it reads back as the same items.
        #expect(try WireJSON.decode(UplinkBatch.self, from: assembled) == UplinkBatch(unit: "TPE-DA-01", items: items))
    }

    @Test("a stored payload reads back by its kind as the same value")
    func payloadRoundTrip() throws {
        for payload in Self.payloads {
            #expect(try UplinkPayload.decode(kind: payload.kind, json: payload.json) == payload)
        }
    }

    @Test("the center refuses each malformed item on its own and reads the rest")
    func lenientBatch() throws {
        let good = UplinkItem(id: UUIDv7.make(milliseconds: 9), createdAt: 1, attempt: 1, payload: Self.payloads[1])
        let goodJSON = String(decoding: try WireJSON.encode(good), as: UTF8.self)
        let mismatch = #"{"attempt":1,"createdAt":1,"id":"\#(UUIDv7.make(milliseconds: 1))","kind":"check","payload":\#(Self.payloads[0].json)}"#
        let body = """
            {"unit":"U","items":[\(goodJSON),
             {"kind":"check"},
             {"id":"not-a-uuid","kind":"check","createdAt":1,"attempt":1,"payload":{}},
             {"id":"\(UUIDv7.make(milliseconds: 2))","kind":"teleport","createdAt":1,"attempt":1,"payload":{}},
             {"id":"\(UUIDv7.make(milliseconds: 3))","kind":"breadcrumb","createdAt":1,"attempt":1,"payload":{"fixTime":"t"}},
             \(mismatch)]}
            """
        let batch = try WireJSON.decode(ReceivedBatch.self, from: Data(body.utf8))
        #expect(batch.unit == "U")
        #expect(batch.items.count == 6)
        #expect(try batch.items[0].get() == good)
        let reasons = batch.items.dropFirst().map { result -> String in
            if case .failure(let refusal) = result { return String(refusal.reason.prefix { $0 != ":" }) }
            return "accepted"
        }
        #expect(reasons == ["item.bad-format", "item.bad-id", "item.bad-kind", "item.bad-format", "check.id-mismatch"])
        if case .failure(let refusal) = batch.items[4] { #expect(refusal.reason.contains("latitude")) }
    }

    @Test("outbox priorities: hits, dispatch status, other checks, breadcrumbs")
    func priorities() {
        #expect(OutboxKind.check.priority(hit: true) < OutboxKind.dispatchStatus.priority())
        #expect(OutboxKind.dispatchStatus.priority() < OutboxKind.check.priority())
        #expect(OutboxKind.check.priority() < OutboxKind.breadcrumb.priority())
    }

    @Test("ids are version-7 UUIDs, time-ordered, and never repeat")
    func ids() {
        let ids = (0..<10_000).map { UUIDv7.make(milliseconds: 1_795_700_000_000 + Int64($0 / 10)) }
        #expect(ids.allSatisfy(UUIDv7.isValid))
        #expect(Set(ids).count == ids.count)
        #expect(UUIDv7.make(milliseconds: 1) < UUIDv7.make(milliseconds: 2))
        #expect(!UUIDv7.isValid("01937a00-0000-4000-8000-000000000001"), "version 4")
    }
}
