@testable import Central
import FieldWire
import Foundation
import Hummingbird
import HummingbirdTesting
import TestSupport
import Testing
import Watchlist

/// Bulletins and hit confirmation at the reference center: bulletins pushed by region over
/// the long poll and listed in the manifest; confirmation requests answered from the
/// center's records as last published.
@Suite("Reference center: bulletins and hit confirmation")
struct BulletinCenterTests {
    static let now: Int64 = 1_795_700_000

    struct World {
        let scratch: Scratch
        let database: UplinkDatabase
        let keys: CentralKeys
        let publisher: Publisher
        let dataset: URL

        init(_ engine: CenterEngine) throws {
            scratch = try Scratch("central-bulletins")
            database = try engine.database(scratch)
            let keysDirectory = scratch.url.appendingPathComponent("keys")
            keys = try CentralKeys.initialise(in: keysDirectory, now: BulletinCenterTests.now, validFor: 86_400 * 30)
            publisher = Publisher(directory: scratch.url.appendingPathComponent("published"), keysDirectory: keysDirectory)
            dataset = scratch.url.appendingPathComponent("dataset")
            try DatasetGenerator(counts: .init(records: 500), seed: 3, issuedAt: BulletinCenterTests.now).write(to: dataset)
        }

        func publish(at now: Int64 = BulletinCenterTests.now) throws -> Publisher.Report {
            try publisher.publish(dataset: dataset, now: now, validFor: 86_400, keepDeltas: 5, center: database)
        }
    }

    static func request(_ matches: [CheckRecordPayload.Match], unit: String = "TPE-DA-01") -> Result<UplinkItem, ItemRefusal> {
        let id = UUIDv7.make(milliseconds: now * 1000)
        let request = HitConfirmationRequest(requestId: id, checkId: UUIDv7.make(milliseconds: now * 1000 - 5), kind: "plate", query: "BLT8023",
                                             matches: matches, urgent: true, requestedAt: "2026-12-04T08:00:00Z",
                                             deadline: "2026-12-04T08:10:00Z", officerId: "OF-0001", unitId: unit)
        return .success(UplinkItem(id: id, createdAt: now * 1000, attempt: 1, payload: .hitConfirmation(request)))
    }

    static func ids(_ envelopes: [SignedEnvelope]) -> [String] {
        envelopes.compactMap { Data(base64Encoded: $0.payload).flatMap { try? WireJSON.decode(Bulletin.self, from: $0) }?.id }
    }

    @Test("a confirmation is answered from the published records: still active with the record, no longer active once withdrawn, not found", arguments: CenterEngine.allCases)
    func confirmation(engine: CenterEngine) throws {
        let w = try World(engine)
        defer { w.scratch.remove() }
        try w.publish()
        #expect(try w.database.activeRecordCount(.stolenVehicles) > 0)
        let stolen = try #require(try Dataset.readRows(.stolenVehicles, from: w.dataset).first { $0.recordId == "SV00000000" })

        let match = CheckRecordPayload.Match(list: "stolen-vehicles", recordId: stolen.recordId, how: "exact")
        let unknown = CheckRecordPayload.Match(list: "wanted-persons", recordId: "WP-NOSUCH", how: "exact")
        _ = try w.database.ingest(unit: "TPE-DA-01", [Self.request([match, unknown])], now: Self.now * 1000)
        let first = try #require(try w.database.confirmations(unit: "TPE-DA-01", after: 0).first)
        #expect(first.state == .stillActive)
        #expect(first.records.map(\.state) == [.stillActive, .notFound])
        #expect(first.records[0].fields?["plate"] == "BLT8023" && first.records[0].fields?["make"] != nil)
        #expect(try w.database.confirmations(unit: "KHH-ZY-07", after: 0).isEmpty, "answers go to the unit that asked")

        // The car is recovered: the next publication withdraws it.
        try StolenVehicleEdits.apply(to: w.dataset) { _, _, line in line.contains(",\(DemoRecords.stolenPlate),") ? .drop : .keep }
        let report = try w.publish(at: Self.now + 60)
        #expect(report.changes[.stolenVehicles]?.deletes == 1)
        let request = Self.request([match])
        _ = try w.database.ingest(unit: "TPE-DA-01", [request], now: Self.now * 1000 + 60_000)
        let second = try #require(try w.database.confirmations(unit: "TPE-DA-01", after: first.cursor).first)
        #expect(second.state == .noLongerActive && second.records[0].since == Timestamp.iso8601(milliseconds: (Self.now + 60) * 1000))
        #expect(second.records[0].fields?["plate"] == "BLT8023", "as it was")
        // The same request delivered again is answered once.
        _ = try w.database.ingest(unit: "TPE-DA-01", [request], now: Self.now * 1000 + 61_000)
        #expect(try w.database.confirmations(unit: "TPE-DA-01", after: 0).count == 2)
    }

    @Test("bulletins are pushed by region, by serial, and listed in the next manifest while unexpired", arguments: CenterEngine.allCases)
    func pushAndManifest(engine: CenterEngine) async throws {
        let w = try World(engine)
        defer { w.scratch.remove() }
        // The poll judges expiry by the center's clock: bulletins issued now.
        let now = SystemClock().nowSeconds
        let taipei = try w.database.createBulletin(subject: .plate("ABC-1234"), region: "臺北", summary: "robbery getaway car", validFor: 3_600,
                                                   key: w.keys.manifestKey, now: now)
        let kaohsiung = try w.database.createBulletin(subject: .personID("A123456789"), region: "高雄", summary: "missing child",
                                                      validFor: 3_600, key: w.keys.manifestKey, now: now)
        let everywhere = try w.database.createBulletin(subject: .person(name: "王小明", dateOfBirth: "1990-01-02"), region: nil,
                                                       summary: "escaped prisoner", validFor: 60, key: w.keys.manifestKey, now: now)
        #expect([taipei.serial, kaohsiung.serial, everywhere.serial] == [1, 2, 3])

        let forTaipei = try w.database.bulletins(after: 0, region: "臺北", now: now)
        #expect(Self.ids(forTaipei.envelopes) == [taipei.id, everywhere.id] && forTaipei.cursor == 3)
        #expect(Self.ids(try w.database.bulletins(after: 1, region: "臺北", now: now).envelopes) == [everywhere.id])
        #expect(Self.ids(try w.database.bulletins(after: 0, region: nil, now: now).envelopes).count == 3, "no region: all")
        #expect(Self.ids(try w.database.bulletins(after: 0, region: "臺北", now: now + 60).envelopes) == [taipei.id], "expired: not pushed")

        // Over the poll, the region percent-encoded as the terminal sends it.
        let region = "臺北".addingPercentEncoding(withAllowedCharacters: .alphanumerics)!
        try await Application(router: UplinkServer(database: w.database).router()).test(.router) { client in
            try await client.execute(uri: "/uplink/dispatches?after=0&wait=0&bulletins_after=0&region=\(region)&confirmations_after=0",
                                     method: .get, headers: UplinkServerTests.headers()) { response async throws in
                let poll = try WireJSON.decode(DispatchPoll.self, from: Data(buffer: response.body))
                #expect(Self.ids(poll.bulletins ?? []) == [taipei.id, everywhere.id] && poll.bulletinCursor == 3)
            }
            try await client.execute(uri: "/uplink/dispatches?after=0&wait=0&bulletins_after=3&region=\(region)",
                                     method: .get, headers: UplinkServerTests.headers()) { response async throws in
                let poll = try WireJSON.decode(DispatchPoll.self, from: Data(buffer: response.body))
                #expect(poll.bulletins == nil && poll.bulletinCursor == nil)
            }
            // A terminal that does not ask for bulletins gets none.
            try await client.execute(uri: "/uplink/dispatches?after=0&wait=0", method: .get,
                                     headers: UplinkServerTests.headers()) { response async throws in
                #expect(try WireJSON.decode(DispatchPoll.self, from: Data(buffer: response.body)).bulletins == nil)
            }
        }

        let manifest = try w.publish().manifest
        #expect(Self.ids(manifest.bulletins ?? []) == [taipei.id, kaohsiung.id, everywhere.id])
        #expect(Self.ids(try w.publish(at: now + 61).manifest.bulletins ?? []) == [taipei.id, kaohsiung.id], "expired: no longer listed")
    }
}
