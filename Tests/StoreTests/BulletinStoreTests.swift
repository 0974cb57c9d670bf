import Central
import FieldWire
import Foundation
import Store
import TestSupport
import Testing
import Watchlist

/// Bulletins in journal.db as every check matches them, and confirmation requests as the
/// terminal tracks them.
@Suite("Bulletins and hit confirmation in journal.db")
struct BulletinStoreTests {
    static let now = LoadedState.issuedAt + 3_600

    static func bulletin(_ subject: Bulletin.Subject, serial: Int64 = 1, expiresIn: Int64 = 600) -> Bulletin {
        Bulletin(id: UUIDv7.make(milliseconds: (now + serial) * 1000), serial: serial, subject: subject, region: nil,
                 summary: "bulletin \(serial)", issuedAt: now - 10, expiresAt: now + expiresIn)
    }

    @Test("a stored bulletin is matched by the next check: the plate exactly (hit) or by confusables (possible hit), the ID, the name with its birth date")
    func matched() throws {
        let s = try LoadedState()
        defer { s.directory.remove() }
        let clock = ManualClock(nowMilliseconds: Self.now * 1000)
        let checker = Checker(lists: s.lists, journal: s.journal, clock: clock)
        let before = try checker.check(.plate("ZZ-1234"), context: LoadedState.officer)
        #expect(before.outcome == .noHit && before.bulletins == [])

        let first = Self.bulletin(try .plate("ZZ-1234"), serial: 1)
        try s.journal.storeBulletin(first, source: "poll", now: 1)
        try s.journal.storeBulletin(Self.bulletin(try .personID("A123456789"), serial: 2), source: "poll", now: 1)
        try s.journal.storeBulletin(Self.bulletin(try .person(name: "王小明", dateOfBirth: "1990-01-02"), serial: 3), source: "manifest", now: 1)

        let plate = try checker.check(.plate("zz-1234"), context: LoadedState.officer)
        #expect(plate.outcome == .hit && plate.confirmBeforeActing)
        #expect(plate.bulletins?.map(\.how) == [.exact] && plate.bulletins?.first?.summary == "bulletin 1")
        // 2 and Z are confusable on plates: a misread is a possible hit.
        let misread = try checker.check(.plate("2Z-1234"), context: LoadedState.officer)
        #expect(misread.outcome == .possibleHit && misread.bulletins?.map(\.how) == [.confusable])
        let id = try checker.check(.personID("A123456789"), context: LoadedState.officer)
        #expect(id.bulletins?.count == 1 && id.outcome == .hit)
        let name = try checker.check(.personName(name: "王小明", dateOfBirth: "1990-01-02"), context: LoadedState.officer)
        #expect(name.bulletins?.map(\.how) == [.nameAndDateOfBirth])
        let otherDay = try checker.check(.personName(name: "王小明", dateOfBirth: "1990-01-03"), context: LoadedState.officer)
        #expect(otherDay.bulletins == [])
        // The record sent to the center names the bulletin as a match.
        let recorded = try #require(try s.journal.check(id: plate.checkId))
        #expect(recorded.matches.contains { $0.list == "bulletins" && $0.recordId == plate.bulletins?.first?.bulletinId })
        #expect(try s.journal.bulletinCursor() == 3)
        // Stored again: a replay, nothing new.
        #expect(try !s.journal.storeBulletin(first, source: "manifest", now: 2))
        #expect(s.journal.holdsBulletin(id: first.id))
    }

    @Test("expiry follows the injected clock: matched until expiresAt, then not; dropped; kept across a reopen until then")
    func expiry() throws {
        let s = try LoadedState()
        defer { s.directory.remove() }
        let clock = ManualClock(nowMilliseconds: Self.now * 1000)
        let checker = Checker(lists: s.lists, journal: s.journal, clock: clock)
        try s.journal.storeBulletin(Self.bulletin(try .plate("ZZ-1234"), expiresIn: 600), source: "poll", now: 1)
        clock.advance(milliseconds: 599_000)
        #expect(try checker.check(.plate("ZZ-1234"), context: LoadedState.officer).bulletins?.count == 1)
        let reopened = try JournalStore.open(path: s.state.journalPath)
        #expect(try reopened.activeBulletins(now: Self.now + 599).count == 1)
        clock.advance(milliseconds: 1_000)
        #expect(try checker.check(.plate("ZZ-1234"), context: LoadedState.officer).bulletins == [], "not matched at expiresAt")
        #expect(try s.journal.dropExpiredBulletins(now: Self.now + 600).count == 1)
        #expect(try s.journal.heldBulletins().isEmpty)
    }

    @Test("a confirmation is queued first with the check's query and matches; answered once; overdue at its deadline")
    func confirmation() throws {
        let s = try LoadedState()
        defer { s.directory.remove() }
        let checker = s.checker()
        for i in 0..<5 { _ = try checker.check(.plate(String(format: "QF-%04d", i)), context: LoadedState.officer) }
        let hit = try checker.check(.plate(DemoRecords.stolenPlate), context: LoadedState.officer)
        let miss = try checker.check(.plate("QF-9999"), context: LoadedState.officer)
        #expect(throws: FieldOperationError.self) {
            try s.journal.requestConfirmation(checkId: miss.checkId, urgent: true, officerId: "OF-0001", unitId: "TPE-DA-01", now: 10)
        }
        let (asked, new) = try s.journal.requestConfirmation(checkId: hit.checkId, urgent: true, officerId: "OF-0001", unitId: "TPE-DA-01",
                                                             now: 1_000)
        #expect(new && asked.state == .pending && asked.deadline == Timestamp.iso8601(milliseconds: 601_000))
        #expect(try !s.journal.requestConfirmation(checkId: hit.checkId, urgent: true, officerId: "OF-0001", unitId: "TPE-DA-01", now: 2_000).asked)
        let due = try s.journal.dueOutboxItems(now: .max, maxItems: 100, maxBytes: 1 << 20)
        #expect(due.first?.kind == .hitConfirmation && due.first?.priority == 0, "first in the outbox")
        let request = try WireJSON.decode(HitConfirmationRequest.self, from: Data(due[0].payload.utf8))
        #expect(request.checkId == hit.checkId && request.query == "BLT8023" && request.matches.first?.list == "stolen-vehicles")
        #expect(try s.journal.urgentPending())

        #expect(try s.journal.markOverdueConfirmations(now: 600_999).isEmpty)
        #expect(try s.journal.nextConfirmationDeadline() == 601_000)
        let overdue = try s.journal.markOverdueConfirmations(now: 601_000)
        #expect(overdue.map(\.checkId) == [hit.checkId] && overdue.first?.state == .overdue)
        #expect(try s.journal.markOverdueConfirmations(now: 700_000).isEmpty, "raised once")

        let answer = HitConfirmationAnswer(cursor: 4, requestId: request.requestId, checkId: hit.checkId,
                                           records: [.init(list: "stolen-vehicles", recordId: request.matches[0].recordId, state: .noLongerActive,
                                                           since: "2026-12-04T10:00:00Z")],
                                           answeredAt: "2026-12-04T10:00:01Z")
        let answered = try s.journal.storeConfirmationAnswers([answer], now: 800_000)
        #expect(answered.first?.state == .answered && answered.first?.answer?.state == .noLongerActive)
        #expect(answered.first?.overdueAt != nil, "the late answer keeps the overdue mark")
        #expect(try s.journal.storeConfirmationAnswers([answer], now: 900_000).isEmpty, "applied once")
        #expect(try s.journal.confirmationCursor() == 4)
        #expect(try s.journal.confirmationsAwaited() == 0)
    }
}
