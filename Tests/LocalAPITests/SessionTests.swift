import Central
import FieldWire
import Foundation
import Hummingbird
import HummingbirdTesting
import LocalAPI
import LocalAPIContract
import Store
import TestSupport
import Testing
import Watchlist

/// The officer session through the API's router, on a clock the test moves: verification
/// against the roster, lockout, the second factor, the idle lock, replacing and signing out,
/// and the purpose checks must carry.
@Suite("Officer sessions in process")
struct SessionTests {
    typealias World = LocalAPITests.World

    static func body(_ officer: DemoRecords.DemoOfficer, pin: String? = nil, otp: String? = nil, currentPin: String? = nil) -> ByteBuffer {
        var fields = [#""officerId":"\#(officer.officerId)""#, #""pin":"\#(pin ?? officer.pin)""#]
        if let otp { fields.append(#""otp":"\#(otp)""#) }
        if let currentPin { fields.append(#""currentPin":"\#(currentPin)""#) }
        return ByteBuffer(string: "{\(fields.joined(separator: ","))}")
    }

    static func code(_ response: TestResponse) throws -> String { try LocalAPITests.error(response).code }

    @Test("five wrong PINs lock the officer out (429, Retry-After) — the right PIN too — until the lockout ends; a restart forgives nothing")
    func lockout() async throws {
        let world = try World()
        defer { world.scratch.remove() }
        let officer = DemoRecords.officer
        try await world.test { client in
            for attempt in 1...4 {
                let response = try await client.execute(uri: "/v1/session", method: .post, body: Self.body(officer, pin: "000000"))
                #expect(response.status == .unauthorized, "attempt \(attempt)")
                #expect(try Self.code(response) == "session.bad-credentials")
            }
            let fifth = try await client.execute(uri: "/v1/session", method: .post, body: Self.body(officer, pin: "000000"))
            #expect(fifth.status == .tooManyRequests)
            #expect(try Self.code(fifth) == "session.locked-out")
            #expect(fifth.headers[.retryAfter] == "900")
            let right = try await client.execute(uri: "/v1/session", method: .post, body: Self.body(officer))
            #expect(right.status == .tooManyRequests, "the right PIN is refused during the lockout")
        }
        // Another session on the same journal (the daemon restarted): still locked out.
        #expect(try world.journal.officerAuthState(officer.officerId).lockedUntil == LocalAPITests.issuedAt + 3_600 + 900)
        world.clock.advance(milliseconds: 899_000)
        try await world.test { client in
            let stillLocked = try await client.execute(uri: "/v1/session", method: .post, body: Self.body(officer))
            #expect(stillLocked.status == .tooManyRequests)
        }
        world.clock.advance(milliseconds: 1_000)
        try await world.test { client in
            let response = try await client.execute(uri: "/v1/session", method: .post, body: Self.body(officer))
            #expect(response.status == .created)
            #expect(try LocalAPITests.decode(SessionInfo.self, response).authentication == "pin")
        }
        #expect(try world.journal.officerAuthState(officer.officerId) == OfficerAuthState(failures: 0, lockedUntil: nil, lastOTPStep: nil))
    }

    @Test("an unknown officer is a bad credential like a wrong PIN; suspended and other-unit officers are refused by name after a right PIN")
    func rosterStanding() async throws {
        let world = try World()
        defer { world.scratch.remove() }
        try await world.test { client in
            let unknown = DemoRecords.DemoOfficer(officerId: "OF-9999", pin: "123456", totpSecret: nil)
            let response = try await client.execute(uri: "/v1/session", method: .post, body: Self.body(unknown))
            #expect(response.status == .unauthorized)
            #expect(try Self.code(response) == "session.bad-credentials")
            let suspended = try await client.execute(uri: "/v1/session", method: .post, body: Self.body(DemoRecords.suspendedOfficer))
            #expect(suspended.status == .forbidden)
            #expect(try Self.code(suspended) == "session.suspended")
            let wrongPIN = try await client.execute(uri: "/v1/session", method: .post, body: Self.body(DemoRecords.suspendedOfficer, pin: "999999"))
            #expect(try Self.code(wrongPIN) == "session.bad-credentials", "a wrong PIN does not learn the suspension")
            let elsewhere = try await client.execute(uri: "/v1/session", method: .post, body: Self.body(DemoRecords.otherUnitOfficer))
            #expect(elsewhere.status == .forbidden)
            #expect(try Self.code(elsewhere) == "session.wrong-unit")
            let badPIN = try await client.execute(uri: "/v1/session", method: .post, body: Self.body(DemoRecords.officer, pin: "12ab"))
            #expect(badPIN.status == .badRequest)
        }
    }

    @Test("a second factor: otp required, a wrong code refused, the right one accepted (pin+otp), the same code not twice")
    func secondFactor() async throws {
        let world = try World()
        defer { world.scratch.remove() }
        let officer = DemoRecords.officerWithTOTP
        // The code as an authenticator gives it: oathtool, at the terminal's time.
        let oathtool = try Programs.system("/usr/bin/oathtool", ["--totp", "-b", officer.totpSecret!, "-N", "@\(world.clock.nowSeconds)"])
        let code = oathtool.stdout.trimmingCharacters(in: .whitespacesAndNewlines)
        #expect(oathtool.status == 0 && code.count == 6, "\(oathtool.stderr)")
        try await world.test { client in
            let missing = try await client.execute(uri: "/v1/session", method: .post, body: Self.body(officer))
            #expect(missing.status == .unauthorized)
            #expect(try Self.code(missing) == "session.otp-required")
            let wrong = try await client.execute(uri: "/v1/session", method: .post,
                                                 body: Self.body(officer, otp: code == "000000" ? "111111" : "000000"))
            #expect(try Self.code(wrong) == "session.bad-otp")
            let right = try await client.execute(uri: "/v1/session", method: .post, body: Self.body(officer, otp: code))
            #expect(right.status == .created)
            #expect(try LocalAPITests.decode(SessionInfo.self, right).authentication == "pin+otp")
            let check = try await client.execute(uri: "/v1/checks/plate", method: .post, body: ByteBuffer(string: #"{"plate":"BLT-8023"}"#))
            #expect(try LocalAPITests.decode(CheckAnswer.self, check).authentication == .pinAndOTP)
            let replay = try await client.execute(uri: "/v1/session", method: .post, body: Self.body(officer, otp: code))
            #expect(try Self.code(replay) == "session.bad-otp", "a code is good once")
        }
        #expect(try world.journal.officerAuthState(officer.officerId).failures == 1, "the wrong code, then forgiven by the sign-in; the replay")
    }

    @Test("idle past session.idle_lock: checks are 423 session.locked; a wrong PIN does not unlock, the right one does")
    func idleLock() async throws {
        let world = try World()
        defer { world.scratch.remove() }
        let plate = ByteBuffer(string: #"{"plate":"BLT-8023"}"#)
        try await world.test { client in
            #expect(world.session.untilIdleLock() == nil, "nobody signed in: no deadline")
            #expect(try await client.execute(uri: "/v1/session", method: .post, body: Self.body(DemoRecords.officer)).status == .created)
            #expect(world.session.untilIdleLock() == .seconds(600))
            world.clock.advance(milliseconds: 599_000)
            #expect(world.session.untilIdleLock() == .seconds(1), "what the idle-lock service sleeps until")
            #expect(try await client.execute(uri: "/v1/checks/plate", method: .post, body: plate).status == .ok, "a check is activity")
            #expect(world.session.untilIdleLock() == .seconds(600), "activity moves the deadline on")
            world.clock.advance(milliseconds: 600_000)
            #expect(world.session.untilIdleLock() == .zero)
            let locked = try await client.execute(uri: "/v1/checks/plate", method: .post, body: plate)
            #expect(locked.status.code == 423)
            #expect(try Self.code(locked) == "session.locked")
            let session = try await client.execute(uri: "/v1/session", method: .get)
            #expect(try LocalAPITests.decode(SessionInfo.self, session).locked)
            #expect(world.session.untilIdleLock() == nil, "locked: nothing to wait for")
            let wrong = try await client.execute(uri: "/v1/session/unlock", method: .post, body: ByteBuffer(string: #"{"pin":"000000"}"#))
            #expect(wrong.status == .unauthorized)
            #expect(try await client.execute(uri: "/v1/checks/plate", method: .post, body: plate).status.code == 423)
            let right = try await client.execute(uri: "/v1/session/unlock", method: .post,
                                                 body: ByteBuffer(string: #"{"pin":"\#(DemoRecords.officer.pin)"}"#))
            #expect(right.status == .ok)
            #expect(try LocalAPITests.decode(SessionInfo.self, right).locked == false)
            #expect(try await client.execute(uri: "/v1/checks/plate", method: .post, body: plate).status == .ok)
        }
        #expect(try world.journal.checkCount() == 2)
    }

    @Test("replacing the officer needs their PIN; signing out needs the PIN")
    func replaceAndSignOut() async throws {
        let world = try World()
        defer { world.scratch.remove() }
        let (first, second) = (DemoRecords.officer, DemoRecords.secondOfficer)
        try await world.test { client in
            #expect(try await client.execute(uri: "/v1/session", method: .post, body: Self.body(first)).status == .created)
            let taken = try await client.execute(uri: "/v1/session", method: .post, body: Self.body(second))
            #expect(taken.status == .conflict)
            #expect(try Self.code(taken) == "session.in-use")
            let wrong = try await client.execute(uri: "/v1/session", method: .post, body: Self.body(second, currentPin: "000000"))
            #expect(try Self.code(wrong) == "session.bad-credentials")
            let replaced = try await client.execute(uri: "/v1/session", method: .post, body: Self.body(second, currentPin: first.pin))
            #expect(replaced.status == .created)
            #expect(try LocalAPITests.decode(SessionInfo.self, replaced).officerId == second.officerId)
            let noPIN = try await client.execute(uri: "/v1/session/sign-out", method: .post, body: ByteBuffer(string: "{}"))
            #expect(try Self.code(noPIN) == "session.pin-required")
            let wrongPIN = try await client.execute(uri: "/v1/session/sign-out", method: .post, body: ByteBuffer(string: #"{"pin":"\#(first.pin)"}"#))
            #expect(wrongPIN.status == .unauthorized, "the first officer's PIN no longer signs anyone out")
            #expect(try await client.execute(uri: "/v1/session/sign-out", method: .post,
                                             body: ByteBuffer(string: #"{"pin":"\#(second.pin)"}"#)).status == .noContent)
            #expect(try await client.execute(uri: "/v1/session", method: .get).status == .notFound)
        }
        // The journal's chain has each step, newest first, with who acted.
        let events = try world.journal.recentAuditEvents().map { "\($0.event.rawValue) \($0.officerId) \($0.authentication ?? "-")" }
        #expect(events == ["sign-out OF-0021 pin", "sign-in-failed OF-0021 -", "sign-in OF-0021 pin", "sign-out OF-0042 pin",
                           "sign-in-failed OF-0042 -", "sign-in OF-0042 pin"], "\(events)")
    }

    @Test("person checks need a purpose: required, known, with its reference; it is journaled with the authentication", arguments: [
        (#"{"id":"A123456789"}"#, "purpose.required"),
        (#"{"id":"A123456789","purpose":"curiosity"}"#, "purpose.unknown"),
        (#"{"id":"A123456789","purpose":"dispatch"}"#, "purpose.reference"),
        (#"{"id":"A123456789","purposeReference":"D-1"}"#, "purpose.required"),
    ])
    func purpose(body: String, code: String) async throws {
        let world = try World()
        defer { world.scratch.remove() }
        try await world.test { client in
            _ = try await client.execute(uri: "/v1/session", method: .post, body: Self.body(DemoRecords.officer))
            let refused = try await client.execute(uri: "/v1/checks/person", method: .post, body: ByteBuffer(string: body))
            #expect(refused.status == .badRequest)
            #expect(try Self.code(refused) == code)
            #expect(try LocalAPITests.error(refused).field == "purpose")
            let given = try await client.execute(uri: "/v1/checks/person", method: .post,
                                                 body: ByteBuffer(string: #"{"id":"A123456789","purpose":"dispatch","purposeReference":"D-2026-0042"}"#))
            #expect(given.status == .ok)
        }
        let record = try #require(try world.journal.recentChecks().first)
        #expect(record.purpose == CheckPurpose(unchecked: "dispatch", reference: "D-2026-0042"))
        #expect(record.authentication == "pin")
        #expect(try world.journal.checkCount() == 1)
    }
}
