import FieldWire
import Foundation
import Watchlist

/// The fleet at the center (docs/fleet.md): each unit's latest health report, the units an
/// operator should look at, and the upkeep of the uplink tables (monthly partitions on
/// PostgreSQL, retention on both engines).
extension UplinkDatabase {
    /// Keeps the unit's newest report (an older one arriving late is ignored).
    func noteHealth(_ db: any SQLSession, unit: String, _ report: HealthReport, now: Int64) throws {
        try db.execute("""
            INSERT INTO unit_health (unit, reported_at, received_at, report) VALUES (?1, ?2, ?3, ?4)
            ON CONFLICT (unit) DO UPDATE SET reported_at = excluded.reported_at, received_at = excluded.received_at, report = excluded.report
                WHERE unit_health.reported_at <= excluded.reported_at
            """, unit, report.at, now, WireJSON.text(report))
    }

    /// What makes a unit worth a look (`mpolice-central fleet`).
    public struct FleetThresholds: Sendable {
        /// No health report for longer than this: the terminal is off, lost or cut off.
        public var silentAfter: Int64 = 36 * 3_600
        /// Lists older than this (their manifest's sequence behind the newest a unit holds,
        /// or the last successful sync longer ago).
        public var syncOlderThan: Int64 = 24 * 3_600
        public var certificateWithin: Int64 = 30 * 86_400
        public var freeDiskBelow: Int64 = 200 << 20
        public var outboxAbove: Int = 5_000

        public init() {}
    }

    /// One unit as the fleet view shows it.
    public struct FleetUnit: Encodable, Sendable, Equatable {
        public var unit: String
        /// ISO 8601 of the newest report; nil when the unit never sent one.
        public var reportedAt: String?
        public var report: HealthReport?
        /// Why the unit needs a look (`silent`, `stale-lists`, `sync-failing`,
        /// `certificate-expiring`, `disk-low`, `outbox-deep`, `behind`); empty when healthy.
        public var flags: [String]
    }

    /// Every unit that sent a health report or anything else, the flagged ones first (most
    /// flags first), then by unit.
    public func fleet(now: Int64, thresholds: FleetThresholds = FleetThresholds()) throws -> [FleetUnit] {
        let (reports, others) = try backend.read { db in
            (try db.query("SELECT unit, report FROM unit_health").map { ($0.text(0), $0.text(1)) },
             try db.query("SELECT unit FROM unit_state UNION SELECT unit FROM unit_chain").map { $0.text(0) })
        }
        var units: [String: HealthReport?] = Dictionary(uniqueKeysWithValues: others.map { ($0, nil) })
        for (unit, json) in reports { units[unit] = try? WireJSON.decode(HealthReport.self, from: Data(json.utf8)) }
        let newestSequence = units.values.compactMap { $0?.manifestSequence }.max()
        let newestLists = units.values.compactMap { $0?.lists }.reduce(into: [String: Int64]()) { newest, lists in
            for (list, version) in lists { newest[list] = max(newest[list] ?? 0, version) }
        }
        func age(_ iso: String?) -> Int64? { iso.flatMap(Timestamp.milliseconds(iso8601:)).map { (now * 1000 - $0) / 1000 } }
        let listed = units.map { unit, report -> FleetUnit in
            var flags: [String] = []
            if let report {
                if let age = age(report.at), age > thresholds.silentAfter { flags.append("silent") }
                if let sync = report.lastSync {
                    if sync.outcome != "updated", sync.outcome != "up-to-date" { flags.append("sync-failing") }
                    if let age = age(sync.at), age > thresholds.syncOlderThan { flags.append("stale-lists") }
                } else {
                    flags.append("stale-lists")
                }
                if let sequence = report.manifestSequence, let newest = newestSequence, sequence < newest
                    || report.lists.contains(where: { $0.value < (newestLists[$0.key] ?? 0) }) {
                    flags.append("behind")
                }
                if let expiry = report.certificateExpiresAt.flatMap(Timestamp.milliseconds(iso8601:)), expiry / 1000 - now < thresholds.certificateWithin {
                    flags.append("certificate-expiring")
                }
                if let free = report.freeDiskBytes, free < thresholds.freeDiskBelow { flags.append("disk-low") }
                if report.outboxDepth > thresholds.outboxAbove { flags.append("outbox-deep") }
            } else {
                flags.append("silent")
            }
            return FleetUnit(unit: unit, reportedAt: report?.at, report: report, flags: flags)
        }
        return listed.sorted { ($0.flags.count, $1.unit) > ($1.flags.count, $0.unit) }
    }

    // MARK: Partitions and retention

    /// The month partitions of the uplink tables (PostgreSQL) from `monthsBefore` months
    /// before `now` to two after, and — with `retentionMonths` — the removal of what was
    /// received (items: created) before the start of the month that many months back:
    /// whole partitions dropped on PostgreSQL, rows deleted on SQLite.
    /// - Returns: the partitions created and dropped (PostgreSQL), for the log.
    @discardableResult
    public func maintainPartitions(now: Int64, retentionMonths: Int?) throws -> (created: [String], dropped: [String]) {
        let calendar = Self.utc
        let thisMonth = calendar.date(from: calendar.dateComponents([.year, .month], from: Date(timeIntervalSince1970: Double(now))))!
        let cutoff = retentionMonths.map { calendar.date(byAdding: .month, value: -$0, to: thisMonth)! }
        guard backend.dialect == .postgres else {
            if let cutoff {
                let ms = Int64(cutoff.timeIntervalSince1970 * 1000)
                try backend.write { db in
                    try db.execute("DELETE FROM item WHERE created_at < ?", ms)
                    try db.execute("DELETE FROM delivery WHERE received_at < ?", ms)
                }
            }
            return ([], [])
        }
        var created: [String] = [], dropped: [String] = []
        try backend.write { db in
            let existing = Set(try db.query("""
                SELECT c.relname FROM pg_inherits i JOIN pg_class c ON c.oid = i.inhrelid JOIN pg_class p ON p.oid = i.inhparent
                WHERE p.relname IN ('item', 'delivery')
                """).map { $0.text(0) })
            for offset in -1...2 {
                let start = calendar.date(byAdding: .month, value: offset, to: thisMonth)!
                let end = calendar.date(byAdding: .month, value: 1, to: start)!
                if let cutoff, start < cutoff { continue }
                for table in ["item", "delivery"] {
                    let name = Self.partitionName(table, start)
                    guard !existing.contains(name) else { continue }
                    // Rows of the month already in the default partition (a center started
                    // mid-month after a gap) keep it from being made: they stay there.
                    let clash = try db.queryOne("SELECT 1 FROM \(table)_default WHERE \(table == "item" ? "created_at" : "received_at") >= ? AND \(table == "item" ? "created_at" : "received_at") < ? LIMIT 1",
                                                Int64(start.timeIntervalSince1970 * 1000), Int64(end.timeIntervalSince1970 * 1000))
                    guard clash == nil else { continue }
                    try db.execute("""
                        CREATE TABLE \(name) PARTITION OF \(table)
                        FOR VALUES FROM (\(Int64(start.timeIntervalSince1970 * 1000))) TO (\(Int64(end.timeIntervalSince1970 * 1000)))
                        """)
                    created.append(name)
                }
            }
            guard let cutoff else { return }
            for name in existing.sorted() {
                guard let month = Self.partitionMonth(name), month < cutoff else { continue }
                try db.execute("DROP TABLE \(name)")
                dropped.append(name)
            }
            let ms = Int64(cutoff.timeIntervalSince1970 * 1000)
            try db.execute("DELETE FROM item_default WHERE created_at < ?", ms)
            try db.execute("DELETE FROM delivery_default WHERE received_at < ?", ms)
        }
        return (created, dropped)
    }

    private static let utc: Calendar = {
        var calendar = Calendar(identifier: .gregorian)
        calendar.timeZone = TimeZone(identifier: "UTC")!
        return calendar
    }()

    /// `item_y2026m12`.
    static func partitionName(_ table: String, _ month: Date) -> String {
        let c = utc.dateComponents([.year, .month], from: month)
        return "\(table)_y" + String(format: "%04dm%02d", c.year!, c.month!)
    }

    static func partitionMonth(_ name: String) -> Date? {
        guard let range = name.range(of: #"_y\d{4}m\d{2}$"#, options: .regularExpression) else { return nil }
        let digits = name[range].dropFirst(2)
        guard let year = Int(digits.prefix(4)), let month = Int(digits.suffix(2)) else { return nil }
        return utc.date(from: DateComponents(year: year, month: month, day: 1))
    }
}
