import LocalAPIContract
import Watchlist

/// The officer-facing summary of a check answer: the verdict first, then what matched and
/// why, then the warnings.
enum AnswerText {
    static func render(_ a: CheckAnswer, colour: Bool, language: MessageLanguage) -> String {
        func paint(_ s: String, _ code: String) -> String { colour ? "\u{1B}[\(code)m\(s)\u{1B}[0m" : s }
        func say(_ code: String, _ arguments: [String: String] = [:]) -> String {
            MessageCatalogue.text(Notice(code, arguments), in: language)
        }
        var lines: [String] = []
        switch a.outcome {
        case .hit: lines.append(paint(say("answer.hit"), "1;31"))
        case .possibleHit: lines.append(paint(say("answer.possible-hit"), "1;33"))
        case .documentInvalid: lines.append(paint(say("answer.document-invalid"), "1;33"))
        case .noHit: lines.append(paint(say("answer.no-hit"), "32"))
        }
        var query = "\(a.kind.rawValue) \(a.query.normalized)"
        if let dob = a.query.dateOfBirth { query += " born \(dob)" }
        if let format = a.query.format { query += " (\(format))" }
        if let validity = a.query.idValidity, validity != "valid" { query += " — \(validity)" }
        lines.append(query)
        for list in a.lists {
            let v = list.version
            lines.append("  " + say("answer.list-line", [
                "list": list.list.rawValue, "outcome": list.outcome.rawValue, "version": String(v.version),
                "age": v.ageSeconds.map { say("answer.age", ["age": String($0)]) } ?? "",
                "count": String(v.recordCount), "stale": v.stale ? say("answer.stale") : "",
            ]))
            for m in list.matches {
                lines.append("    \(m.how == .exact ? "=" : "≈") \(summary(m.record))")
                if m.how != .exact { lines.append("      \(m.strength.map { "\($0.rawValue): " } ?? "")\(m.reason)") }
            }
        }
        for document in [a.registration, a.licence].compactMap({ $0 }) {
            let line = "  \(document.valid == false ? "✗" : document.valid == true ? "✓" : "?") \(document.statement.message)"
            lines.append(document.valid == false ? paint(line, "1;33") : line)
            if let record = document.record {
                let shown = ["plate", "vehicleKind", "colour", "make", "model", "classes", "validUntil", "reason"].compactMap { record[$0] }
                lines.append("    \(shown.joined(separator: " "))\(record["companyOwned"] == "1" ? " (company-owned)" : "")")
            }
        }
        for b in a.bulletins ?? [] {
            lines.append(paint("  URGENT BULLETIN \(b.how == .confusable ? "≈" : "=") \(b.subject): \(b.summary)", "1;31"))
            lines.append("    bulletin \(b.bulletinId)\(b.region.map { ", region \($0)" } ?? ""), until \(b.expiresAt)")
        }
        for w in a.warnings { lines.append(paint("  ! \(w)", "33")) }
        lines.append("  " + say("answer.recorded", ["check": a.checkId, "at": a.checkedAt]))
        return lines.joined(separator: "\n")
    }

    static func summary(_ record: ListedRecord) -> String {
        switch record {
        case .stolenVehicle(let v):
            return "\(v.plate)  \(v.colour) \(v.make) \(v.model) (\(v.vehicleKind)); case \(v.caseNumber), \(v.reportingUnit), reported \(v.reportedAt.prefix(10))"
        case .wantedPerson(let p):
            let caution = p.cautionFlags.isEmpty ? "" : "  CAUTION: \(p.cautionFlags.joined(separator: ", "))"
            return "\(p.name) \(p.sex) born \(p.dateOfBirth) ID \(p.idNumber ?? "—"); \(p.offence), warrant \(p.warrantNumber) (\(p.issuingAuthority))\(caution)"
        case .missingPerson(let p):
            return "\(p.name) \(p.sex) born \(p.dateOfBirth) ID \(p.idNumber ?? "—"); missing since \(p.missingSince)\(p.vulnerable ? ", VULNERABLE" : ""); \(p.description); contact \(p.contactUnit)"
        }
    }

    /// A recorded check with its confirmation and outcome (`mpolicectl check show`).
    static func render(_ d: CheckDetail, language: MessageLanguage) -> String {
        func say(_ code: String) -> String { MessageCatalogue.text(Notice(code), in: language) }
        let c = d.check
        var lines = ["check \(c.checkId) at \(c.checkedAt) by \(c.officerId.isEmpty ? "-" : c.officerId): \(c.kind) \(c.query) — \(c.outcome)"]
        for m in c.matches { lines.append("  \(m.list) \(m.recordId) (\(m.how))") }
        if let f = d.confirmation {
            lines.append("confirmation \(f.urgent ? "urgent" : "routine"), asked \(f.requestedAt), deadline \(f.deadline): \(f.state.rawValue)")
            if let answer = f.answer {
                lines.append("  \(say("confirmation.\(answer.state.rawValue)")) (answered \(answer.answeredAt))")
                for r in answer.records {
                    let fields = (r.fields ?? [:]).sorted { $0.key < $1.key }.map { "\($0.key)=\($0.value)" }.joined(separator: " ")
                    lines.append("    \(r.list) \(r.recordId): \(r.state.rawValue)\(r.since.map { " since \($0)" } ?? "")\(fields.isEmpty ? "" : "  \(fields)")")
                }
            } else {
                lines.append("  \(say(f.state == .overdue ? "confirmation.overdue" : "confirmation.pending"))")
            }
        }
        if let o = d.outcome { lines.append("outcome \(o.outcome.rawValue) at \(o.at)\(o.note.map { ": \($0)" } ?? "")") }
        return lines.joined(separator: "\n")
    }

    /// Bytes as B, kB or MB (decimal), one decimal place above a kilobyte.
    static func bytes(_ n: Int64) -> String {
        switch n {
        case ..<1_000: "\(n) B"
        case ..<1_000_000: String(format: "%.1f kB", Double(n) / 1_000)
        default: String(format: "%.1f MB", Double(n) / 1_000_000)
        }
    }

    static func duration(_ seconds: Int64) -> String {
        switch seconds {
        case ..<120: "\(seconds)s"
        case ..<7200: "\(seconds / 60)m"
        case ..<172_800: "\(seconds / 3600)h"
        default: "\(seconds / 86_400)d"
        }
    }
}
