import ArgumentParser
import Foundation
import Store
import Watchlist

struct StatusCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "status",
        abstract: "Show the cached lists' versions, ages and sizes, and the journal.")

    @OptionGroup var store: StoreOptions

    struct Report: Encodable {
        struct List: Encodable {
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
            let directory = StateDirectory(path: store.stateDirectory)
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
}
