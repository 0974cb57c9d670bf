import ArgumentParser
import Foundation
import Store
import Watchlist

struct StatusCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "status",
        abstract: "Show the cached lists' versions, ages and sizes, the last sync and the journal.",
        discussion: "Asks the daemon (uptime, officer, GPS too); with --db, reads the state directory.")

    @OptionGroup var store: StoreOptions

    struct Report: Encodable {
        var stateDirectory: String
        var lists: [ListStatus]
        /// The sequence of the manifest the lists came from (nil before the first sync).
        var manifestSequence: Int64?
        var lastSync: SyncAttempt?
        var outbox: OutboxStatus
        var lastUpload: UploadSummary?
        var listsIntegrity: String
        var journalChecks: Int
        var journalIntegrity: String
    }

    func run() throws {
        do {
            guard let path = store.offlineDirectory else {
                let data = try store.daemon.call("GET", "/v1/status")
                if store.json {
                    print(String(decoding: data, as: UTF8.self))
                } else {
                    print(Self.text(daemon: try JSONDecoder().decode(DaemonStatus.self, from: data)))
                }
                return
            }
            let directory = StateDirectory(path: path)
            try directory.requireLists()
            let lists = try ListsStore.open(directory)
            let journal = try JournalStore.open(path: directory.journalPath)
            let report = Report(
                stateDirectory: directory.url.path,
                lists: try lists.statuses(at: SystemWallClock().nowMilliseconds / 1000),
                manifestSequence: try lists.syncState()?.manifestSequence,
                lastSync: try journal.syncAttempts(limit: 1).first,
                outbox: try journal.outboxStatus(now: SystemWallClock().nowMilliseconds),
                lastUpload: try journal.lastUpload(),
                listsIntegrity: try lists.quickCheck(),
                journalChecks: try journal.checkCount(),
                journalIntegrity: try journal.quickCheck())
            if store.json {
                print(String(decoding: try JSONEncoder.stable.encode(report), as: UTF8.self))
                return
            }
            print("state directory \(report.stateDirectory)")
            for l in report.lists { print(Self.line(l)) }
            print(Self.line(report.lastSync))
            print(Self.line(report.outbox, lastUpload: report.lastUpload))
            print("  lists.db quick_check: \(report.listsIntegrity)")
            print("  journal: \(report.journalChecks) check records, quick_check: \(report.journalIntegrity)")
        } catch {
            throw Failure.exit(error, json: store.json)
        }
    }

    /// `GET /v1/status`, as much of it as the text shows.
    struct DaemonStatus: Decodable {
        struct Officer: Decodable { var officerId: String }
        struct Location: Decodable { var status: String }
        var unit: String
        var uptimeSeconds: Int64
        var officer: Officer?
        var lists: [ListStatus]
        var syncConfigured: Bool
        var lastSync: SyncAttempt?
        var uplinkConfigured: Bool
        var outbox: OutboxStatus
        var lastUpload: UploadSummary?
        var checkRecords: Int
        var location: Location?
    }

    static func text(daemon s: DaemonStatus) -> String {
        var lines = ["mpoliced: unit \(s.unit), up \(AnswerText.duration(s.uptimeSeconds)), officer \(s.officer?.officerId ?? "none signed in")"]
        lines += s.lists.map(line)
        lines.append(s.syncConfigured ? line(s.lastSync) : "  sync: not configured")
        lines.append(line(s.outbox, lastUpload: s.lastUpload) + (s.uplinkConfigured ? "" : "  (uplink not configured)"))
        lines.append("  gps: \(s.location?.status ?? "not configured")")
        lines.append("  journal: \(s.checkRecords) check records")
        return lines.joined(separator: "\n")
    }

    static func line(_ l: ListStatus) -> String {
        let age = l.ageSeconds.map { AnswerText.duration($0) } ?? "—"
        return "  \(l.list.padding(toLength: 16, withPad: " ", startingAt: 0)) v\(l.version)  \(l.recordCount) records  age \(age)\(l.stale ? "  STALE" : "")"
    }

    static func line(_ o: OutboxStatus, lastUpload: UploadSummary?) -> String {
        var text = "  outbox: \(o.pending) pending"
        if let age = o.oldestAgeSeconds { text += " (oldest \(AnswerText.duration(age)))" }
        if o.rejected > 0 { text += ", \(o.rejected) REJECTED by the center" }
        if o.shedBreadcrumbs > 0 { text += ", \(o.shedBreadcrumbs) breadcrumbs shed" }
        if let u = lastUpload {
            text += "; last upload \(Timestamp.iso8601(seconds: u.at / 1000)) \(u.ok ? "ok" : "failed: \(u.error ?? "")")"
        }
        if let warning = o.warning { text += "\n  WARNING: \(warning)" }
        return text
    }

    static func line(_ sync: SyncAttempt?) -> String {
        guard let sync else { return "  last sync: never" }
        let when = Timestamp.iso8601(seconds: sync.startedAt / 1000)
        return "  last sync \(when): \(sync.outcome.rawValue)\(sync.reason.map { " [\($0)] " } ?? "")\(sync.message ?? "")"
    }
}
