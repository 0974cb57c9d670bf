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

/// The field-operation routes: the emergency (raised by whoever holds the terminal, cancelled
/// with the officer's PIN), the unit's status, stops, hit outcomes — and their bad input.
@Suite("Local API: field operations")
struct FieldOperationsAPITests {
    static func json(_ text: String) -> ByteBuffer { ByteBuffer(string: text) }
    static let pin = #"{"pin":"\#(DemoRecords.officer.pin)"}"#

    @Test("the emergency: raised with nobody signed in or a locked screen, pressed again it is the same; cancelled only with the officer's PIN; status shows it")
    func emergency() async throws {
        let world = try LocalAPITests.World()
        defer { world.scratch.remove() }
        try await world.test { client in
            let raised = try await client.execute(uri: "/v1/emergency", method: .post)
            #expect(raised.status == .created)
            let emergency = try LocalAPITests.decode(Emergency.self, raised)
            #expect(emergency.active && emergency.officerId == "")
            let again = try await client.execute(uri: "/v1/emergency", method: .post)
            #expect(again.status == .ok)
            #expect(try LocalAPITests.decode(Emergency.self, again).emergencyId == emergency.emergencyId)
            // Nobody signed in: a client cannot cancel it.
            let nobody = try await client.execute(uri: "/v1/emergency/cancel", method: .post, body: Self.json(Self.pin))
            #expect(try LocalAPITests.error(nobody).code == "session.none")

            _ = try await client.execute(uri: "/v1/session", method: .post, body: Self.json(LocalAPITests.signIn))
            // The idle lock does not stand in the way of the PIN.
            world.clock.advance(milliseconds: 3_600_000)
            let noPIN = try await client.execute(uri: "/v1/emergency/cancel", method: .post, body: Self.json("{}"))
            #expect(noPIN.status == .unauthorized)
            #expect(try LocalAPITests.error(noPIN).code == "session.pin-required")
            let wrong = try await client.execute(uri: "/v1/emergency/cancel", method: .post, body: Self.json(#"{"pin":"000000"}"#))
            #expect(try LocalAPITests.error(wrong).code == "session.bad-credentials")
            let status = try await client.execute(uri: "/v1/status", method: .get)
            #expect(try LocalAPITests.decode(TerminalStatus.self, status).emergency?.emergencyId == emergency.emergencyId)

            let cancelled = try await client.execute(uri: "/v1/emergency/cancel", method: .post, body: Self.json(Self.pin))
            #expect(cancelled.status == .ok)
            let cleared = try LocalAPITests.decode(Emergency.self, cancelled)
            #expect(!cleared.active && cleared.clearedBy == DemoRecords.officer.officerId)
            let twice = try await client.execute(uri: "/v1/emergency/cancel", method: .post, body: Self.json(Self.pin))
            #expect(twice.status == .conflict)
            #expect(try LocalAPITests.error(twice).code == "emergency.none")
            let state = try LocalAPITests.decode(EmergencyState.self, try await client.execute(uri: "/v1/emergency", method: .get))
            #expect(state.active == nil && state.recent.map(\.emergencyId) == [emergency.emergencyId])
        }
        let sent = try world.journal.dueOutboxItems(now: .max, maxItems: 50, maxBytes: 1 << 20)
        #expect(sent.prefix(2).map(\.kind) == [.emergency, .emergency])
    }

    @Test("unit status, a stop with a check in it, and a hit's outcome through the API; each bad value refused with its field")
    func statusStopsOutcomes() async throws {
        let world = try LocalAPITests.World()
        defer { world.scratch.remove() }
        try await world.test { client in
            let before = try await client.execute(uri: "/v1/unit-status", method: .post, body: Self.json(#"{"status":"available"}"#))
            #expect(try LocalAPITests.error(before).code == "session.none")
            _ = try await client.execute(uri: "/v1/session", method: .post, body: Self.json(LocalAPITests.signIn))
            let bad = try await client.execute(uri: "/v1/unit-status", method: .post, body: Self.json(#"{"status":"lunch"}"#))
            #expect(bad.status == .badRequest)
            #expect(try LocalAPITests.error(bad).field == "status")
            let set = try await client.execute(uri: "/v1/unit-status", method: .post, body: Self.json(#"{"status":"meal-break"}"#))
            #expect(try LocalAPITests.decode(UnitStatusRecord.self, set).status == .mealBreak)
            let status = try LocalAPITests.decode(TerminalStatus.self, try await client.execute(uri: "/v1/status", method: .get))
            #expect(status.unitStatus?.status == .mealBreak && status.unitStatus?.source == .officer)

            let badKind = try await client.execute(uri: "/v1/incidents", method: .post, body: Self.json(#"{"kind":"car-chase"}"#))
            #expect(try LocalAPITests.error(badKind).field == "kind")
            let long = String(repeating: "x", count: 501)
            let longNote = try await client.execute(uri: "/v1/incidents", method: .post, body: Self.json(#"{"kind":"traffic-stop","note":"\#(long)"}"#))
            #expect(try LocalAPITests.error(longNote).field == "note")
            let opened = try await client.execute(uri: "/v1/incidents", method: .post, body: Self.json(#"{"kind":"traffic-stop","note":"white van"}"#))
            #expect(opened.status == .created)
            let stop = try LocalAPITests.decode(Incident.self, opened)
            let second = try await client.execute(uri: "/v1/incidents", method: .post, body: Self.json(#"{"kind":"person-stop"}"#))
            #expect(second.status == .conflict)
            #expect(try LocalAPITests.error(second).code == "incident.already-open")

            let hit = try LocalAPITests.decode(CheckAnswer.self, try await client.execute(uri: "/v1/checks/plate", method: .post,
                                                                                          body: Self.json(#"{"plate":"BLT-8023"}"#)))
            #expect(hit.outcome == .hit && hit.incidentId == stop.incidentId)
            let closed = try await client.execute(uri: "/v1/incidents/\(stop.incidentId)/close", method: .post, body: Self.json(#"{"note":"driver arrested"}"#))
            #expect(try LocalAPITests.decode(Incident.self, closed).checks == 1)
            let unknown = try await client.execute(uri: "/v1/incidents/01937a00-0000-7000-8000-00000000ffff", method: .get)
            #expect(unknown.status == .notFound)
            #expect(try LocalAPITests.error(unknown).code == "incident.unknown")

            let badOutcome = try await client.execute(uri: "/v1/checks/\(hit.checkId)/outcome", method: .post, body: Self.json(#"{"outcome":"arrested"}"#))
            #expect(try LocalAPITests.error(badOutcome).field == "outcome")
            let outcome = try await client.execute(uri: "/v1/checks/\(hit.checkId)/outcome", method: .post,
                                                   body: Self.json(#"{"outcome":"confirmed-acted","note":"vehicle recovered"}"#))
            #expect(outcome.status == .created)
            #expect(try LocalAPITests.decode(RecordedHitOutcome.self, outcome).lists == ["stolen-vehicles"])
            let again = try await client.execute(uri: "/v1/checks/\(hit.checkId)/outcome", method: .post, body: Self.json(#"{"outcome":"released"}"#))
            #expect(try LocalAPITests.error(again).code == "check.outcome-recorded")
            let missing = try await client.execute(uri: "/v1/checks/01937a00-0000-7000-8000-00000000ffff/outcome", method: .post,
                                                   body: Self.json(#"{"outcome":"released"}"#))
            #expect(missing.status == .notFound)
        }
        let kinds = try world.journal.dueOutboxItems(now: .max, maxItems: 50, maxBytes: 1 << 20).map(\.kind)
        #expect(kinds.filter { $0 == .incident }.count == 2 && kinds.contains(.unitStatus) && kinds.contains(.hitOutcome))
    }
}
