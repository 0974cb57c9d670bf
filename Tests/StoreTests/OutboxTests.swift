import FieldWire
import Foundation
import Store
import TerminalConfiguration
import Testing
import Watchlist

@Suite("The outbox and dispatches in journal.db")
struct OutboxTests {
    static func crumb(_ i: Int) -> BreadcrumbPayload {
        BreadcrumbPayload(fixTime: "2026-11-27T00:00:\(i)Z", latitude: 25, longitude: 121, speed: nil, track: nil, horizontalError: 5, mode: "3d")
    }

    static let order = DispatchOrder(id: "01937a00-0000-7000-8000-000000000001", cursor: 7, createdAt: "2026-11-27T01:00:00Z",
                                      priority: "urgent", summary: "traffic collision", latitude: 25.04, longitude: 121.51)

    @Test("order of sending: hits, then dispatch status, then other checks, then breadcrumbs; oldest first within each")
    func priorityOrder() throws {
        let s = try LoadedState()
        defer { s.directory.remove() }
        let checker = s.checker()
        try s.journal.appendBreadcrumb(Self.crumb(1), maxStored: 100, now: 1)
        let miss1 = try checker.check(.plate("ZZZ-9991"), context: LoadedState.officer)
        _ = try s.journal.storeDispatches([Self.order], cursor: 7, location: .notAvailable, now: 2)
        let hit = try checker.check(.plate("BLT-8023"), context: LoadedState.officer)
        let miss2 = try checker.check(.plate("ZZZ-9992"), context: LoadedState.officer)
        #expect(hit.outcome == .hit && miss1.outcome == .noHit)

        let due = try s.journal.dueOutboxItems(now: .max, maxItems: 10, maxBytes: 1 << 20)
        #expect(due.map(\.kind) == [.check, .dispatchStatus, .check, .check, .breadcrumb])
        #expect(due.map(\.id).filter { [hit.checkId, miss1.checkId, miss2.checkId].contains($0) } == [hit.checkId, miss1.checkId, miss2.checkId])
        // The payload is the journal's record, with the check id as the idempotency id.
        let payload = try #require(try JSONSerialization.jsonObject(with: Data(due[0].payload.utf8)) as? [String: Any])
        #expect(payload["checkId"] as? String == hit.checkId)
        #expect(payload["outcome"] as? String == "hit")
        #expect(payload["query"] as? String == "BLT8023")
        // The byte cap ends a batch early, but never below one item.
        #expect(try s.journal.dueOutboxItems(now: .max, maxItems: 10, maxBytes: 1).count == 1)
    }

    @Test("settling: acknowledged items go, rejected ones stay with their reason, unanswered ones wait their retry time")
    func settle() throws {
        let journal = try JournalStore.inMemory()
        for i in 0..<3 { try journal.appendBreadcrumb(Self.crumb(i), maxStored: 100, now: Int64(i)) }
        let items = try journal.dueOutboxItems(now: 10, maxItems: 10, maxBytes: 1 << 20)
        try journal.settleOutbox(items, answers: [items[0].id: .acknowledged, items[1].id: .rejected("breadcrumb.bad"), items[2].id: .retry],
                                 now: 100, retryAt: 5_000)
        let status = try journal.outboxStatus(now: 2_000)
        #expect(status.pending == 1)
        #expect(status.rejected == 1)
        #expect(status.pendingByKind == ["breadcrumb": 1])
        #expect(status.oldestAgeSeconds == 1)
        #expect(try journal.rejectedOutboxItems().map(\.reason) == ["breadcrumb.bad"])
        #expect(try journal.dueOutboxItems(now: 4_999, maxItems: 10, maxBytes: 1 << 20).isEmpty)
        let retried = try journal.dueOutboxItems(now: 5_000, maxItems: 10, maxBytes: 1 << 20)
        #expect(retried.map(\.id) == [items[2].id])
        #expect(retried.first?.attempts == 1)
    }

    @Test("past the bound the oldest breadcrumbs are shed, never checks or dispatch status; status warns before")
    func bound() throws {
        let s = try LoadedState()
        defer { s.directory.remove() }
        let journal = try JournalStore.open(path: s.directory.url.appendingPathComponent("bounded.db").path,
                                            outboxLimits: OutboxLimits(maxItems: 1_000, warnItems: 600))
        let checker = Checker(lists: s.lists, journal: journal)
        for i in 0..<900 { try journal.appendBreadcrumb(Self.crumb(i), maxStored: 10_000, now: Int64(i)) }
        #expect(try journal.outboxStatus(now: 0).warning != nil, "900 of a 600 warning threshold")
        _ = try journal.storeDispatches([Self.order], cursor: 7, location: .notAvailable, now: 1)
        for i in 0..<299 { _ = try checker.check(.plate(String(format: "QD-%04d", i)), context: LoadedState.officer) }
        var status = try journal.outboxStatus(now: 0)
        #expect(status.pending == 1_000, "\(status)")
        #expect(status.shedBreadcrumbs == Int64(1_200 - status.pending))
        #expect(status.pendingByKind["check"] == 299)
        #expect(status.pendingByKind["dispatch-status"] == 1)
        // The oldest went: the first breadcrumb left is the one after the shed ones.
        let crumbs = try journal.dueOutboxItems(now: .max, maxItems: 2_000, maxBytes: 1 << 30).filter { $0.kind == .breadcrumb }
        #expect(crumbs.first?.payload.contains("00:00:\(status.shedBreadcrumbs)Z") == true)

        // With only checks left to shed, nothing is shed: the bound gives way, checks are kept.
        for i in 0..<1_000 { _ = try checker.check(.plate(String(format: "QE-%04d", i)), context: LoadedState.officer) }
        status = try journal.outboxStatus(now: 0)
        #expect(status.pendingByKind["check"] == 1_299)
        #expect(status.pendingByKind["breadcrumb"] == nil)
        #expect(status.pendingByKind["dispatch-status"] == 1)
    }

    @Test("a dispatch is stored once with its receipt queued; status changes go forward only, each queued in order")
    func dispatchLifecycle() throws {
        let journal = try JournalStore.inMemory()
        let here = CheckLocation(status: "3d", latitude: 25.05, longitude: 121.52)
        let new = try journal.storeDispatches([Self.order], cursor: 7, location: here, now: 1_000)
        #expect(new.map(\.dispatch.order.id) == [Self.order.id])
        #expect(new.first?.dispatch.status == .received)
        #expect(new.first?.change == .created)
        // Delivered again (a crash before the cursor moved): ignored.
        #expect(try journal.storeDispatches([Self.order], cursor: 7, location: here, now: 2_000).isEmpty)
        #expect(try journal.dispatchCursor() == 7)

        #expect { try journal.changeDispatch(Self.order.id, to: .onScene, disposition: nil, officerId: "OF-1", location: here, now: 3_000) }
            throws: { ($0 as? DispatchError)?.code == .invalidTransition }
        _ = try journal.changeDispatch(Self.order.id, to: .enRoute, disposition: nil, officerId: "OF-1", location: here, now: 3_000)
        _ = try journal.changeDispatch(Self.order.id, to: .onScene, disposition: nil, officerId: "OF-1", location: here, now: 4_000)
        #expect { try journal.changeDispatch(Self.order.id, to: .cleared, disposition: "  ", officerId: "OF-1", location: here, now: 5_000) }
            throws: { ($0 as? DispatchError)?.code == .disposition }
        let cleared = try journal.changeDispatch(Self.order.id, to: .cleared, disposition: "report taken", officerId: "OF-1",
                                                 location: here, now: 5_000)
        #expect(cleared.status == .cleared && cleared.disposition == "report taken")
        #expect(cleared.history.map(\.status) == [.received, .enRoute, .onScene, .cleared])
        #expect(cleared.history.last?.location.latitude == 25.05)
        #expect { try journal.changeDispatch(Self.order.id, to: .enRoute, disposition: nil, officerId: "OF-1", location: here, now: 6_000) }
            throws: { ($0 as? DispatchError)?.code == .invalidTransition }
        #expect { try journal.changeDispatch("01937a00-0000-7000-8000-00000000ffff", to: .enRoute, disposition: nil, officerId: "OF-1",
                                             location: here, now: 6_000) }
            throws: { ($0 as? DispatchError)?.code == .unknown }

        let all = try journal.dueOutboxItems(now: .max, maxItems: 20, maxBytes: 1 << 20)
        // The unit's status follows the dispatch: en route, on scene, available when cleared.
        let unit = try all.filter { $0.kind == .unitStatus }.map { try JSONSerialization.jsonObject(with: Data($0.payload.utf8)) as? [String: Any] ?? [:] }
        #expect(unit.map { $0["status"] as? String } == ["en-route", "on-scene", "available"])
        #expect(unit.allSatisfy { $0["source"] as? String == "dispatch" && $0["dispatchId"] as? String == Self.order.id })
        let queued = all.filter { $0.kind == .dispatchStatus }
        #expect(queued.count == 4)
        let sent = try queued.map { try JSONSerialization.jsonObject(with: Data($0.payload.utf8)) as? [String: Any] ?? [:] }
        #expect(sent.map { $0["status"] as? String } == ["received", "en-route", "on-scene", "cleared"])
        #expect(sent.map { $0["sequence"] as? Int } == [1, 2, 3, 4])
        #expect(sent.last?["disposition"] as? String == "report taken")
    }
}
