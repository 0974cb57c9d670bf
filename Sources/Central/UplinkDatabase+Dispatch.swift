import FieldWire
import Foundation
import Watchlist

/// Dispatch at the reference center (docs/sync-protocol.md, "Dispatch"): each unit's
/// dispatch log (created, updated, cancelled, reassigned — the poll delivers it by cursor),
/// what each unit last said about itself (position, status, emergency), the nearest available
/// unit, arrival times, emergencies and hit outcomes.
extension UplinkDatabase {
    // MARK: The dispatch log

    /// What a dispatch says besides its unit.
    public struct DispatchDetails: Sendable, Equatable {
        public var priority: String
        public var summary: String
        public var latitude: Double?
        public var longitude: Double?
        public var address: String?
        public var incidentType: String?
        public var callbackNumber: String?
        public var notes: String?

        public init(priority: String, summary: String, latitude: Double? = nil, longitude: Double? = nil, address: String? = nil,
                    incidentType: String? = nil, callbackNumber: String? = nil, notes: String? = nil) {
            (self.priority, self.summary, self.latitude, self.longitude) = (priority, summary, latitude, longitude)
            (self.address, self.incidentType, self.callbackNumber, self.notes) = (address, incidentType, callbackNumber, notes)
        }
    }

    /// Queues a dispatch for `unit`; returns it as the unit will receive it.
    public func createDispatch(unit: String, priority: String, summary: String, latitude: Double?, longitude: Double?,
                               now: Int64) throws -> DispatchOrder {
        try createDispatch(unit: unit, DispatchDetails(priority: priority, summary: summary, latitude: latitude, longitude: longitude), now: now)
    }

    public func createDispatch(unit: String, _ details: DispatchDetails, distance: Double? = nil, now: Int64) throws -> DispatchOrder {
        let id = UUIDv7.make(milliseconds: now)
        let createdAt = Timestamp.iso8601(milliseconds: now)
        return try backend.write { db in
            try db.execute("""
                INSERT INTO dispatch (id, unit, created_at, priority, summary, latitude, longitude, address, incident_type, callback_number,
                                      notes, distance_m)
                VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
                """, id, unit, createdAt, details.priority, details.summary, details.latitude, details.longitude, details.address,
                details.incidentType, details.callbackNumber, details.notes, distance)
            return try appendEntry(db, dispatchId: id, unit: unit, change: .created, reason: nil, at: createdAt)
        }
    }

    /// Changes what a dispatch says (the fields given; nil keeps one) and logs it for its unit.
    /// - Throws: `CentralError` for an unknown or closed dispatch.
    public func updateDispatch(_ id: String, priority: String? = nil, summary: String? = nil, latitude: Double? = nil,
                               longitude: Double? = nil, address: String? = nil, incidentType: String? = nil,
                               callbackNumber: String? = nil, notes: String? = nil, now: Int64) throws -> DispatchOrder {
        try backend.write { db in
            let (unit, _) = try openDispatch(db, id)
            try db.execute("""
                UPDATE dispatch SET priority = coalesce(?, priority), summary = coalesce(?, summary), latitude = coalesce(?, latitude),
                    longitude = coalesce(?, longitude), address = coalesce(?, address), incident_type = coalesce(?, incident_type),
                    callback_number = coalesce(?, callback_number), notes = coalesce(?, notes)
                WHERE id = ?
                """, priority, summary, latitude, longitude, address, incidentType, callbackNumber, notes, id)
            return try appendEntry(db, dispatchId: id, unit: unit, change: .updated, reason: nil, at: Timestamp.iso8601(milliseconds: now))
        }
    }

    /// Calls a dispatch off: the unit's status changes after this are refused `dispatch.cancelled`.
    public func cancelDispatch(_ id: String, reason: String, now: Int64) throws -> DispatchOrder {
        try backend.write { db in
            let (unit, _) = try openDispatch(db, id)
            try db.execute("UPDATE dispatch SET status = 'cancelled', reason = ? WHERE id = ?", reason, id)
            return try appendEntry(db, dispatchId: id, unit: unit, change: .cancelled, reason: reason, at: Timestamp.iso8601(milliseconds: now))
        }
    }

    /// Gives a dispatch to another unit: the old one is told `reassigned` (its later changes
    /// are refused `dispatch.reassigned`), the new one receives it as a new dispatch.
    /// - Returns: the entry the new unit receives.
    public func reassignDispatch(_ id: String, to newUnit: String, reason: String?, now: Int64) throws -> DispatchOrder {
        try backend.write { db in
            let (unit, _) = try openDispatch(db, id)
            guard unit != newUnit else { throw CentralError("dispatch \(id) is already unit \(newUnit)'s") }
            let at = Timestamp.iso8601(milliseconds: now)
            let said = "to unit \(newUnit)" + (reason.map { ": \($0)" } ?? "")
            _ = try appendEntry(db, dispatchId: id, unit: unit, change: .reassigned, reason: said, at: at)
            try db.execute("""
                UPDATE dispatch SET unit = ?, status = 'queued', received_at = NULL, en_route_at = NULL, on_scene_at = NULL, distance_m = NULL
                WHERE id = ?
                """, newUnit, id)
            return try appendEntry(db, dispatchId: id, unit: newUnit, change: .created, reason: "reassigned from unit \(unit)", at: at)
        }
    }

    /// The dispatch's unit and status, for a change: refused when unknown or closed.
    private func openDispatch(_ db: any SQLSession, _ id: String) throws -> (unit: String, status: String) {
        // FOR UPDATE on PostgreSQL: two changes of one dispatch take turns.
        let lock = db.dialect == .postgres ? " FOR UPDATE" : ""
        guard let row = try db.queryOne("SELECT unit, status FROM dispatch WHERE id = ?\(lock)", id) else {
            throw CentralError("no dispatch \(id)")
        }
        let status = row.text(1)
        guard !["cleared", "cancelled"].contains(status) else { throw CentralError("dispatch \(id) is \(status): it cannot change any more") }
        return (row.text(0), status)
    }

    /// Logs the dispatch as it stands now for `unit`; returns the entry as the unit receives it.
    private func appendEntry(_ db: any SQLSession, dispatchId: String, unit: String, change: DispatchOrder.Change, reason: String?,
                             at: String) throws -> DispatchOrder {
        let row = try db.queryOne("""
            SELECT id, created_at, priority, summary, latitude, longitude, address, incident_type, callback_number, notes
            FROM dispatch WHERE id = ?
            """, dispatchId)!
        var entry = DispatchOrder(id: row.text(0), cursor: 0, createdAt: row.text(1), priority: row.text(2), summary: row.text(3),
                                  latitude: row.optionalDouble(4), longitude: row.optionalDouble(5), change: change,
                                  address: row.optionalText(6), incidentType: row.optionalText(7), callbackNumber: row.optionalText(8),
                                  notes: row.optionalText(9), reason: reason, changedAt: at)
        entry.cursor = try db.queryOne("INSERT INTO dispatch_event (dispatch_id, unit, change, entry) VALUES (?, ?, ?, ?) RETURNING cursor",
                                       dispatchId, unit, change.rawValue, WireJSON.text(entry))!.int(0)
        try db.notify(.unit(unit))
        return entry
    }

    /// The unit's dispatch log after `cursor`, oldest first.
    func dispatches(unit: String, after cursor: Int64, limit: Int = 100) throws -> [DispatchOrder] {
        try backend.read { db in try dispatches(db, unit: unit, after: cursor, limit: limit) }
    }

    func dispatches(_ db: any SQLSession, unit: String, after cursor: Int64, limit: Int = 100) throws -> [DispatchOrder] {
        try db.query("SELECT cursor, entry FROM dispatch_event WHERE unit = ? AND cursor > ? ORDER BY cursor LIMIT ?", unit, cursor, limit).map { row in
            var entry = try WireJSON.decode(DispatchOrder.self, from: Data(row.text(1).utf8))
            entry.cursor = row.int(0)
            return entry
        }
    }

    /// Where a unit's long poll resumes each of the feeds it carries.
    public struct PollCursors: Sendable {
        public var dispatches: Int64
        public var orders: Int64
        /// nil: the terminal does not take bulletins (or confirmations).
        public var bulletins: Int64?
        public var region: String?
        public var confirmations: Int64?

        public init(dispatches: Int64, orders: Int64, bulletins: Int64? = nil, region: String? = nil, confirmations: Int64? = nil) {
            (self.dispatches, self.orders, self.bulletins, self.region, self.confirmations) = (dispatches, orders, bulletins, region, confirmations)
        }
    }

    /// Everything new for the unit after its cursors, read in one transaction.
    /// - Parameter now: Unix seconds (expired orders and bulletins are left out).
    public func poll(unit: String, _ cursors: PollCursors, now: Int64) throws -> DispatchPoll {
        try backend.read { db in
            let dispatches = try self.dispatches(db, unit: unit, after: cursors.dispatches)
            let orders = try self.orders(db, unit: unit, after: cursors.orders, now: now)
            let bulletins = try cursors.bulletins.map { try self.bulletins(db, after: $0, region: cursors.region, now: now) }
            let confirmations = try cursors.confirmations.map { try self.confirmations(db, unit: unit, after: $0) } ?? []
            return DispatchPoll(cursor: dispatches.last?.cursor ?? cursors.dispatches, dispatches: dispatches,
                                orders: orders.isEmpty ? nil : orders,
                                bulletins: bulletins.flatMap { $0.envelopes.isEmpty ? nil : $0.envelopes },
                                bulletinCursor: bulletins.flatMap { $0.envelopes.isEmpty ? nil : $0.cursor },
                                confirmations: confirmations.isEmpty ? nil : confirmations)
        }
    }

    // MARK: Dispatch status from units

    /// Why a unit's status change is refused, or nil to take it (`ingest`).
    func refusal(_ db: any SQLSession, unit: String, _ change: DispatchStatusPayload) throws -> String? {
        guard let row = try db.queryOne("SELECT unit, status, reason FROM dispatch WHERE id = ?", change.dispatchId) else {
            return "dispatch.unknown: no dispatch \(change.dispatchId) for unit \(unit)"
        }
        let (owner, status, reason) = (row.text(0), row.text(1), row.optionalText(2))
        if owner != unit {
            let hadIt = try db.queryOne("SELECT 1 FROM dispatch_event WHERE dispatch_id = ? AND unit = ? AND change = 'reassigned'",
                                        change.dispatchId, unit) != nil
            return hadIt ? "dispatch.reassigned: dispatch \(change.dispatchId) was given to unit \(owner); \(change.status.rawValue) not applied"
                         : "dispatch.unknown: no dispatch \(change.dispatchId) for unit \(unit)"
        }
        // The receipt of a dispatch cancelled before it arrived is still a receipt.
        if status == "cancelled", change.status != .received {
            return "dispatch.cancelled: the center cancelled dispatch \(change.dispatchId)\(reason.map { " (\($0))" } ?? ""); "
                + "\(change.status.rawValue) not applied"
        }
        return nil
    }

    /// A change taken: the dispatch's status and the time of the step.
    func apply(_ db: any SQLSession, _ change: DispatchStatusPayload) throws {
        let column = switch change.status {
        case .received: "received_at"
        case .enRoute: "en_route_at"
        case .onScene: "on_scene_at"
        case .cleared: "cleared_at"
        case .cancelled, .reassigned: ""
        }
        guard !column.isEmpty else { return }
        try db.execute("""
            UPDATE dispatch SET \(column) = coalesce(\(column), ?),
                status = CASE WHEN status IN ('cancelled', 'reassigned') THEN status ELSE ? END
            WHERE id = ?
            """, change.at, change.status.rawValue, change.dispatchId)
    }

    // MARK: Units

    /// A unit as the center last heard of it.
    public struct UnitPosition: Codable, Sendable, Equatable {
        public var unit: String
        public var latitude: Double
        public var longitude: Double
        /// Straight-line (great-circle) distance to the point asked about, metres.
        public var distanceMeters: Double
        /// The unit's last reported status; nil when it never sent one.
        public var status: String?
        /// Busy: an open dispatch, a status other than available, or its own emergency.
        public var available: Bool
    }

    /// What an accepted item says about its unit: position, status, emergency.
    func noteUnitState(_ db: any SQLSession, unit: String, _ payload: UplinkPayload, now: Int64) throws {
        switch payload {
        case .breadcrumb(let crumb):
            try db.execute("""
                INSERT INTO unit_state (unit, latitude, longitude, position_at) VALUES (?1, ?2, ?3, ?4)
                ON CONFLICT (unit) DO UPDATE SET latitude = excluded.latitude, longitude = excluded.longitude, position_at = excluded.position_at
                """, unit, crumb.latitude, crumb.longitude, now)
        case .unitStatus(let status):
            try db.execute("""
                INSERT INTO unit_state (unit, status, status_at) VALUES (?1, ?2, ?3)
                ON CONFLICT (unit) DO UPDATE SET status = excluded.status, status_at = excluded.status_at
                    WHERE unit_state.status_at IS NULL OR unit_state.status_at <= excluded.status_at
                """, unit, status.status.rawValue, status.at)
        case .emergency(let emergency):
            let active = emergency.event == .raised ? emergency.emergencyId : nil
            try db.execute("""
                INSERT INTO unit_state (unit, emergency_id) VALUES (?1, ?2)
                ON CONFLICT (unit) DO UPDATE SET emergency_id = excluded.emergency_id
                """, unit, active)
            if let latitude = emergency.location.latitude, let longitude = emergency.location.longitude {
                try db.execute("UPDATE unit_state SET latitude = ?, longitude = ?, position_at = ? WHERE unit = ?", latitude, longitude, now, unit)
            }
        default: break
        }
    }

    /// Units with a position received within `maxAge` seconds, nearest first, by
    /// straight-line distance (no road network: a unit across a river may be "nearest").
    public func unitsNear(latitude: Double, longitude: Double, excluding: String? = nil, maxAge: Int64 = 900, now: Int64,
                          limit: Int = 10) throws -> [UnitPosition] {
        try backend.read { db in try unitsNear(db, latitude: latitude, longitude: longitude, excluding: excluding, maxAge: maxAge, now: now, limit: limit) }
    }

    func unitsNear(_ db: any SQLSession, latitude: Double, longitude: Double, excluding: String?, maxAge: Int64, now: Int64,
                   limit: Int) throws -> [UnitPosition] {
        let rows = try db.query("""
            SELECT u.unit, u.latitude, u.longitude, u.status, u.emergency_id,
                   EXISTS (SELECT 1 FROM dispatch d WHERE d.unit = u.unit AND d.status IN ('queued', 'received', 'en-route', 'on-scene'))
            FROM unit_state u
            WHERE u.latitude IS NOT NULL AND u.position_at >= ?1 AND (CAST(?2 AS TEXT) IS NULL OR u.unit != ?2)
            """, now - maxAge * 1000, excluding)
        let units = rows.map { row -> UnitPosition in
            let status = row.optionalText(3)
            let (lat, lon) = (row.double(1), row.double(2))
            return UnitPosition(unit: row.text(0), latitude: lat, longitude: lon,
                                distanceMeters: Self.distance(latitude, longitude, lat, lon), status: status,
                                available: (status ?? "available") == "available" && row.isNull(4) && !row.bool(5))
        }
        return Array(units.sorted { ($0.distanceMeters, $0.unit) < ($1.distanceMeters, $1.unit) }.prefix(limit))
    }

    /// The nearest available unit to a point (`dispatch create --near`).
    public func nearestAvailableUnit(latitude: Double, longitude: Double, maxAge: Int64 = 900, now: Int64) throws -> UnitPosition? {
        try backend.read { db in
            try unitsNear(db, latitude: latitude, longitude: longitude, excluding: nil, maxAge: maxAge, now: now, limit: .max)
                .first { $0.available }
        }
    }

    /// Great-circle distance, metres (haversine, mean Earth radius).
    static func distance(_ lat1: Double, _ lon1: Double, _ lat2: Double, _ lon2: Double) -> Double {
        let r = 6_371_008.8, rad = Double.pi / 180
        let dLat = (lat2 - lat1) * rad, dLon = (lon2 - lon1) * rad
        let a = sin(dLat / 2) * sin(dLat / 2) + cos(lat1 * rad) * cos(lat2 * rad) * sin(dLon / 2) * sin(dLon / 2)
        return 2 * r * asin(min(1, sqrt(a)))
    }

    // MARK: Reports

    /// A dispatch as `mpolice-central dispatch list` shows it, with its times.
    public struct DispatchReport: Codable, Sendable, Equatable {
        public var id: String
        public var unit: String
        public var status: String
        public var priority: String
        public var summary: String
        public var createdAt: String
        public var receivedAt: String?
        public var enRouteAt: String?
        public var onSceneAt: String?
        public var clearedAt: String?
        /// Seconds from creation to each step (nil until it happened).
        public var toReceivedSeconds: Double?
        public var toEnRouteSeconds: Double?
        public var toOnSceneSeconds: Double?
        /// The straight-line distance when `--near` chose the unit, metres.
        public var distanceMeters: Double?
    }

    public func dispatchReports() throws -> [DispatchReport] {
        try backend.read { db in
            try db.query("""
                SELECT id, unit, status, priority, summary, created_at, received_at, en_route_at, on_scene_at, cleared_at, distance_m
                FROM dispatch ORDER BY cursor
                """).map { r in
                let created = r.text(5)
                func since(_ at: String?) -> Double? {
                    guard let at, let a = Timestamp.milliseconds(iso8601: at), let c = Timestamp.milliseconds(iso8601: created) else { return nil }
                    return Double(a - c) / 1000
                }
                return DispatchReport(id: r.text(0), unit: r.text(1), status: r.text(2), priority: r.text(3), summary: r.text(4),
                                      createdAt: created, receivedAt: r.optionalText(6), enRouteAt: r.optionalText(7),
                                      onSceneAt: r.optionalText(8), clearedAt: r.optionalText(9),
                                      toReceivedSeconds: since(r.optionalText(6)), toEnRouteSeconds: since(r.optionalText(7)),
                                      toOnSceneSeconds: since(r.optionalText(8)), distanceMeters: r.optionalDouble(10))
            }
        }
    }

    /// The distribution of one interval over the dispatches that have it.
    public struct Distribution: Codable, Sendable, Equatable {
        public var count: Int
        public var minSeconds: Double?
        public var p50Seconds: Double?
        public var p90Seconds: Double?
        public var maxSeconds: Double?
        public var meanSeconds: Double?

        init(_ values: [Double]) {
            let sorted = values.sorted()
            count = sorted.count
            guard !sorted.isEmpty else { return }
            func quantile(_ q: Double) -> Double { sorted[min(sorted.count - 1, Int((Double(sorted.count - 1) * q).rounded()))] }
            (minSeconds, p50Seconds, p90Seconds, maxSeconds) = (sorted.first, quantile(0.5), quantile(0.9), sorted.last)
            meanSeconds = sorted.reduce(0, +) / Double(sorted.count)
        }
    }

    /// `mpolice-central report arrival`: created → received, created → en route, created → on scene.
    public struct ArrivalReport: Codable, Sendable, Equatable {
        public var dispatches: Int
        public var toReceived: Distribution
        public var toEnRoute: Distribution
        public var toOnScene: Distribution
        public var enRouteToOnScene: Distribution
    }

    public func arrivalReport() throws -> ArrivalReport {
        let reports = try dispatchReports()
        let travel = reports.compactMap { r in r.toOnSceneSeconds.flatMap { on in r.toEnRouteSeconds.map { on - $0 } } }
        return ArrivalReport(dispatches: reports.count, toReceived: Distribution(reports.compactMap(\.toReceivedSeconds)),
                             toEnRoute: Distribution(reports.compactMap(\.toEnRouteSeconds)),
                             toOnScene: Distribution(reports.compactMap(\.toOnSceneSeconds)), enRouteToOnScene: Distribution(travel))
    }

    /// `mpolice-central report outcomes`: what the officers recorded after hits.
    public struct OutcomeReport: Codable, Sendable, Equatable {
        /// Outcome → count.
        public var outcomes: [String: Int]
        /// `confirmed-acted` on a stolen-vehicle hit.
        public var vehiclesRecovered: Int
        /// `confirmed-acted` on a wanted-person hit.
        public var fugitivesCaught: Int
        /// `confirmed-acted` on a missing-person hit.
        public var missingFound: Int
        /// `no-longer-wanted`: the list was behind the record's owner.
        public var listBehind: Int
        public var notThePerson: Int
    }

    public func outcomeReport() throws -> OutcomeReport {
        var report = OutcomeReport(outcomes: [:], vehiclesRecovered: 0, fugitivesCaught: 0, missingFound: 0, listBehind: 0, notThePerson: 0)
        for record in try records(kind: .hitOutcome) {
            guard case .hitOutcome(let o) = record.payload else { continue }
            report.outcomes[o.outcome.rawValue, default: 0] += 1
            switch o.outcome {
            case .confirmedActed:
                if o.lists.contains(ListKind.stolenVehicles.rawValue) { report.vehiclesRecovered += 1 }
                if o.lists.contains(ListKind.wantedPersons.rawValue) { report.fugitivesCaught += 1 }
                if o.lists.contains(ListKind.missingPersons.rawValue) { report.missingFound += 1 }
            case .noLongerWanted: report.listBehind += 1
            case .notThePerson: report.notThePerson += 1
            case .released: break
            }
        }
        return report
    }
}
