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
        struct List: Codable {
            var list: String
            var version: Int64
            var updatedAt: String?
            var ageSeconds: Int64?
            var stale: Bool
            var recordCount: Int64
        }
        var stateDirectory: String
        var lists: [List]
        /// The sequence of the manifest the lists came from (nil before the first sync).
        var manifestSequence: Int64?
        var lastSync: SyncAttempt?
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
            let now = SystemWallClock().nowMilliseconds / 1000
            let metas = try lists.versions()
            let report = Report(
                stateDirectory: directory.url.path,
                lists: ListKind.allCases.map { kind in
                    let v = metas[kind]!.version(at: now)
                    return .init(list: kind.rawValue, version: v.version, updatedAt: v.updatedAt, ageSeconds: v.ageSeconds,
                                 stale: v.stale, recordCount: v.recordCount)
                },
                manifestSequence: try lists.syncState()?.manifestSequence,
                lastSync: try journal.syncAttempts(limit: 1).first,
                listsIntegrity: try lists.quickCheck(),
                journalChecks: try journal.checkCount(),
                journalIntegrity: try journal.quickCheck())
            if store.json {
                print(String(decoding: try JSONEncoder.stable.encode(report), as: UTF8.self))
                return
            }
            print("state directory \(report.stateDirectory)")
            for l in report.lists {
                let age = l.ageSeconds.map { AnswerText.duration($0) } ?? "—"
                print("  \(l.list.padding(toLength: 16, withPad: " ", startingAt: 0)) v\(l.version)  \(l.recordCount) records  age \(age)\(l.stale ? "  STALE" : "")")
            }
            if let sync = report.lastSync {
                let when = Timestamp.iso8601(seconds: sync.startedAt / 1000)
                print("  last sync \(when): \(sync.outcome.rawValue)\(sync.reason.map { " [\($0)] " } ?? "")\(sync.message ?? "")")
            } else {
                print("  last sync: never")
            }
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
        var lists: [Report.List]
        var syncConfigured: Bool
        var lastSync: SyncAttempt?
        var checkRecords: Int
        var location: Location?
    }

    static func text(daemon s: DaemonStatus) -> String {
        var lines = ["mpoliced: unit \(s.unit), up \(AnswerText.duration(s.uptimeSeconds)), officer \(s.officer?.officerId ?? "none signed in")"]
        for l in s.lists {
            let age = l.ageSeconds.map { AnswerText.duration($0) } ?? "—"
            lines.append("  \(l.list.padding(toLength: 16, withPad: " ", startingAt: 0)) v\(l.version)  \(l.recordCount) records  age \(age)\(l.stale ? "  STALE" : "")")
        }
        if !s.syncConfigured {
            lines.append("  sync: not configured")
        } else if let sync = s.lastSync {
            lines.append("  last sync \(Timestamp.iso8601(seconds: sync.startedAt / 1000)): \(sync.outcome.rawValue)\(sync.reason.map { " [\($0)] " } ?? "")\(sync.message ?? "")")
        } else {
            lines.append("  last sync: never")
        }
        lines.append("  gps: \(s.location?.status ?? "not configured")")
        lines.append("  journal: \(s.checkRecords) check records")
        return lines.joined(separator: "\n")
    }
}
