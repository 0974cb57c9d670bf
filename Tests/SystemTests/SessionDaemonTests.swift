import Central
import FieldWire
import Foundation
import Store
import TestSupport
import Testing

/// The officer session in the built daemon over its real socket: the CLI with the PIN on
/// standard input, the lockout across a restart (its end, and the idle lock, are timed on an
/// injected clock in SessionTests), another peer than root refused a sign-out without the
/// PIN, a suspension delivered by a delta through nginx with client certificates, and no
/// secret in the log or in diag.
@Suite("Officer sessions in the daemon", .serialized)
struct SessionDaemonTests {
    static let session = "\n[session]\nlockout = 600\n[log]\nlevel = debug\n"

    /// Secrets that must never be logged: the demo officers' PINs, a wrong PIN tried, the
    /// roster's verifiers and the TOTP secret.
    static func secrets(wrongPIN: String) -> [String] {
        let officers = DemoRecords().officers
        return [DemoRecords.officer.pin, DemoRecords.secondOfficer.pin, wrongPIN, DemoRecords.officerWithTOTP.totpSecret!, "scrypt$"]
            + officers.map(\.pinVerifier) + officers.compactMap(\.secondFactor)
    }

    @Test("five wrong PINs lock the officer out, across a restart; another peer cannot sign the officer out without the PIN; no secret in the log")
    func lockoutAndPeers() throws {
        let (scratch, state) = try DaemonTests.state()
        defer { scratch.remove() }
        let officer = DemoRecords.officer
        let wrong = "111111"
        let first = try DaemonProcess(in: scratch.url, stateDirectory: state, extra: Self.session)
        try first.start()
        let env = ["MPOLICE_SOCKET": first.socketPath]
        for attempt in 1...4 {
            let run = try Programs.run("mpolicectl", ["signin", officer.officerId, "--json"], environment: env, input: wrong + "\n")
            #expect(run.status == 2 && run.stdout.contains("session.bad-credentials"), "attempt \(attempt): \(run.stdout)")
        }
        let fifth = try Programs.run("mpolicectl", ["signin", officer.officerId], environment: env, input: wrong + "\n")
        #expect(fifth.status == 2 && fifth.stderr.contains("session.locked-out"), "\(fifth.stderr)")
        let right = try first.client.signIn()
        #expect(right.status == 429, "the right PIN during the lockout")
        #expect(first.stop().status == 0)

        // A restart forgives nothing.
        let second = try DaemonProcess(in: try scratch.url.appendingPathComponent("second").creatingDirectory(), stateDirectory: state,
                                       extra: Self.session)
        try second.start()
        #expect(try second.client.signIn().status == 429)
        // A technician lifts it while the daemon runs; the next sign-in goes through.
        let lift = try Programs.run("mpolicectl", ["lift-lockout", officer.officerId, "--unit", "TPE-DA-01", "--db", state.path])
        #expect(lift.status == 0 && lift.stdout.contains("lockout lifted"), "\(lift.stderr)")
        #expect(try second.client.signIn().status == 201)
        #expect(second.stop().status == 0)
        let audit = try JournalStore.openReadOnly(path: StateDirectory(path: state.path).journalPath).recentAuditEvents()
        #expect(audit.map(\.event).prefix(2) == [.signIn, .lockoutLifted], "\(audit.map(\.event))")
        #expect(audit.filter { $0.event == .signInFailed }.count == 5 && audit.contains { $0.event == .lockedOut })

        // Another officer signs in. nobody, allowed on the socket, stands for the front-end:
        // it cannot sign the officer out without the PIN.
        let other = DemoRecords.secondOfficer
        let thirdDirectory = try scratch.url.appendingPathComponent("third").creatingDirectory()
        let later = try DaemonProcess(in: thirdDirectory, stateDirectory: state, extra: Self.session + "[api]\nallowed_users = nobody\n")
        try later.start()
        _ = chmod(later.socketPath, 0o666)
        let signedIn = try Programs.run("mpolicectl", ["signin", other.officerId, "--json"], environment: ["MPOLICE_SOCKET": later.socketPath],
                                        input: other.pin + "\n")
        #expect(signedIn.status == 0, "\(signedIn.stdout)\(signedIn.stderr)")
        #expect(signedIn.stdout.contains(#""authentication":"pin""#))
        func asNobody(_ body: String) throws -> Programs.Run {
            try Programs.system("/usr/bin/setpriv", ["--reuid=65534", "--regid=65534", "--clear-groups", "/usr/bin/curl", "-sS",
                                                     "--unix-socket", later.socketPath, "-H", "Content-Type: application/json",
                                                     "-d", body, "-w", "\n%{http_code}", "http://localhost/v1/session/sign-out"])
        }
        let noPIN = try asNobody("{}")
        #expect(noPIN.stdout.hasSuffix("401") && noPIN.stdout.contains("session.pin-required"), "\(noPIN.stdout)\(noPIN.stderr)")
        let wrongPIN = try asNobody(#"{"pin":"\#(wrong)"}"#)
        #expect(wrongPIN.stdout.hasSuffix("401") && wrongPIN.stdout.contains("session.bad-credentials"), "\(wrongPIN.stdout)")
        #expect(try later.client.json("GET", "/v1/session").object["officerId"] as? String == other.officerId, "still signed in")
        let withPIN = try asNobody(#"{"pin":"\#(other.pin)"}"#)
        #expect(withPIN.stdout.hasSuffix("204"), "\(withPIN.stdout)")
        #expect(try later.client.json("GET", "/v1/session").status == 404)
        #expect(later.stop().status == 0)

        for (name, log) in [("first", first.log), ("second", second.log), ("third", later.log)] {
            for secret in Self.secrets(wrongPIN: wrong) { #expect(!log.contains(secret), "the \(name) daemon's log holds a secret") }
        }
        let diag = try Programs.run("mpolicectl", ["diag", "--json", "--config", thirdDirectory.appendingPathComponent("mpoliced.conf").path])
        #expect(diag.stdout.contains(#""steps""#), "\(diag.stdout)\(diag.stderr)")
        for secret in Self.secrets(wrongPIN: wrong) { #expect(!diag.stdout.contains(secret) && !diag.stderr.contains(secret), "diag holds a secret") }
    }

    @Test("a suspension published by the center arrives by delta through nginx with mTLS: the signed-in officer's next check is refused and the session ends")
    func suspensionByDelta() throws {
        let center = try PublishedCenter(records: 2_000)
        defer { center.stop() }
        try center.publish()
        let state = try center.scratch.directory("state")
        #expect(try Programs.run("mpolicectl", center.syncArguments(state: state)).status == 0)
        let daemon = try DaemonProcess(in: try center.scratch.directory("daemon"), stateDirectory: state,
                                       extra: center.daemonSyncConfig(extra: "interval = 3600"))
        try daemon.start()
        #expect(try daemon.client.signIn().status == 201)
        #expect(try daemon.client.json("POST", "/v1/checks/plate", ["plate": DemoRecords.stolenPlate]).status == 200)

        // The center suspends the officer and publishes: a delta of the roster.
        let roster = center.dataset.appendingPathComponent(Dataset.fileName(.officers))
        let text = try String(contentsOf: roster, encoding: .utf8)
        let suspended = text.split(separator: "\n", omittingEmptySubsequences: false).map { line -> String in
            guard line.contains(",\(DemoRecords.officer.officerId),") else { return String(line) }
            var fields = line.split(separator: ",", omittingEmptySubsequences: false).map(String.init)
            (fields[4], fields[5]) = ("suspended", "停職調查中")
            return fields.joined(separator: ",")
        }.joined(separator: "\n")
        #expect(suspended != text)
        try suspended.write(to: roster, atomically: true, encoding: .utf8)
        let manifest = try center.publish()
        #expect(manifest.lists["officers"]?.deltas.isEmpty == false, "published as a delta")
        let events = EventCollector(client: daemon.client)
        #expect(events.waitConnected(timeout: 5))
        #expect(try Programs.run("mpolicectl", ["sync", "--now"], environment: ["MPOLICE_SOCKET": daemon.socketPath]).status == 0)
        #expect(events.wait(for: "list-updated", timeout: 15), "\(events.text)")
        #expect(events.text.contains(#""officers":"deltas""#), "\(events.text)")

        let refused = try daemon.client.json("POST", "/v1/checks/plate", ["plate": DemoRecords.stolenPlate])
        #expect(refused.status == 403)
        #expect((refused.object["error"] as? [String: Any])?["code"] as? String == "session.suspended")
        #expect(try daemon.client.json("GET", "/v1/session").status == 404, "the session ended")
        let again = try daemon.client.signIn()
        #expect((again.object["error"] as? [String: Any])?["code"] as? String == "session.suspended")
        #expect(daemon.stop().status == 0)
    }
}
