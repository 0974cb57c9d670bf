import ArgumentParser
import Foundation
import LocalAPIContract
import Store
import Watchlist

struct StatusCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "status",
        abstract: "Show the cached lists' versions, ages and sizes, the last sync, the outbox and the journal.",
        discussion: "Asks the daemon (unit, uptime, officer, GPS too); with --db, reads the state directory and checks both databases' integrity.")

    @OptionGroup var store: StoreOptions

    func run() throws {
        do {
            let status: TerminalStatus
            if let path = store.offlineDirectory {
                let directory = try store.stateDirectory(path)
                try directory.requireLists()
                status = try TerminalStatus.read(lists: ListsStore.open(directory), journal: JournalStore.open(path: directory.journalPath),
                                                 stateDirectory: directory.url.path, clock: SystemClock(), integrity: true)
            } else {
                status = try store.daemon.status()
            }
            store.print(status, text: Self.text)
        } catch {
            throw Failure.exit(error, json: store.json)
        }
    }

    static func text(_ s: TerminalStatus) -> String {
        var lines: [String] = []
        if let unit = s.unit {
            lines.append("mpoliced: unit \(unit), up \(AnswerText.duration(s.uptimeSeconds ?? 0)), officer \(s.officer?.officerId ?? "none signed in")")
        } else {
            lines.append("state directory \(s.stateDirectory)")
        }
        lines += s.lists.map(line)
        lines.append(s.syncConfigured == false ? "  sync: not configured" : line(s.lastSync))
        lines.append(line(s.outbox, lastUpload: s.lastUpload) + (s.uplinkConfigured == false ? "  (uplink not configured)" : ""))
        if s.unit != nil { lines.append("  gps: \(s.location?.status.rawValue ?? "not configured")") }
        lines.append("  journal: \(s.checkRecords) check records")
        if let emergency = s.emergency { lines.append("  EMERGENCY ACTIVE since \(emergency.raisedAt)") }
        if let bulletins = s.bulletins, bulletins > 0 { lines.append("  URGENT BULLETINS: \(bulletins) held (mpolicectl bulletins)") }
        if let awaited = s.confirmationsAwaited, awaited > 0 { lines.append("  confirmations: \(awaited) awaiting the center") }
        if let integrity = s.integrity {
            lines.append("  quick_check: lists.db \(integrity.lists), journal.db \(integrity.journal)")
        }
        if let protection = s.protection { lines += Self.lines(protection) }
        return lines.joined(separator: "\n")
    }

    /// The lock, the last order and the dead-man countdown.
    static func lines(_ p: ProtectionStatus) -> [String] {
        var lines: [String] = []
        if let wiped = p.wiped {
            lines.append("  WIPED by order \(wiped.orderSequence) at \(wiped.completedAt)"
                         + (wiped.acknowledged ? "" : " (acknowledgement undeliverable)") + ": re-provision this terminal")
        } else if let lock = p.lock {
            lines.append("  LOCKED: \(lock.cause.rawValue), order \(lock.orderSequence), since \(lock.since)")
        }
        if p.lastOrderSequence > 0 { lines.append("  orders: last executed \(p.lastOrderSequence)") }
        if let offline = p.offline {
            var text = "  offline: \(AnswerText.duration(offline.offlineSeconds)) without a verified manifest"
            if offline.refusing {
                text += "; CHECKS REFUSED (security.max_offline)"
            } else if let refusal = offline.refusalInSeconds {
                text += "; checks refused in \(AnswerText.duration(refusal))"
            }
            if let wipe = offline.wipeInSeconds { text += wipe == 0 ? "; lists wipe due" : "; lists wiped in \(AnswerText.duration(wipe))" }
            lines.append(text)
        }
        return lines
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
