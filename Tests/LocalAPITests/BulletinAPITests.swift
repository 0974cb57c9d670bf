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

/// The bulletin and confirmation routes in process: a held bulletin in every answer and in
/// `GET /v1/bulletins`; a confirmation asked, shown with its check, and each bad input refused.
@Suite("Local API: bulletins and hit confirmation")
struct BulletinAPITests {
    static func json(_ text: String) -> ByteBuffer { ByteBuffer(string: text) }

    @Test("a held bulletin is in the plate answer and the list; a confirmation is asked once and shown with its check; bad ids, no-hits and bad bodies are refused")
    func routes() async throws {
        let world = try LocalAPITests.World()
        defer { world.scratch.remove() }
        let now = LocalAPITests.issuedAt + 3_600
        let bulletin = Bulletin(id: UUIDv7.make(milliseconds: now * 1000), serial: 1, subject: try .plate("BOL-0001"), region: nil,
                                summary: "getaway car", issuedAt: now - 60, expiresAt: now + 600)
        try world.journal.storeBulletin(bulletin, source: "poll", now: now * 1000)
        try await world.test { client in
            let nobody = try await client.execute(uri: "/v1/bulletins", method: .get)
            #expect(try LocalAPITests.error(nobody).code == "session.none")
            _ = try await client.execute(uri: "/v1/session", method: .post, body: Self.json(LocalAPITests.signIn))
            let list = try LocalAPITests.decode(BulletinList.self, try await client.execute(uri: "/v1/bulletins", method: .get))
            #expect(list.bulletins.map(\.bulletinId) == [bulletin.id] && list.bulletins.first?.subject == "BOL0001")

            let matched = try LocalAPITests.decode(CheckAnswer.self, try await client.execute(uri: "/v1/checks/plate", method: .post,
                                                                                              body: Self.json(#"{"plate":"bol-0001"}"#)))
            #expect(matched.outcome == .hit && matched.bulletins?.first?.bulletinId == bulletin.id)
            #expect(matched.bulletins?.first?.reasonDetail.code == "bulletin.match")

            let miss = try LocalAPITests.decode(CheckAnswer.self, try await client.execute(uri: "/v1/checks/plate", method: .post,
                                                                                           body: Self.json(#"{"plate":"QQ-0001"}"#)))
            let notAHit = try await client.execute(uri: "/v1/checks/\(miss.checkId)/confirm", method: .post, body: Self.json("{}"))
            #expect(try notAHit.status == .conflict && LocalAPITests.error(notAHit).code == "check.not-a-hit")
            let badId = try await client.execute(uri: "/v1/checks/plate/confirm", method: .post, body: Self.json("{}"))
            #expect(try badId.status == .badRequest && LocalAPITests.error(badId).field == "checkId")
            let unknown = try await client.execute(uri: "/v1/checks/0193aaaa-0000-7000-8000-000000000000/confirm", method: .post,
                                                   body: Self.json("{}"))
            #expect(try unknown.status == .notFound && LocalAPITests.error(unknown).code == "check.unknown")
            let wrongType = try await client.execute(uri: "/v1/checks/\(matched.checkId)/confirm", method: .post, body: Self.json(#"{"urgent":"yes"}"#))
            #expect(try wrongType.status == .badRequest && LocalAPITests.error(wrongType).field == "urgent")
            let extra = try await client.execute(uri: "/v1/checks/\(matched.checkId)/confirm", method: .post, body: Self.json(#"{"why":1}"#))
            #expect(try LocalAPITests.error(extra).code == "request.unknown-field")

            let asked = try await client.execute(uri: "/v1/checks/\(matched.checkId)/confirm", method: .post, body: Self.json(#"{"urgent":false}"#))
            #expect(asked.status == .created)
            let confirmation = try LocalAPITests.decode(HitConfirmation.self, asked)
            #expect(confirmation.state == .pending && !confirmation.urgent)
            let again = try await client.execute(uri: "/v1/checks/\(matched.checkId)/confirm", method: .post, body: Self.json("{}"))
            #expect(try again.status == .ok && LocalAPITests.decode(HitConfirmation.self, again).requestId == confirmation.requestId)

            let detail = try LocalAPITests.decode(CheckDetail.self, try await client.execute(uri: "/v1/checks/\(matched.checkId)", method: .get))
            #expect(detail.check.matches.map(\.list) == ["bulletins"] && detail.confirmation?.requestId == confirmation.requestId)
            let status = try LocalAPITests.decode(TerminalStatus.self, try await client.execute(uri: "/v1/status", method: .get))
            #expect(status.bulletins == 1 && status.confirmationsAwaited == 1)
            #expect(status.summaryLine.contains("1 URGENT BULLETIN;"))
        }
        let queued = try world.journal.dueOutboxItems(now: .max, maxItems: 10, maxBytes: 1 << 20)
        #expect(queued.first?.kind == .hitConfirmation)
    }
}
