import FieldWire
import Foundation
import GRDB
import Watchlist

/// An officer's emergency ("officer needs help") as the terminal holds it.
public struct Emergency: Sendable, Equatable, Codable {
    public var emergencyId: String
    /// ISO 8601.
    public var raisedAt: String
    /// Empty when nobody was signed in.
    public var officerId: String
    public var location: CheckLocation
    public var active: Bool
    public var clearedAt: String?
    /// Who cancelled it: the officer, or `technician`.
    public var clearedBy: String?
}

/// The unit's status as last set, with where it came from.
public struct UnitStatusRecord: Sendable, Equatable, Codable {
    public var status: UnitStatus
    public var source: UnitStatusPayload.Source
    public var dispatchId: String?
    /// ISO 8601.
    public var at: String
    public var officerId: String
}

/// A stop the officer started.
public struct Incident: Sendable, Equatable, Codable {
    public var incidentId: String
    public var kind: IncidentKind
    public var officerId: String
    /// ISO 8601.
    public var openedAt: String
    public var location: CheckLocation
    public var note: String?
    public var open: Bool
    public var closedAt: String?
    public var closingNote: String?
    /// Checks made during it.
    public var checks: Int
}

/// A hit's outcome as recorded.
public struct RecordedHitOutcome: Sendable, Equatable, Codable {
    public var checkId: String
    public var outcome: HitOutcome
    public var lists: [String]
    /// ISO 8601.
    public var at: String
    public var officerId: String
    public var note: String?
}

/// What the hot paths need without a query: the active emergency's id (every fix asks) and
/// the open stop (every check asks).
struct OperationsState: Sendable {
    var emergencyId: String?
    var incidentId: String?
}

extension JournalStore {
    static func registerFieldOperations(_ migrator: inout DatabaseMigrator) {
        migrator.registerMigration("v12-field-operations") { db in
            // The emergency takes priority 0: everything queued before moves down one, in order.
            try db.execute(sql: """
                UPDATE outbox SET priority = priority + 1;
                ALTER TABLE check_record ADD COLUMN incident_id TEXT;
                CREATE TABLE emergency (
                    id TEXT PRIMARY KEY NOT NULL,
                    raised_at TEXT NOT NULL,
                    officer_id TEXT NOT NULL,
                    location TEXT NOT NULL,
                    cleared_at TEXT,
                    cleared_by TEXT
                );
                CREATE TABLE incident (
                    id TEXT PRIMARY KEY NOT NULL,
                    kind TEXT NOT NULL,
                    officer_id TEXT NOT NULL,
                    opened_at TEXT NOT NULL,
                    location TEXT NOT NULL,
                    note TEXT,
                    closed_at TEXT,
                    closing_note TEXT
                );
                CREATE TABLE hit_outcome (
                    check_id TEXT PRIMARY KEY NOT NULL,
                    outcome TEXT NOT NULL,
                    lists TEXT NOT NULL,
                    at TEXT NOT NULL,
                    officer_id TEXT NOT NULL,
                    note TEXT
                );
                ALTER TABLE dispatch ADD COLUMN address TEXT;
                ALTER TABLE dispatch ADD COLUMN incident_type TEXT;
                ALTER TABLE dispatch ADD COLUMN callback_number TEXT;
                ALTER TABLE dispatch ADD COLUMN notes TEXT;
                ALTER TABLE dispatch_change ADD COLUMN refused TEXT;
                -- The center's log entries applied, by their cursor: a repeat is ignored.
                CREATE TABLE dispatch_event (
                    cursor INTEGER PRIMARY KEY NOT NULL,
                    dispatch_id TEXT NOT NULL,
                    change TEXT NOT NULL,
                    at TEXT NOT NULL,
                    reason TEXT
                );
                CREATE INDEX dispatch_event_dispatch ON dispatch_event(dispatch_id, cursor);
                """)
        }
    }

    /// The cached state, read at first use.
    private func operationsState() throws -> OperationsState {
        if let kept = operations.withLock({ $0 }) { return kept }
        let state = try read { db in
            OperationsState(
                emergencyId: try String.fetchOne(db, sql: "SELECT id FROM emergency WHERE cleared_at IS NULL ORDER BY raised_at DESC LIMIT 1"),
                incidentId: try String.fetchOne(db, sql: "SELECT id FROM incident WHERE closed_at IS NULL ORDER BY opened_at DESC LIMIT 1"))
        }
        operations.withLock { $0 = state }
        return state
    }

    // MARK: Emergency

    /// The active emergency's id, without a query (each fix asks).
    public func activeEmergencyId() -> String? { (try? operationsState())?.emergencyId }

    /// Raises an emergency and queues it first for the center. Pressed again while one is
    /// active, it is that one (nothing new is queued).
    /// - Returns: the emergency and whether it was raised now.
    public func raiseEmergency(officerId: String, unitId: String, location: CheckLocation, now: Int64) throws -> (Emergency, raised: Bool) {
        if let active = try activeEmergency() { return (active, false) }
        let id = UUIDv7.make(milliseconds: now)
        let at = Timestamp.iso8601(milliseconds: now)
        try enqueueing { db in
            try db.execute(sql: "INSERT INTO emergency (id, raised_at, officer_id, location) VALUES (?, ?, ?, ?)",
                           arguments: [id, at, officerId, WireJSON.text(location)])
            let payload = EmergencyPayload(emergencyId: id, event: .raised, at: at, officerId: officerId, unitId: unitId, location: location)
            try enqueue(db, id: id, kind: .emergency, payload: WireJSON.text(payload), now: now)
        }
        operations.withLock { $0?.emergencyId = id }
        return (Emergency(emergencyId: id, raisedAt: at, officerId: officerId, location: location, active: true), true)
    }

    /// Clears the active emergency and queues that first for the center.
    /// - Throws: `FieldOperationError(.noEmergency)`.
    public func clearEmergency(by clearedBy: String, unitId: String, location: CheckLocation, now: Int64) throws -> Emergency {
        guard var active = try activeEmergency() else { throw FieldOperationError(.noEmergency, "no emergency is active on this terminal") }
        let at = Timestamp.iso8601(milliseconds: now)
        try enqueueing { db in
            try db.execute(sql: "UPDATE emergency SET cleared_at = ?, cleared_by = ? WHERE id = ?", arguments: [at, clearedBy, active.emergencyId])
            let payload = EmergencyPayload(emergencyId: active.emergencyId, event: .cleared, at: at, officerId: clearedBy, unitId: unitId,
                                           location: location)
            try enqueue(db, kind: .emergency, payload: WireJSON.text(payload), now: now)
        }
        operations.withLock { $0?.emergencyId = nil }
        (active.active, active.clearedAt, active.clearedBy) = (false, at, clearedBy)
        return active
    }

    public func activeEmergency() throws -> Emergency? {
        guard try operationsState().emergencyId != nil else { return nil }
        return try emergencies(limit: 1).first { $0.active }
    }

    /// Newest first.
    public func emergencies(limit: Int = 20) throws -> [Emergency] {
        try read { db in
            try Row.fetchAll(db, sql: """
                SELECT id, raised_at, officer_id, location, cleared_at, cleared_by FROM emergency ORDER BY raised_at DESC LIMIT ?
                """, arguments: [limit]).map { r in
                let clearedAt: String? = r[4]
                return Emergency(emergencyId: r[0], raisedAt: r[1], officerId: r[2], location: Self.location(r[3]), active: clearedAt == nil,
                                 clearedAt: clearedAt, clearedBy: r[5])
            }
        }
    }

    // MARK: Unit status

    /// Sets the unit's status and queues it for the center.
    public func setUnitStatus(_ status: UnitStatus, officerId: String, unitId: String, location: CheckLocation, now: Int64) throws
        -> UnitStatusRecord {
        try enqueueing { db in
            try setUnitStatus(db, status, source: .officer, dispatchId: nil, officerId: officerId, unitId: unitId, location: location, now: now)
        }
    }

    @discardableResult
    func setUnitStatus(_ db: Database, _ status: UnitStatus, source: UnitStatusPayload.Source, dispatchId: String?, officerId: String,
                       unitId: String, location: CheckLocation, now: Int64) throws -> UnitStatusRecord {
        let at = Timestamp.iso8601(milliseconds: now)
        let record = UnitStatusRecord(status: status, source: source, dispatchId: dispatchId, at: at, officerId: officerId)
        if try unitStatus(db)?.status == status, source == .dispatch { return record }
        try db.execute(sql: "INSERT OR REPLACE INTO uplink_state (key, value) VALUES ('unit_status', ?)", arguments: [WireJSON.text(record)])
        let payload = UnitStatusPayload(status: status, source: source, dispatchId: dispatchId, at: at, officerId: officerId, unitId: unitId,
                                        location: location)
        try enqueue(db, kind: .unitStatus, payload: WireJSON.text(payload), now: now)
        return record
    }

    /// The unit's status as last set; nil before the first.
    public func unitStatus() throws -> UnitStatusRecord? {
        try read { db in try unitStatus(db) }
    }

    func unitStatus(_ db: Database) throws -> UnitStatusRecord? {
        try String.fetchOne(db, sql: "SELECT value FROM uplink_state WHERE key = 'unit_status'")
            .flatMap { try? WireJSON.decode(UnitStatusRecord.self, from: Data($0.utf8)) }
    }

    // MARK: Incidents

    /// The open stop's id, without a query (each check asks).
    public func openIncidentId() -> String? { (try? operationsState())?.incidentId }

    /// Opens a stop at `location` and queues it for the center.
    /// - Throws: `FieldOperationError(.incidentOpen)` while another is open.
    public func openIncident(_ kind: IncidentKind, note: String?, officerId: String, unitId: String, location: CheckLocation,
                             now: Int64) throws -> Incident {
        if let open = try operationsState().incidentId {
            throw FieldOperationError(.incidentOpen, "stop \(open) is still open: close it first (POST /v1/incidents/\(open)/close)")
        }
        let id = UUIDv7.make(milliseconds: now)
        let at = Timestamp.iso8601(milliseconds: now)
        try enqueueing { db in
            try db.execute(sql: "INSERT INTO incident (id, kind, officer_id, opened_at, location, note) VALUES (?, ?, ?, ?, ?, ?)",
                           arguments: [id, kind.rawValue, officerId, at, WireJSON.text(location), note])
            let payload = IncidentPayload(incidentId: id, kind: kind, event: .opened, at: at, officerId: officerId, unitId: unitId,
                                          location: location, note: note)
            try enqueue(db, id: id, kind: .incident, payload: WireJSON.text(payload), now: now)
        }
        operations.withLock { $0?.incidentId = id }
        return try incident(id: id)!
    }

    /// Closes a stop and queues that for the center.
    /// - Throws: `FieldOperationError` (`incident.unknown`, `incident.closed`).
    public func closeIncident(_ id: String, note: String?, officerId: String, unitId: String, location: CheckLocation,
                              now: Int64) throws -> Incident {
        guard let incident = try incident(id: id) else { throw FieldOperationError(.unknownIncident, "no stop \(id) on this terminal") }
        guard incident.open else { throw FieldOperationError(.incidentClosed, "stop \(id) was closed at \(incident.closedAt ?? "?")") }
        let at = Timestamp.iso8601(milliseconds: now)
        try enqueueing { db in
            try db.execute(sql: "UPDATE incident SET closed_at = ?, closing_note = ? WHERE id = ?", arguments: [at, note, id])
            let payload = IncidentPayload(incidentId: id, kind: incident.kind, event: .closed, at: at, officerId: officerId, unitId: unitId,
                                          location: location, note: note)
            try enqueue(db, kind: .incident, payload: WireJSON.text(payload), now: now)
        }
        operations.withLock { state in if state?.incidentId == id { state?.incidentId = nil } }
        return try self.incident(id: id)!
    }

    public func incident(id: String) throws -> Incident? {
        try incidents(id: id, limit: 1).first
    }

    /// Newest first.
    public func incidents(id: String? = nil, limit: Int = 50) throws -> [Incident] {
        try read { db in
            try Row.fetchAll(db, sql: """
                SELECT id, kind, officer_id, opened_at, location, note, closed_at, closing_note,
                       (SELECT count(*) FROM check_record WHERE incident_id = incident.id)
                FROM incident WHERE ?1 IS NULL OR id = ?1 ORDER BY opened_at DESC LIMIT ?2
                """, arguments: [id, limit]).map { r in
                Incident(incidentId: r[0], kind: IncidentKind(rawValue: r[1]) ?? .trafficStop, officerId: r[2], openedAt: r[3],
                         location: Self.location(r[4]), note: r[5], open: (r[6] as String?) == nil, closedAt: r[6], closingNote: r[7],
                         checks: r[8])
            }
        }
    }

    // MARK: Hit outcomes

    /// Records what the officer did after a hit and queues it for the center.
    /// - Throws: `FieldOperationError` (`check.unknown`, `check.not-a-hit`, `check.outcome-recorded`).
    public func recordHitOutcome(checkId: String, _ outcome: HitOutcome, note: String?, officerId: String, unitId: String,
                                 now: Int64) throws -> RecordedHitOutcome {
        let at = Timestamp.iso8601(milliseconds: now)
        return try enqueueing { db in
            guard let row = try Row.fetchOne(db, sql: "SELECT outcome, matches FROM check_record WHERE id = ?", arguments: [checkId]) else {
                throw FieldOperationError(.unknownCheck, "no check \(checkId) in this terminal's journal")
            }
            // A document found invalid is no watch-list hit: nothing to confirm or record.
            guard let matched = CheckAnswer.Outcome(rawValue: row[0]), matched >= .possibleHit else {
                throw FieldOperationError(.notAHit, "check \(checkId) matched nothing: an outcome is recorded after a hit or possible hit")
            }
            guard try Bool.fetchOne(db, sql: "SELECT 1 FROM hit_outcome WHERE check_id = ?", arguments: [checkId]) != true else {
                throw FieldOperationError(.outcomeRecorded, "the outcome of check \(checkId) is recorded already")
            }
            let matches = (try? WireJSON.decode([CheckRecordPayload.Match].self, from: Data((row[1] as String).utf8))) ?? []
            var lists: [String] = []
            for match in matches where !lists.contains(match.list) { lists.append(match.list) }
            try db.execute(sql: "INSERT INTO hit_outcome (check_id, outcome, lists, at, officer_id, note) VALUES (?, ?, ?, ?, ?, ?)",
                           arguments: [checkId, outcome.rawValue, WireJSON.text(lists), at, officerId, note])
            let payload = HitOutcomePayload(checkId: checkId, outcome: outcome, lists: lists, at: at, officerId: officerId, unitId: unitId,
                                            note: note)
            try enqueue(db, kind: .hitOutcome, payload: WireJSON.text(payload), now: now)
            return RecordedHitOutcome(checkId: checkId, outcome: outcome, lists: lists, at: at, officerId: officerId, note: note)
        }
    }

    public func hitOutcome(checkId: String) throws -> RecordedHitOutcome? {
        try read { db in
            try Row.fetchOne(db, sql: "SELECT check_id, outcome, lists, at, officer_id, note FROM hit_outcome WHERE check_id = ?",
                             arguments: [checkId]).map { r in
                RecordedHitOutcome(checkId: r[0], outcome: HitOutcome(rawValue: r[1]) ?? .released,
                                   lists: (try? WireJSON.decode([String].self, from: Data((r[2] as String).utf8))) ?? [], at: r[3],
                                   officerId: r[4], note: r[5])
            }
        }
    }

    static func location(_ json: String) -> CheckLocation {
        (try? WireJSON.decode(CheckLocation.self, from: Data(json.utf8))) ?? .notAvailable
    }
}
