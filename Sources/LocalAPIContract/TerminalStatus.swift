import Store
import Watchlist

/// The terminal's state in one snapshot: the lists and their freshness, the last sync and
/// upload, the outbox, the journal — and, from the running daemon, its unit, uptime,
/// officer and position. `GET /v1/status` answers it, `mpolicectl status` (also with `--db`)
/// prints it, systemd's STATUS= line and `mpolicectl diag` read it.
public struct TerminalStatus: Codable, Sendable, Equatable {
    /// `PRAGMA quick_check` of both databases (`mpolicectl status --db` reads it; the
    /// daemon's answer leaves it out: a full read on every status call).
    public struct Integrity: Codable, Sendable, Equatable {
        public var lists: String
        public var journal: String
    }

    public var stateDirectory: String
    /// The daemon's unit (nil offline: the state directory does not name it).
    public var unit: String?
    /// Seconds since the daemon started (nil offline).
    public var uptimeSeconds: Int64?
    public var officer: SessionInfo?
    public var lists: [ListStatus]
    /// The sequence of the manifest the lists came from (nil before the first sync).
    public var manifestSequence: Int64?
    /// Whether the daemon syncs (nil offline).
    public var syncConfigured: Bool?
    public var lastSync: SyncAttempt?
    /// Whether the daemon uploads (nil offline).
    public var uplinkConfigured: Bool?
    public var outbox: OutboxStatus
    public var lastUpload: UploadSummary?
    public var checkRecords: Int
    /// The daemon's location state (nil offline or with gps off).
    public var location: LocationState?
    public var integrity: Integrity?
    /// Why the lists cannot be read (checks are refused until a sync replaces them).
    public var listsUnavailable: String?
    /// A journal write failed for a full disk (and none has succeeded since).
    public var storageFull: Bool
    /// The lock, the last order and the dead-man timer (nil offline: the daemon judges them).
    public var protection: ProtectionStatus?
    /// The photo cache (nil offline, or when photos are not configured).
    public var photos: PhotoStatus?
    /// The unit's status as last set (nil before the first).
    public var unitStatus: UnitStatusRecord?
    /// The active emergency ("officer needs help"), if any.
    public var emergency: Emergency?
    /// The officer's open stop, if any.
    public var openIncident: String?
    /// Unexpired urgent bulletins every check matches (nil in statuses from before bulletins).
    public var bulletins: Int?
    /// Confirmation requests not answered yet (pending or overdue).
    public var confirmationsAwaited: Int?

    /// What the state directory's databases say at `now`; the daemon adds its own parts.
    public static func read(lists: ListsStore, journal: JournalStore, stateDirectory: String, clock: any TerminalClock,
                            integrity: Bool = false, scope: Scope = .full) throws -> TerminalStatus {
        let full = scope == .full
        return TerminalStatus(
            stateDirectory: stateDirectory,
            lists: try lists.statuses(at: lists.judgementTime(clock)),
            manifestSequence: full ? try lists.syncState()?.manifestSequence : nil,
            lastSync: try journal.syncAttempts(limit: 1).first,
            outbox: try journal.outboxStatus(now: clock.nowMilliseconds),
            lastUpload: full ? try journal.lastUpload() : nil,
            checkRecords: full ? try journal.checkCount() : 0,
            integrity: integrity ? Integrity(lists: (try? lists.quickCheck()) ?? "unreadable", journal: try journal.quickCheck()) : nil,
            listsUnavailable: lists.unavailableReason,
            storageFull: journal.storageFull,
            unitStatus: try journal.unitStatus(),
            emergency: try journal.activeEmergency(),
            openIncident: journal.openIncidentId(),
            bulletins: try journal.activeBulletins(now: lists.judgementTime(clock)).count,
            confirmationsAwaited: try journal.confirmationsAwaited())
    }

    /// How much of the state a `read` takes.
    public enum Scope: Sendable {
        case full
        /// What `summaryLine` shows: no count of check records (it reads every record), no
        /// last upload, no manifest sequence.
        case summaryLine
    }

    /// One line for `systemctl status`: list versions and staleness, the last sync, the
    /// outbox, GPS, and what is wrong. No plate, ID or name ever appears here.
    public var summaryLine: String {
        var parts = [listsUnavailable == nil
            ? "lists " + lists.map { "v\($0.version)" }.joined(separator: "/") + (lists.contains(where: \.stale) ? " STALE" : "")
            : "lists UNAVAILABLE"]
        if emergency != nil { parts.append("EMERGENCY ACTIVE") }
        if let bulletins, bulletins > 0 { parts.append("\(bulletins) URGENT BULLETIN\(bulletins == 1 ? "" : "S")") }
        if let confirmationsAwaited, confirmationsAwaited > 0 { parts.append("\(confirmationsAwaited) confirmation(s) awaited") }
        if storageFull { parts.append("DISK FULL") }
        if let lock = protection?.lock { parts.append("LOCKED (\(lock.cause.rawValue), order \(lock.orderSequence))") }
        if let offline = protection?.offline, offline.refusing { parts.append("OFFLINE TOO LONG: checks refused") }
        if syncConfigured != false {
            parts.append(lastSync.map { "sync \($0.outcome.rawValue)\($0.reason.map { " (\($0))" } ?? "")" } ?? "sync never")
        }
        if let unitStatus { parts.append("unit \(unitStatus.status.rawValue)") }
        parts.append("outbox \(outbox.pending)")
        if let photos { parts.append("photos \(photos.held) (\(photos.bytes / 1_048_576) of \(photos.budgetBytes / 1_048_576) MB)") }
        if let location { parts.append("gps \(location.status.rawValue)") }
        return parts.joined(separator: "; ")
    }
}
