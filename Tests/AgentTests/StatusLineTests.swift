@testable import Agent
import Central
import Foundation
import LocalAPI
import LocalAPIContract
import Logging
import Store
import Synchronization
import TestSupport
import Testing
import Watchlist

/// systemd's STATUS= line: its databases' part is read again only when the journal changed,
/// so that a quiet terminal queries neither database every 30 s; the daemon's own parts are
/// fresh on every line.
@Suite("Status line: the databases read again only after a journal write")
struct StatusLineTests {
    /// An hour after the lists were issued: fresh.
    static let clock = ManualClock(nowMilliseconds: (LoadedTerminal.issuedAt + 3_600) * 1000)

    @Test("a line with no journal write since reuses the last read and still shows the daemon's parts as they are; a write (an emergency) is on the next line")
    func readsOnChange() throws {
        let terminal = try LoadedTerminal("status-line")
        defer { terminal.remove() }
        let (scratch, lists, journal) = (terminal.scratch, terminal.lists, terminal.journal)
        let clock = Self.clock
        let reads = Atomic<Int>(0)
        let photosHeld = Atomic<Int>(3)
        let systemd = SystemdComponent(
            notifier: SystemdNotifier(environment: [:]), watchdogInterval: nil, events: EventHub(), logger: Logger(label: "test"),
            lists: lists, journal: journal,
            readStatus: {
                reads.add(1, ordering: .relaxed)
                return try TerminalStatus.read(lists: lists, journal: journal, stateDirectory: scratch.path, clock: clock, scope: .summaryLine)
            },
            daemonParts: { status in
                status.photos = PhotoStatus(held: photosHeld.load(ordering: .relaxed), bytes: 0, budgetBytes: 10 << 20)
            })

        let first = systemd.statusLine()
        #expect(reads.load(ordering: .relaxed) == 1)
        #expect(first.contains("photos 3 (0 of 10 MB)"), "\(first)")
        #expect(!first.contains("EMERGENCY"))

        photosHeld.store(5, ordering: .relaxed)
        let second = systemd.statusLine()
        #expect(reads.load(ordering: .relaxed) == 1, "nothing written: no read")
        #expect(second.contains("photos 5 (0 of 10 MB)"), "\(second)")

        _ = try journal.raiseEmergency(officerId: "OF-0001", unitId: "TPE-DA-01", location: .notAvailable, now: clock.nowMilliseconds)
        let third = systemd.statusLine()
        #expect(reads.load(ordering: .relaxed) == 2)
        #expect(third.contains("EMERGENCY ACTIVE"), "\(third)")
    }

    @Test("the summary scope leaves out what the line does not show: the count of check records reads every record")
    func summaryScope() throws {
        let terminal = try LoadedTerminal("status-scope")
        defer { terminal.remove() }
        let (scratch, lists, journal) = (terminal.scratch, terminal.lists, terminal.journal)
        let clock = Self.clock
        let checker = Checker(lists: lists, journal: journal, clock: clock)
        _ = try checker.check(.plate("ABC-1234"), context: CheckContext(officerId: "OF-1", unitId: "U-1"))
        let full = try TerminalStatus.read(lists: lists, journal: journal, stateDirectory: scratch.path, clock: clock)
        let line = try TerminalStatus.read(lists: lists, journal: journal, stateDirectory: scratch.path, clock: clock, scope: .summaryLine)
        #expect(full.checkRecords == 1)
        #expect(line.checkRecords == 0)
        #expect(line.summaryLine == full.summaryLine)
    }
}
