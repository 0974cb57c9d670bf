import Central
import FieldSync
import FieldWire
import Foundation
import Protection
import Store
import TestSupport
import Testing
import Watchlist

/// The protections on real lists.db and journal.db files, with the center's real keys and an
/// injected clock: orders executed once and in order, the lock, the wipe of the lists, and
/// the dead-man timer judged by time a clock set back cannot undo.
@Suite struct TerminalProtectionTests {
    static let start: Int64 = 1_800_000_000_000

    final class World {
        let scratch: Scratch
        let state: StateDirectory
        let keys: CentralKeys
        let rootFile: URL
        let clock = ManualClock(nowMilliseconds: TerminalProtectionTests.start)
        var lists: ListsStore
        var journal: JournalStore
        let events = Events()

        init(records: Int = 300) throws {
            scratch = try Scratch("protection")
            state = StateDirectory(path: scratch.url.appendingPathComponent("state").path)
            try DatasetGenerator(counts: .init(records: records), seed: 3, issuedAt: TerminalProtectionTests.start / 1000)
                .write(to: state.datasetURL)
            lists = try ListsStore.open(state)
            try lists.replaceAll(withDatasetAt: state.datasetURL)
            try? FileManager.default.removeItem(at: state.datasetURL)
            journal = try JournalStore.open(path: state.journalPath)
            let keyDir = scratch.url.appendingPathComponent("keys")
            keys = try CentralKeys.initialise(in: keyDir, now: TerminalProtectionTests.start / 1000 - 60, validFor: 365 * 86_400)
            rootFile = keyDir.appendingPathComponent(CentralKeys.rootFile)
        }

        var settings: TerminalProtection.Settings {
            TerminalProtection.Settings(unit: "TPE-DA-01", provisionedRoot: rootFile, certificate: scratch.url.appendingPathComponent("none.crt").path,
                                        key: scratch.url.appendingPathComponent("none.key").path,
                                        maxOffline: 72 * 3_600, wipeAfterOffline: 14 * 86_400)
        }

        func protection(deadMan: Bool = true) throws -> TerminalProtection {
            let events = events
            return try TerminalProtection(settings, state: state, lists: lists, journal: journal, clock: clock, deadManEnabled: deadMan,
                                          onEvent: { events.append($0) })
        }

        func order(_ kind: TerminalOrder.Kind, _ sequence: Int64) throws -> SignedEnvelope {
            let now = clock.nowSeconds
            return try TerminalOrder(kind: kind, unit: "TPE-DA-01", sequence: sequence, issuedAt: now, expiresAt: now + 3_600)
                .signed(by: [keys.ordersKey])
        }

        /// A restart: the stores opened again on the same files.
        func reopen() throws {
            lists = try ListsStore.open(state, expectLists: try journal.trustFloor() != nil)
            journal = try JournalStore.open(path: state.journalPath)
        }

        var listFiles: [String] {
            ((try? FileManager.default.contentsOfDirectory(atPath: state.url.path)) ?? []).filter { $0.hasPrefix("lists") && $0 != "lists.lock" }
        }
    }

    final class Events: @unchecked Sendable {
        private let lock = NSLock()
        private var list: [TerminalProtection.Event] = []
        func append(_ e: TerminalProtection.Event) { lock.withLock { list.append(e) } }
        var all: [TerminalProtection.Event] { lock.withLock { list } }
    }

    @Test("lock, replay, unlock: executed once each, in order, each acknowledged through the outbox")
    func lockAndUnlock() throws {
        let w = try World()
        defer { w.scratch.remove() }
        let p = try w.protection()
        let lock = try w.order(.lock, 1)
        #expect(p.handle(lock, source: .api).outcome == .executed)
        #expect(p.isLocked)
        #expect(throws: StoreError.self) { try p.requireUnlocked() }
        // The same order again (a feed repeats it): skipped, no second acknowledgement.
        p.receive([lock], source: .file)
        #expect(try w.journal.pendingOrderAcknowledgements() == 1)
        // Handed in again explicitly: a replay, refused with its code.
        #expect(p.handle(lock, source: .api).reason == "order.replayed")
        #expect(p.handle(try w.order(.unlock, 2), source: .poll).outcome == .executed)
        #expect(!p.isLocked)
        #expect(try w.journal.ordersCursor() == 2)
        let acks = try w.journal.dueOutboxItems(now: Self.start + 1_000, maxItems: 10, maxBytes: 1 << 20).filter { $0.kind == .orderAck }
        // The replay of an envelope already executed is answered, not acknowledged again: the
        // center has that order's acknowledgement.
        #expect(acks.compactMap { try? WireJSON.decode(OrderAckPayload.self, from: Data($0.payload.utf8)) }.map(\.sequence) == [1, 2])
        // The lock survives a restart.
        #expect(p.handle(try w.order(.lock, 3), source: .poll).outcome == .executed)
        try w.reopen()
        #expect(try w.protection().isLocked)
    }

    @Test("wipe-lists: the lists' files and the held bulletins go, checks are refused, the journal stays, the lock holds across a restart")
    func wipeLists() throws {
        let w = try World()
        defer { w.scratch.remove() }
        let p = try w.protection()
        #expect(!w.listFiles.isEmpty)
        let bulletin = Bulletin(id: UUIDv7.make(milliseconds: Self.start), serial: 1, subject: try .plate("ZZ-1234"), region: nil,
                                summary: "s", issuedAt: Self.start / 1000, expiresAt: Self.start / 1000 + 3_600)
        try w.journal.storeBulletin(bulletin, source: "poll", now: Self.start)
        #expect(p.handle(try w.order(.wipeLists, 1), source: .poll).outcome == .executed)
        #expect(w.listFiles.isEmpty, "\(w.listFiles)")
        #expect(try w.journal.heldBulletins().isEmpty, "bulletins name plates and people as the lists do")
        #expect(try w.state.wipeMark() == nil)
        #expect(throws: StoreError.self) { try w.lists.stolenVehicles(plateKey: "BLT8023", plate: "BLT8023") }
        #expect(FileManager.default.fileExists(atPath: w.state.journalPath))
        #expect(p.currentLock?.cause == .wipeLists)
        try w.reopen()
        let again = try w.protection()
        #expect(again.currentLock?.cause == .wipeLists)
        #expect(w.lists.unavailableReason?.contains("wiped") == true)
    }

    @Test("after a lists wipe the journal keeps what the center has not received — until security.wipe_journal_after, then only the order acknowledgements")
    func journalAfterWipe() throws {
        let w = try World()
        defer { w.scratch.remove() }
        let p = try w.protection()
        // A session event, never delivered (no uplink here).
        try w.journal.recordAudit(AuditEventPayload(eventId: UUIDv7.make(milliseconds: Self.start), at: Timestamp.iso8601(milliseconds: Self.start),
                                                    officerId: "OF-0042", unitId: "TPE-DA-01", event: .signIn, authentication: "pin", reason: nil),
                                  now: Self.start)
        #expect(p.handle(try w.order(.wipeLists, 1), source: .poll).outcome == .executed)
        func pending() throws -> [OutboxKind] {
            try w.journal.dueOutboxItems(now: w.clock.nowMilliseconds + 1, maxItems: 100, maxBytes: 1 << 20).map(\.kind)
        }
        w.clock.advance(milliseconds: 6 * 86_400_000)
        p.tick()
        #expect(try Set(pending()) == [.orderAck, .audit], "kept until delivered, or the deadline")
        w.clock.advance(milliseconds: 2 * 86_400_000)
        p.tick()
        #expect(try pending() == [.orderAck], "past 7 days only the acknowledgement is left")
        #expect(try w.journal.recentAuditEvents().count <= 1, "the newest chained record stays as the chain's head")
    }

    @Test("a wipe interrupted after its mark is completed at the next start, before the stores open")
    func interruptedWipe() throws {
        let w = try World()
        defer { w.scratch.remove() }
        _ = try w.protection()
        // What a kill -9 right after the mark leaves: the mark, every list file, nothing recorded.
        try w.state.writeWipeMark(WipeMark(kind: .wipeLists, orderSequence: 7, eraseKeySlots: false, startedAt: Self.start,
                                           envelopeSHA256: String(repeating: "0", count: 64), source: "poll"))
        #expect(!w.listFiles.isEmpty)
        let mark = try TerminalProtection.completeInterruptedWipe(state: w.state, settings: w.settings, clock: w.clock, logger: .init(label: "t"))
        #expect(w.listFiles.isEmpty)
        try w.reopen()
        let p = try w.protection()
        try p.recordCompletedWipe(try #require(mark))
        #expect(p.currentLock == TerminalLock(cause: .wipeLists, orderSequence: 7, since: Timestamp.iso8601(milliseconds: Self.start)))
        #expect(try w.state.wipeMark() == nil)
        #expect(try w.journal.protection(now: 0).lastOrderSequence == 7)
    }

    @Test("dead-man: past max_offline checks are refused; setting the clock back — or restarting — does not undo it; past wipe_after_offline the lists are wiped")
    func deadMan() throws {
        let w = try World()
        defer { w.scratch.remove() }
        var p = try w.protection()
        p.manifestVerified()
        #expect(try p.admitCheck().isEmpty)
        // 20 h: a warning with the countdown (a quarter of 72 h has passed).
        w.clock.advance(milliseconds: 20 * 3_600_000)
        let warning = try #require(try p.admitCheck().first)
        #expect(MessageCatalogue.text(warning, in: .english).contains("checks will be refused in 2 d 4 h"), "\(warning)")
        #expect(MessageCatalogue.text(warning, in: .traditionalChinese).contains("2 天 4 小時後將拒絕查詢"), "\(warning)")
        // The wall clock jumps 3 days ahead: refused.
        w.clock.setWall(milliseconds: Self.start + 73 * 3_600_000)
        #expect { try p.admitCheck() } throws: { ($0 as? StoreError)?.code == .expired }
        #expect(p.offline()?.refusing == true)
        p.tick()
        #expect(w.events.all.contains { if case .offlineRefusing = $0 { true } else { false } })
        // Set back to the start: the judged time does not follow.
        w.clock.setWall(milliseconds: Self.start)
        #expect(p.offline()?.refusing == true)
        // A restart with the clock still set back: the judged time kept in the journal holds.
        try w.reopen()
        p = try w.protection()
        #expect(p.offline()?.refusing == true)
        #expect(!w.listFiles.isEmpty)
        // 15 days on: the timer wipes the lists and locks the terminal.
        w.clock.advance(milliseconds: 15 * 86_400_000)
        p.tick()
        #expect(w.listFiles.isEmpty)
        #expect(p.currentLock?.cause == .deadMan)
        // A verified manifest starts the timer again (the lock stays for a technician or an unlock order).
        p.manifestVerified()
        #expect(p.offline()?.refusing == false)
        #expect(p.isLocked)
    }

    @Test("without sync (dead-man off) no refusal however long, and status says the timer is off")
    func deadManOff() throws {
        let w = try World()
        defer { w.scratch.remove() }
        let p = try w.protection(deadMan: false)
        w.clock.advance(milliseconds: 30 * 86_400_000)
        #expect(try p.admitCheck().isEmpty)
        #expect(p.status().offline == nil)
    }
}
