import FieldWire
import Foundation
import Watchlist

/// Who checked whom, from the records units uploaded (`mpolice-central audit`): the checks of
/// one person or vehicle, and the patterns an auditor looks for — a subject checked by many
/// officers in a day, an officer checking at a rate no patrol needs, checks from a unit the
/// roster does not give the officer, and breaks in a unit's audit chain (records edited,
/// removed or reordered on the terminal).
public struct Audit: Sendable {
    let database: UplinkDatabase

    public init(_ database: UplinkDatabase) { self.database = database }

    /// One uploaded check, as the audit lists it.
    public struct Check: Encodable, Sendable, Equatable {
        public var checkId: String
        public var checkedAt: String
        public var unitId: String
        public var officerId: String
        public var authentication: String?
        public var kind: String
        public var query: String
        public var outcome: String
        public var purpose: CheckPurpose?
        public var location: CheckLocation
    }

    /// Checks of a person by ID (any form a check accepts), or by a name search's query as
    /// records carry it (folded name, a space, the date of birth).
    public func subject(_ entered: String) throws -> [Check] {
        let id = PersonID.normalisedForList(entered) ?? entered
        return try checks(where: { d in "\(d.jsonText("payload", "kind")) IN ('person-id', 'person-name') AND \(d.jsonText("payload", "query")) = ?1" }, [id])
    }

    /// Checks of a plate (any form a check accepts).
    public func plate(_ entered: String) throws -> [Check] {
        let compact = Plate.normalisedForList(entered)?.compact ?? entered
        return try checks(where: { d in "\(d.jsonText("payload", "kind")) = 'plate' AND \(d.jsonText("payload", "query")) = ?1" }, [compact])
    }

    private func checks(where condition: (SQLDialect) -> String, _ arguments: [String]) throws -> [Check] {
        try database.backend.read { db in
            try db.query("SELECT payload FROM item WHERE kind = 'check' AND (\(condition(db.dialect))) ORDER BY \(db.dialect.jsonText("payload", "checkedAt"))",
                         arguments).map { row in
                let p = try WireJSON.decode(CheckRecordPayload.self, from: Data(row.text(0).utf8))
                return Check(checkId: p.checkId, checkedAt: p.checkedAt, unitId: p.unitId, officerId: p.officerId, authentication: p.authentication,
                             kind: p.kind, query: p.query, outcome: p.outcome, purpose: p.purpose, location: p.location)
            }
        }
    }

    // MARK: Anomalies

    public struct Thresholds: Sendable {
        /// More distinct officers than this checking one subject in one (UTC) day.
        public var officersPerSubjectPerDay: Int
        /// More checks than this by one officer in one hour.
        public var checksPerOfficerPerHour: Int

        public init(officersPerSubjectPerDay: Int = 3, checksPerOfficerPerHour: Int = 60) {
            (self.officersPerSubjectPerDay, self.checksPerOfficerPerHour) = (officersPerSubjectPerDay, checksPerOfficerPerHour)
        }
    }

    public struct Anomaly: Encodable, Sendable, Equatable {
        public enum Kind: String, Encodable, Sendable {
            case subjectManyOfficers = "subject-many-officers"
            case officerRate = "officer-rate"
            case unitNotAllowed = "unit-not-allowed"
            /// A record whose `prev` is not the hash of the record before it: edited or moved.
            case chainBreak = "chain-break"
            /// Records missing between the first and the unit's reported head: removed (or not
            /// uploaded yet).
            case chainGap = "chain-gap"
        }

        public var kind: Kind
        public var unit: String?
        public var officerId: String?
        public var subject: String?
        public var detail: String
    }

    /// Every anomaly, by kind; `roster` (the center's officers) for the unit check.
    public func anomalies(_ thresholds: Thresholds = Thresholds(), roster: [RosterOfficer]? = nil) throws -> [Anomaly] {
        var found: [Anomaly] = []
        try database.backend.read { db in
            let d = db.dialect
            for row in try db.query("""
                SELECT \(d.jsonText("payload", "kind")) AS k, \(d.jsonText("payload", "query")) AS q,
                       substr(\(d.jsonText("payload", "checkedAt")), 1, 10) AS day,
                       count(DISTINCT \(d.jsonText("payload", "officerId"))) AS officers
                FROM item WHERE kind = 'check' GROUP BY k, q, day HAVING count(DISTINCT \(d.jsonText("payload", "officerId"))) > ?
                ORDER BY day, q
                """, thresholds.officersPerSubjectPerDay) {
                let (kind, query, day, officers) = (row.text(0), row.text(1), row.text(2), row.int(3))
                found.append(Anomaly(kind: .subjectManyOfficers, unit: nil, officerId: nil, subject: query,
                                     detail: "\(kind) \(query) checked by \(officers) officers on \(day)"))
            }
            for row in try db.query("""
                SELECT \(d.jsonText("payload", "officerId")) AS o, substr(\(d.jsonText("payload", "checkedAt")), 1, 13) AS hour, count(*) AS n,
                       min(unit) AS first_unit
                FROM item WHERE kind = 'check' GROUP BY o, hour HAVING count(*) > ? ORDER BY hour, o
                """, thresholds.checksPerOfficerPerHour) {
                let (officer, hour, count, unit) = (row.text(0), row.text(1), row.int(2), row.text(3))
                found.append(Anomaly(kind: .officerRate, unit: unit, officerId: officer, subject: nil,
                                     detail: "\(count) checks by \(officer) in the hour from \(hour):00Z"))
            }
            if let roster {
                let allowed = Dictionary(roster.map { ($0.officerId, Set($0.units)) }, uniquingKeysWith: { a, _ in a })
                for row in try db.query("""
                    SELECT \(d.jsonText("payload", "officerId")) AS o, unit, count(*) AS n, \(d.jsonText("payload", "authentication")) AS a
                    FROM item WHERE kind = 'check' GROUP BY o, unit, a ORDER BY o, unit, a
                    """) {
                    let (officer, unit, count, authentication) = (row.text(0), row.text(1), row.int(2), row.optionalText(3))
                    guard allowed[officer]?.contains(unit) != true else { continue }
                    let how = authentication.map { " (\($0))" } ?? ""
                    found.append(Anomaly(kind: .unitNotAllowed, unit: unit, officerId: officer, subject: nil,
                                         detail: allowed[officer] == nil ? "\(count) checks\(how) by \(officer), who is not in the roster"
                                                                        : "\(count) checks\(how) by \(officer) from \(unit), not one of the officer's units"))
                }
            }
        }
        return found + (try chainFindings())
    }

    /// Walks each unit's chained records in order against their links and the unit's
    /// reported head.
    public func chainFindings() throws -> [Anomaly] {
        try database.backend.read { db in
            var found: [Anomaly] = []
            let units = try db.query("SELECT DISTINCT unit FROM item WHERE chain_seq IS NOT NULL UNION SELECT unit FROM unit_chain ORDER BY 1").map { $0.text(0) }
            for unit in units {
                var records: [Int64: (link: ChainLink, hash: String, id: String)] = [:]
                for row in try db.query("SELECT id, kind, payload FROM item WHERE unit = ? AND chain_seq IS NOT NULL ORDER BY received_seq", unit) {
                    let (id, kind, json) = (row.text(0), row.text(1), row.text(2))
                    guard let kind = OutboxKind(rawValue: kind), let link = try? UplinkPayload.decode(kind: kind, json: json).chain else { continue }
                    if records[link.seq] != nil {
                        found.append(Anomaly(kind: .chainBreak, unit: unit, officerId: nil, subject: nil,
                                             detail: "two records claim position \(link.seq) (\(records[link.seq]!.id), \(id))"))
                    }
                    records[link.seq] = (link, ChainLink.hash(json), id)
                }
                let head = try db.queryOne("SELECT seq, hash FROM unit_chain WHERE unit = ?", unit).map { ChainHead(seq: $0.int(0), hash: $0.text(1)) }
                let last = max(records.keys.max() ?? 0, head?.seq ?? 0)
                var missing: [ClosedRange<Int64>] = []
                var seq: Int64 = 1
                while seq <= last {
                    guard let record = records[seq] else {
                        var end = seq
                        while end + 1 <= last, records[end + 1] == nil { end += 1 }
                        missing.append(seq...end)
                        seq = end + 1
                        continue
                    }
                    let expected = seq == 1 ? ChainLink.genesis : records[seq - 1]?.hash
                    if let expected, record.link.prev != expected {
                        found.append(Anomaly(kind: .chainBreak, unit: unit, officerId: nil, subject: nil,
                                             detail: "record \(seq) (\(record.id)) does not follow record \(seq - 1): one of them was edited or moved"))
                    }
                    seq += 1
                }
                if let head, let record = records[head.seq], record.hash != head.hash {
                    found.append(Anomaly(kind: .chainBreak, unit: unit, officerId: nil, subject: nil,
                                         detail: "record \(head.seq) (\(record.id)) is not the one the terminal reported as its newest"))
                }
                for range in missing {
                    found.append(Anomaly(kind: .chainGap, unit: unit, officerId: nil, subject: nil,
                                         detail: range.count == 1 ? "record \(range.lowerBound) missing (removed, or not uploaded yet)"
                                                                  : "records \(range.lowerBound)–\(range.upperBound) missing (removed, or not uploaded yet)"))
                }
            }
            return found
        }
    }
}
