@testable import Agent
import Central
import FieldSync
import FieldWire
import Foundation
import Logging
import Store
import TestSupport
import Testing
import Synchronization
import Watchlist

/// The daemon's deadline watch on an injected clock: a bulletin dropped at its expiry, an
/// unanswered confirmation raised overdue at its deadline, each once; the watch sleeps until
/// the nearest of them and no longer.
@Suite("Deadline watch: bulletin expiry and overdue confirmations")
struct DeadlineWatchTests {
    @Test("expiry and overdue are raised once each, at their moment on the injected clock; in between the watch sleeps until the next")
    func deadlines() throws {
        let terminal = try LoadedTerminal("deadlines")
        defer { terminal.remove() }
        let (lists, journal, issuedAt) = (terminal.lists, terminal.journal, LoadedTerminal.issuedAt)
        let start = issuedAt + 60
        let clock = ManualClock(nowMilliseconds: start * 1000)
        let expired = Mutex<[String]>([]), overdue = Mutex<[String]>([])
        let watch = DeadlineWatch(lists: lists, journal: journal, clock: clock, changed: WakeSignal(), logger: Logger(label: "test"),
                                  onExpired: { b in expired.withLock { $0.append(b.id) } },
                                  onOverdue: { c in overdue.withLock { $0.append(c.checkId) } })
        #expect(watch.round() == .seconds(60), "nothing due: a minute")

        let bulletin = Bulletin(id: UUIDv7.make(milliseconds: start * 1000), serial: 1, subject: try .plate("ZZ-1234"), region: nil,
                                summary: "s", issuedAt: start - 1, expiresAt: start + 30)
        try journal.storeBulletin(bulletin, source: "poll", now: start * 1000)
        let hit = try Checker(lists: lists, journal: journal, clock: clock)
            .check(.plate(DemoRecords.stolenPlate), context: try CheckContext(officerId: "OF-1", unitId: "TPE-DA-01"))
        _ = try journal.requestConfirmation(checkId: hit.checkId, urgent: true, officerId: "OF-1", unitId: "TPE-DA-01", now: start * 1000)

        let first = watch.round()
        #expect(first > .seconds(29) && first <= .seconds(31), "until the bulletin's expiry: \(first)")
        clock.advance(milliseconds: 30_000)
        #expect(watch.round() == .seconds(60), "the confirmation's deadline is 9.5 min away: at most a minute")
        #expect(expired.withLock { $0 } == [bulletin.id] && overdue.withLock { $0 }.isEmpty)
        clock.advance(milliseconds: 540_000)
        let third = watch.round()
        #expect(third > .seconds(29) && third <= .seconds(31), "until the confirmation's deadline: \(third)")
        #expect(overdue.withLock { $0 }.isEmpty)
        clock.advance(milliseconds: 30_000)
        #expect(watch.round() == .seconds(60))
        #expect(overdue.withLock { $0 } == [hit.checkId])
        clock.advance(milliseconds: 60_000)
        _ = watch.round()
        #expect(expired.withLock { $0 }.count == 1 && overdue.withLock { $0 }.count == 1, "each raised once")
        #expect(try journal.confirmation(checkId: hit.checkId)?.state == .overdue)
    }
}
