import Central
import FieldSync
import FieldWire
import Foundation
import Store
import TestSupport
import Testing
import Watchlist

/// The audit chain end to end: checks and a session event recorded on a terminal, the
/// outbox tampered with by the sqlite3 shell as someone holding the terminal could, the
/// batch through nginx with client certificates to the reference center, and
/// `mpolice-central audit --anomalies` as an auditor runs it.
@Suite("Audit chain: terminal to center", .serialized)
struct AuditChainTests {
    enum Tamper: String, CaseIterable, Sendable {
        case none, edit, delete, reorder
    }

    @Test("a record edited, deleted or moved in the outbox is flagged by the center; an untouched chain is not", arguments: Tamper.allCases)
    func tampered(_ tamper: Tamper) throws {
        let world = try UplinkWorld()
        defer { world.stop() }
        let (checker, journal, uplink) = try UplinkTests.terminal(world)
        let context = try CheckContext(officerId: "OF-0042", unitId: "TPE-DA-01", authentication: .pin)
        for i in 0..<6 { _ = try checker.check(.plate(String(format: "QB-%04d", i)), context: context) }
        try journal.recordAudit(AuditEventPayload(eventId: UUIDv7.make(milliseconds: 1_800_000_000_000), at: "2027-01-15T08:00:00Z",
                                                  officerId: "OF-0042", unitId: "TPE-DA-01", event: .signOut, authentication: "pin", reason: nil),
                                now: 1_800_000_000_000)
        #expect(try journal.chainHead()?.seq == 7)

        let third = "(SELECT seq FROM outbox ORDER BY seq LIMIT 1 OFFSET 2)", fourth = "(SELECT seq FROM outbox ORDER BY seq LIMIT 1 OFFSET 3)"
        let sql: String? = switch tamper {
        case .none: nil
        case .edit: "UPDATE outbox SET payload = json_set(payload, '$.query', 'XYZ9999') WHERE seq = \(third);"
        case .delete: "DELETE FROM outbox WHERE seq = \(third);"
        case .reorder: """
            UPDATE outbox SET payload = json_set(payload, '$.chain.seq', -1) WHERE seq = \(third);
            UPDATE outbox SET payload = json_set(payload, '$.chain.seq', 3) WHERE seq = \(fourth);
            UPDATE outbox SET payload = json_set(payload, '$.chain.seq', 4) WHERE json_extract(payload, '$.chain.seq') = -1;
            """
        }
        if let sql {
            let path = world.scratch.url.appendingPathComponent("terminal/journal.db").path
            let shell = try Programs.system("/usr/bin/sqlite3", [path, sql])
            #expect(shell.status == 0, "\(shell.stderr)")
        }
        _ = try uplink.flush()
        #expect(try journal.outboxStatus(now: 0).pending == 0)

        let audit = try Programs.run("mpolice-central", ["audit", "--db", world.databasePath, "--anomalies", "--json"])
        let found = try JSONSerialization.jsonObject(with: Data(audit.stdout.utf8)) as? [[String: Any]] ?? []
        let kinds = found.compactMap { $0["kind"] as? String }
        let details = found.compactMap { $0["detail"] as? String }
        switch tamper {
        case .none:
            #expect(audit.status == 0 && found.isEmpty, "\(audit.stdout)\(audit.stderr)")
        case .edit:
            #expect(audit.status == 4)
            #expect(kinds == ["chain-break"] && details.first?.contains("record 4") == true, "\(details)")
        case .delete:
            #expect(audit.status == 4)
            #expect(kinds == ["chain-break", "chain-gap"] || kinds == ["chain-gap"], "\(details)")
            #expect(details.contains { $0.contains("record 3 missing") }, "\(details)")
        case .reorder:
            #expect(audit.status == 4)
            #expect(kinds.allSatisfy { $0 == "chain-break" } && kinds.count >= 2, "\(details)")
        }
    }

    @Test("audit --subject and --plate list who checked, when, why and how; --anomalies finds many officers on one subject, a high rate and a unit outside the roster's")
    func whoCheckedWhom() throws {
        let world = try UplinkWorld()
        defer { world.stop() }
        let (checker, journal, uplink) = try UplinkTests.terminal(world)
        let dataset = world.scratch.url.appendingPathComponent("dataset")
        try DatasetGenerator(counts: .init(records: 100), seed: 5, issuedAt: 1_795_700_000).write(to: dataset)
        for officer in ["OF-0042", "OF-0007", "OF-0021", "OF-0099"] {
            let context = try CheckContext(officerId: officer, unitId: "TPE-DA-01", authentication: .pinAndOTP)
            _ = try checker.check(.plate("blt 8023"), context: context)
        }
        let purpose = CheckPurpose(unchecked: "dispatch", reference: "D-2026-0042")
        let context = try CheckContext(officerId: "OF-0042", unitId: "TPE-DA-01", authentication: .pin, purpose: purpose)
        _ = try checker.check(.personID("f131680258"), context: context)
        for i in 0..<4 { _ = try checker.check(.plate(String(format: "QC-%04d", i)), context: context) }
        _ = try uplink.flush()
        #expect(try journal.outboxStatus(now: 0).pending == 0)

        let plate = try Programs.run("mpolice-central", ["audit", "--db", world.databasePath, "--plate", "BLT-8023", "--json"])
        let plateChecks = try JSONSerialization.jsonObject(with: Data(plate.stdout.utf8)) as? [[String: Any]] ?? []
        #expect(plate.status == 0)
        #expect(Set(plateChecks.compactMap { $0["officerId"] as? String }) == ["OF-0042", "OF-0007", "OF-0021", "OF-0099"])
        #expect(plateChecks.allSatisfy { $0["authentication"] as? String == "pin+otp" && $0["unitId"] as? String == "TPE-DA-01" })

        let subject = try Programs.run("mpolice-central", ["audit", "--db", world.databasePath, "--subject", "F131680258"])
        #expect(subject.status == 0)
        #expect(subject.stdout.contains("TPE-DA-01\tOF-0042\tpin\tdispatch D-2026-0042\t"), "\(subject.stdout)")
        #expect(subject.stderr.contains("1 checks"))

        let anomalies = try Programs.run("mpolice-central", ["audit", "--db", world.databasePath, "--anomalies", "--json",
                                                            "--max-officers-per-subject", "3", "--max-checks-per-hour", "5",
                                                            "--dataset", dataset.path])
        #expect(anomalies.status == 4)
        let found = try JSONSerialization.jsonObject(with: Data(anomalies.stdout.utf8)) as? [[String: Any]] ?? []
        let byKind = Dictionary(grouping: found) { $0["kind"] as? String ?? "" }
        #expect(byKind["subject-many-officers"]?.first?["subject"] as? String == "BLT8023", "\(found)")
        #expect(byKind["officer-rate"]?.first?["officerId"] as? String == "OF-0042", "6 checks by OF-0042 in the hour: \(found)")
        #expect(byKind["unit-not-allowed"]?.map { $0["officerId"] as? String } == ["OF-0099"], "OF-0099 may sign in on KHH-ZY-07 only: \(found)")
        #expect(byKind["chain-break"] == nil && byKind["chain-gap"] == nil)
    }
}
