@testable import Central
import FieldWire
import Foundation
import Logging
import TestSupport
import Testing
import Watchlist

/// The reference center's side of field operations on a real SQLite file: the dispatch log
/// (created, updated, cancelled, reassigned), status changes refused after a cancel, the
/// nearest available unit, emergencies, arrival times and hit outcomes.
@Suite("Reference center: dispatch and field operations")
struct DispatchCenterTests {
    static let now: Int64 = 1_795_700_000_000
    static let scene = (latitude: 25.0478, longitude: 121.5170)


    static func item(_ payload: UplinkPayload, at ms: Int64 = now) -> Result<UplinkItem, ItemRefusal> {
        .success(UplinkItem(id: UUIDv7.make(milliseconds: ms), createdAt: ms, attempt: 1, payload: payload))
    }

    static func crumb(_ lat: Double, _ lon: Double) -> UplinkPayload {
        .breadcrumb(BreadcrumbPayload(fixTime: "2026-12-04T08:00:00Z", latitude: lat, longitude: lon, speed: nil, track: nil,
                                      horizontalError: 5, mode: "3d"))
    }

    static func status(_ unit: String, _ status: UnitStatus, at: String = "2026-12-04T08:00:01Z") -> UplinkPayload {
        .unitStatus(UnitStatusPayload(status: status, source: .officer, dispatchId: nil, at: at, officerId: "OF-1", unitId: unit,
                                      location: .notAvailable))
    }

    static func change(_ id: String, _ sequence: Int, _ status: DispatchStatus, at: String, disposition: String? = nil) -> UplinkPayload {
        .dispatchStatus(DispatchStatusPayload(dispatchId: id, sequence: sequence, status: status, disposition: disposition, at: at,
                                              officerId: "OF-1", location: .notAvailable))
    }

    @Test("50 units with breadcrumbs: --near picks the nearest available one; busy, dispatched, in-emergency and stale units are skipped", arguments: CenterEngine.allCases)
    func nearestAvailable(engine: CenterEngine) throws {
        let scratch = try Scratch("center")
        defer { scratch.remove() }
        let database = try engine.database(scratch)
        // Unit i stands i × 100 m north of the scene (0.0009° of latitude ≈ 100 m).
        for i in 1...50 {
            let unit = String(format: "U-%02d", i)
            _ = try database.ingest(unit: unit, [Self.item(Self.crumb(Self.scene.latitude + Double(i) * 0.000_9, Self.scene.longitude))], now: Self.now)
        }
        // The two nearest are busy (a status; an open dispatch), the third in an emergency,
        // the fourth's position is older than the 15 minutes asked for.
        _ = try database.ingest(unit: "U-01", [Self.item(Self.status("U-01", .busy))], now: Self.now)
        _ = try database.createDispatch(unit: "U-02", priority: "routine", summary: "noise", latitude: nil, longitude: nil, now: Self.now)
        _ = try database.ingest(unit: "U-03", [Self.item(.emergency(EmergencyPayload(
            emergencyId: UUIDv7.make(milliseconds: Self.now), event: .raised, at: "2026-12-04T08:00:02Z", officerId: "OF-3", unitId: "U-03",
            location: CheckLocation(status: "3d", latitude: Self.scene.latitude + 0.002_7, longitude: Self.scene.longitude))))], now: Self.now)
        _ = try database.ingest(unit: "U-04", [Self.item(Self.crumb(Self.scene.latitude + 0.003_6, Self.scene.longitude))], now: Self.now - 1_000_000)

        let nearest = try #require(try database.nearestAvailableUnit(latitude: Self.scene.latitude, longitude: Self.scene.longitude,
                                                                     maxAge: 900, now: Self.now + 1_000))
        #expect(nearest.unit == "U-05")
        #expect(abs(nearest.distanceMeters - 500) < 5, "\(nearest.distanceMeters) m")
        // U-01 back to available: it is the nearest again.
        _ = try database.ingest(unit: "U-01", [Self.item(Self.status("U-01", .available, at: "2026-12-04T08:05:00Z"))], now: Self.now)
        #expect(try database.nearestAvailableUnit(latitude: Self.scene.latitude, longitude: Self.scene.longitude, now: Self.now)?.unit == "U-01")
        let near = try database.unitsNear(latitude: Self.scene.latitude, longitude: Self.scene.longitude, now: Self.now, limit: 3)
        #expect(near.map(\.unit) == ["U-01", "U-02", "U-03"])
        #expect(near.map(\.available) == [true, false, false])
    }

    @Test("the dispatch log: created, updated, cancelled reach the unit in order; after the cancel its status changes are refused dispatch.cancelled, the receipt is taken", arguments: CenterEngine.allCases)
    func cancel(engine: CenterEngine) throws {
        let scratch = try Scratch("center")
        defer { scratch.remove() }
        let database = try engine.database(scratch)
        let created = try database.createDispatch(unit: "TPE-DA-01", .init(priority: "urgent", summary: "collision", latitude: 25, longitude: 121,
                                                                          address: "Zhongxiao W. Rd", incidentType: "traffic-collision",
                                                                          callbackNumber: "0912-345-678"), now: Self.now)
        let updated = try database.updateDispatch(created.id, priority: "high", notes: "two cars, no injuries", now: Self.now + 1_000)
        let cancelled = try database.cancelDispatch(created.id, reason: "handled by the fire brigade", now: Self.now + 2_000)
        let log = try database.dispatches(unit: "TPE-DA-01", after: 0)
        #expect(log.map(\.kindOfChange) == [.created, .updated, .cancelled])
        #expect(log.map(\.cursor) == [created.cursor, updated.cursor, cancelled.cursor])
        #expect(log[1].notes == "two cars, no injuries" && log[1].priority == "high" && log[1].address == "Zhongxiao W. Rd")
        #expect(log[2].reason == "handled by the fire brigade")
        #expect(try database.dispatches(unit: "TPE-DA-01", after: updated.cursor).map(\.kindOfChange) == [.cancelled])
        #expect(throws: CentralError.self) { try database.updateDispatch(created.id, notes: "late", now: Self.now + 3_000) }

        let answers = try database.ingest(unit: "TPE-DA-01", [
            Self.item(Self.change(created.id, 1, .received, at: "2026-12-04T08:00:00Z")),
            Self.item(Self.change(created.id, 2, .enRoute, at: "2026-12-04T08:00:05Z")),
        ], now: Self.now).results
        #expect(answers.map(\.status) == [.accepted, .rejected])
        #expect(answers[1].reason?.hasPrefix("dispatch.cancelled:") == true, "\(answers[1].reason ?? "")")
        #expect(try database.dispatchReports().first?.status == "cancelled")
    }

    @Test("reassigned: the old unit is told and its changes refused dispatch.reassigned; the new unit receives it as a new dispatch", arguments: CenterEngine.allCases)
    func reassign(engine: CenterEngine) throws {
        let scratch = try Scratch("center")
        defer { scratch.remove() }
        let database = try engine.database(scratch)
        let created = try database.createDispatch(unit: "U-A", priority: "routine", summary: "theft", latitude: nil, longitude: nil, now: Self.now)
        let given = try database.reassignDispatch(created.id, to: "U-B", reason: "U-A is needed elsewhere", now: Self.now + 1_000)
        #expect(try database.dispatches(unit: "U-A", after: 0).map(\.kindOfChange) == [.created, .reassigned])
        #expect(try database.dispatches(unit: "U-A", after: 0).last?.reason == "to unit U-B: U-A is needed elsewhere")
        #expect(try database.dispatches(unit: "U-B", after: 0) == [given])
        #expect(given.kindOfChange == .created && given.id == created.id)
        let old = try database.ingest(unit: "U-A", [Self.item(Self.change(created.id, 2, .enRoute, at: "2026-12-04T08:00:05Z"))], now: Self.now).results
        #expect(old.first?.reason?.hasPrefix("dispatch.reassigned:") == true)
        let new = try database.ingest(unit: "U-B", [Self.item(Self.change(created.id, 1, .received, at: "2026-12-04T08:00:06Z"))], now: Self.now).results
        #expect(new.map(\.status) == [.accepted])
        #expect(throws: CentralError.self) { try database.reassignDispatch(created.id, to: "U-B", reason: nil, now: Self.now + 2_000) }
    }

    @Test("an emergency is stored urgent with the nearest other units, announced in the log, and its breadcrumbs flagged", arguments: CenterEngine.allCases)
    func emergency(engine: CenterEngine) throws {
        let scratch = try Scratch("center")
        defer { scratch.remove() }
        let database = try engine.database(scratch)
        for (unit, north) in [("U-NEAR", 0.001), ("U-MID", 0.01), ("U-FAR", 0.1), ("U-FARTHER", 0.2)] {
            _ = try database.ingest(unit: unit, [Self.item(Self.crumb(Self.scene.latitude + north, Self.scene.longitude))], now: Self.now)
        }
        let id = UUIDv7.make(milliseconds: Self.now)
        let raised = UplinkPayload.emergency(EmergencyPayload(emergencyId: id, event: .raised, at: "2026-12-04T08:00:00Z", officerId: "OF-0042",
                                                              unitId: "TPE-DA-01",
                                                              location: CheckLocation(status: "3d", latitude: Self.scene.latitude, longitude: Self.scene.longitude)))
        var crumb = BreadcrumbPayload(fixTime: "2026-12-04T08:00:02Z", latitude: Self.scene.latitude, longitude: Self.scene.longitude, speed: nil,
                                      track: nil, horizontalError: 5, mode: "3d")
        crumb.emergencyId = id
        let stored = try database.ingest(unit: "TPE-DA-01", [.success(UplinkItem(id: id, createdAt: Self.now, attempt: 1, payload: raised)),
                                                           Self.item(.breadcrumb(crumb), at: Self.now + 2_000)], now: Self.now)
        #expect(stored.results.map(\.status) == [.accepted, .accepted])
        let announced = try #require(stored.emergencies.first)
        #expect(announced.nearestUnits.map(\.unit) == ["U-NEAR", "U-MID", "U-FAR"])
        let urgent = try database.records(urgentOnly: true)
        #expect(urgent.map(\.kind) == [.emergency, .breadcrumb])
        #expect(urgent.first?.nearestUnits?.first?.unit == "U-NEAR")
        #expect(try database.records(kind: .breadcrumb).filter(\.urgent).count == 1)

        let lines = LogLines()
        UplinkServer.announce(announced, Logger(label: "test") { _ in lines })
        let line = try #require(lines.lines.first)
        #expect(line.contains("EMERGENCY") && line.contains("unit TPE-DA-01") && line.contains("U-NEAR 111 m"), "\(line)")
        #expect(lines.levels == [.critical])
    }

    @Test("arrival times per dispatch and their distribution; outcomes counted as the seed counts them", arguments: CenterEngine.allCases)
    func reports(engine: CenterEngine) throws {
        let scratch = try Scratch("center")
        defer { scratch.remove() }
        let database = try engine.database(scratch)
        // Three dispatches created at 08:00:00; on scene after 300, 420 and 600 s.
        for (i, onScene) in [300, 420, 600].enumerated() {
            let created = try database.createDispatch(unit: "U-\(i)", priority: "urgent", summary: "call \(i)", latitude: nil, longitude: nil,
                                                      now: Timestamp.milliseconds(iso8601: "2026-12-04T08:00:00Z")!)
            func at(_ s: Int) -> String { Timestamp.iso8601(milliseconds: Timestamp.milliseconds(iso8601: "2026-12-04T08:00:00Z")! + Int64(s) * 1000) }
            let answers = try database.ingest(unit: "U-\(i)", [
                Self.item(Self.change(created.id, 1, .received, at: at(2))), Self.item(Self.change(created.id, 2, .enRoute, at: at(60))),
                Self.item(Self.change(created.id, 3, .onScene, at: at(onScene))),
            ], now: Self.now).results
            #expect(answers.allSatisfy { $0.status == .accepted })
        }
        let reports = try database.dispatchReports()
        #expect(reports.map(\.toOnSceneSeconds) == [300, 420, 600])
        #expect(reports.map(\.toReceivedSeconds) == [2, 2, 2])
        #expect(reports.map(\.status) == ["on-scene", "on-scene", "on-scene"])
        let arrival = try database.arrivalReport()
        #expect(arrival.toOnScene.count == 3 && arrival.toOnScene.p50Seconds == 420 && arrival.toOnScene.maxSeconds == 600)
        #expect(arrival.enRouteToOnScene.minSeconds == 240)

        let outcomes: [(HitOutcome, [String])] = [(.confirmedActed, ["stolen-vehicles"]), (.confirmedActed, ["wanted-persons"]),
                                                  (.confirmedActed, ["wanted-persons", "missing-persons"]), (.notThePerson, ["wanted-persons"]),
                                                  (.noLongerWanted, ["stolen-vehicles"])]
        _ = try database.ingest(unit: "U-0", outcomes.enumerated().map { i, o in
            Self.item(.hitOutcome(HitOutcomePayload(checkId: UUIDv7.make(milliseconds: Int64(i)), outcome: o.0, lists: o.1, at: "2026-12-04T09:00:00Z",
                                                    officerId: "OF-1", unitId: "U-0", note: nil)), at: Self.now + Int64(i))
        }, now: Self.now)
        let counted = try database.outcomeReport()
        #expect((counted.vehiclesRecovered, counted.fugitivesCaught, counted.missingFound, counted.notThePerson, counted.listBehind) == (1, 2, 1, 1, 1))
    }
}

/// A log handler that keeps what was logged.
final class LogLines: LogHandler, @unchecked Sendable {
    private let lock = NSLock()
    private var kept: [(Logger.Level, String)] = []
    var metadata: Logger.Metadata = [:]
    var logLevel: Logger.Level = .trace

    var lines: [String] { lock.withLock { kept.map(\.1) } }
    var levels: [Logger.Level] { lock.withLock { kept.map(\.0) } }

    subscript(metadataKey key: String) -> Logger.Metadata.Value? {
        get { metadata[key] }
        set { metadata[key] = newValue }
    }

    func log(level: Logger.Level, message: Logger.Message, metadata: Logger.Metadata?, source: String, file: String, function: String, line: UInt) {
        lock.withLock { kept.append((level, message.description)) }
    }
}
