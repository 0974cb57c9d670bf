import FieldWire
import Foundation
import Store
import TestSupport
import Testing
import Watchlist

/// The field side of dispatch in journal.db: the emergency before everything, the dispatch
/// log applied in order, the unit's status, stops and hit outcomes.
@Suite("Field operations in journal.db")
struct FieldOperationsTests {
    static let here = CheckLocation(status: "3d", latitude: 25.05, longitude: 121.52)
    static let order = DispatchOrder(id: "01937a00-0000-7000-8000-000000000001", cursor: 7, createdAt: "2026-11-27T01:00:00Z",
                                     priority: "urgent", summary: "traffic collision", latitude: 25.04, longitude: 121.51)

    static func crumb(_ i: Int, emergency: String? = nil) -> BreadcrumbPayload {
        BreadcrumbPayload(fixTime: "2026-11-27T00:00:\(10 + i)Z", latitude: 25, longitude: 121, speed: nil, track: nil, horizontalError: 5,
                          mode: "3d", emergencyId: emergency)
    }

    @Test("an emergency goes before everything queued, hits and order acknowledgements included; its breadcrumbs with it; it survives reopening")
    func emergencyFirst() throws {
        let s = try LoadedState()
        defer { s.directory.remove() }
        let checker = s.checker()
        for i in 0..<50 { _ = try checker.check(.plate(String(format: "QF-%04d", i)), context: LoadedState.officer) }
        let hit = try checker.check(.plate("BLT-8023"), context: LoadedState.officer)
        #expect(hit.outcome == .hit)
        try s.journal.appendBreadcrumb(Self.crumb(0), maxStored: 100, now: 5)
        #expect(s.journal.activeEmergencyId() == nil)

        let (emergency, raised) = try s.journal.raiseEmergency(officerId: "OF-0001", unitId: "TPE-DA-01", location: Self.here, now: 10)
        #expect(raised && emergency.active)
        // Pressed again: the same one, nothing more queued.
        let (again, raisedAgain) = try s.journal.raiseEmergency(officerId: "OF-0001", unitId: "TPE-DA-01", location: Self.here, now: 11)
        #expect(!raisedAgain && again.emergencyId == emergency.emergencyId)
        try s.journal.appendBreadcrumb(Self.crumb(1, emergency: emergency.emergencyId), maxStored: 100, now: 12)
        #expect(try s.journal.urgentPending())

        let due = try s.journal.dueOutboxItems(now: .max, maxItems: 100, maxBytes: 1 << 20)
        #expect(due.prefix(3).map(\.kind) == [.emergency, .breadcrumb, .check])
        #expect(due[0].id == emergency.emergencyId && due[0].priority == 0 && due[1].priority == 0)
        #expect(due[2].id == hit.checkId, "the hit comes right after the emergency")
        #expect(due.filter { $0.kind == .emergency }.count == 1)
        let payload = try #require(try JSONSerialization.jsonObject(with: Data(due[0].payload.utf8)) as? [String: Any])
        #expect(payload["event"] as? String == "raised" && payload["officerId"] as? String == "OF-0001")

        // Unanswered, it is due again in a second, not after the usual backoff.
        try s.journal.settleOutbox(Array(due.prefix(3)), answers: [:], now: 1_000, retryAt: 60_000)
        #expect(try s.journal.dueOutboxItems(now: 2_000, maxItems: 10, maxBytes: 1 << 20).map(\.id).prefix(2) == [due[0].id, due[1].id])

        // Reopened (a restart): still active.
        let reopened = try JournalStore.open(path: s.state.journalPath)
        #expect(reopened.activeEmergencyId() == emergency.emergencyId)
        #expect(try reopened.activeEmergency()?.raisedAt == emergency.raisedAt)

        let cleared = try reopened.clearEmergency(by: "OF-0001", unitId: "TPE-DA-01", location: Self.here, now: 20)
        #expect(!cleared.active && cleared.clearedBy == "OF-0001")
        #expect(reopened.activeEmergencyId() == nil)
        #expect(throws: FieldOperationError(.noEmergency, "no emergency is active on this terminal")) {
            try reopened.clearEmergency(by: "OF-0001", unitId: "TPE-DA-01", location: Self.here, now: 21)
        }
        let urgent = try reopened.dueOutboxItems(now: .max, maxItems: 200, maxBytes: 1 << 20).filter { $0.priority == 0 }
        #expect(urgent.map(\.kind) == [.emergency, .breadcrumb, .emergency])
        #expect(try reopened.emergencies().map(\.active) == [false])
    }

    @Test("past the outbox bound, an emergency's breadcrumbs are not shed")
    func emergencyCrumbsKept() throws {
        let journal = try JournalStore.inMemory(outboxLimits: .init(maxItems: 1_000, warnItems: 900))
        let (emergency, _) = try journal.raiseEmergency(officerId: "", unitId: "TPE-DA-01", location: .notAvailable, now: 1)
        for i in 0..<20 { try journal.appendBreadcrumb(Self.crumb(i, emergency: emergency.emergencyId), maxStored: 10_000, now: 2) }
        for i in 0..<1_200 { try journal.appendBreadcrumb(Self.crumb(i), maxStored: 10_000, now: 3) }
        let status = try journal.outboxStatus(now: 0)
        #expect(status.pending == 1_000)
        let kept = try journal.dueOutboxItems(now: .max, maxItems: 2_000, maxBytes: 1 << 30).filter { $0.priority == 0 }
        #expect(kept.count == 21)
    }

    @Test("the dispatch log is applied in cursor order: created, updated, cancelled; a repeat is ignored; changes after the cancel are refused dispatch.cancelled")
    func dispatchLog() throws {
        let journal = try JournalStore.inMemory()
        let created = try journal.storeDispatches([Self.order], cursor: 7, unitId: "TPE-DA-01", location: Self.here, now: 1_000)
        #expect(created.map(\.change) == [.created])
        _ = try journal.changeDispatch(Self.order.id, to: .enRoute, disposition: nil, officerId: "OF-1", unitId: "TPE-DA-01",
                                       location: Self.here, now: 2_000)
        #expect(try journal.unitStatus()?.status == .enRoute)

        var update = Self.order
        (update.cursor, update.change, update.address, update.callbackNumber, update.notes, update.priority) =
            (9, .updated, "No. 100, Sec. 1, Zhongxiao W. Rd", "0912-345-678", "caller waits at the gate", "high")
        var cancel = update
        (cancel.cursor, cancel.change, cancel.reason) = (12, .cancelled, "caller says no longer needed")
        let applied = try journal.storeDispatches([update, cancel], cursor: 12, unitId: "TPE-DA-01", location: Self.here, now: 3_000)
        #expect(applied.map(\.change) == [.updated, .cancelled])
        #expect(applied[0].dispatch.order.address == "No. 100, Sec. 1, Zhongxiao W. Rd")
        #expect(applied[0].dispatch.order.priority == "high")
        #expect(applied[1].dispatch.status == .cancelled)
        #expect(applied[1].dispatch.centerChanges.map(\.change) == [.updated, .cancelled])
        #expect(applied[1].dispatch.centerChanges.last?.reason == "caller says no longer needed")
        // The unit was en route to it: available again.
        #expect(try journal.unitStatus()?.status == .available)
        // Delivered again: nothing applied twice.
        #expect(try journal.storeDispatches([update, cancel], cursor: 12, location: Self.here, now: 4_000).isEmpty)

        #expect { try journal.changeDispatch(Self.order.id, to: .onScene, disposition: nil, officerId: "OF-1", location: Self.here, now: 5_000) }
            throws: { ($0 as? DispatchError)?.code == .cancelled }
        let shown = try #require(try journal.dispatch(id: Self.order.id))
        #expect(shown.order.callbackNumber == "0912-345-678" && shown.order.notes == "caller waits at the gate")
        #expect(shown.history.map(\.status) == [.received, .enRoute])
    }

    @Test("a status change the center refused is marked refused in the dispatch's history")
    func refusedChangeShown() throws {
        let journal = try JournalStore.inMemory()
        _ = try journal.storeDispatches([Self.order], cursor: 7, location: Self.here, now: 1_000)
        _ = try journal.changeDispatch(Self.order.id, to: .enRoute, disposition: nil, officerId: "OF-1", location: Self.here, now: 2_000)
        _ = try journal.changeDispatch(Self.order.id, to: .onScene, disposition: nil, officerId: "OF-1", location: Self.here, now: 3_000)
        let items = try journal.dueOutboxItems(now: .max, maxItems: 20, maxBytes: 1 << 20).filter { $0.kind == .dispatchStatus }
        #expect(items.count == 3)
        let reason = "dispatch.cancelled: the center cancelled dispatch \(Self.order.id); on-scene not applied"
        try journal.settleOutbox(items, answers: [items[0].id: .acknowledged, items[1].id: .acknowledged, items[2].id: .rejected(reason)],
                                 now: 4_000, retryAt: 5_000)
        let shown = try #require(try journal.dispatch(id: Self.order.id))
        #expect(shown.history.map(\.refused) == [nil, nil, reason])
    }

    @Test("a stop: the checks made while it is open name it; one at a time; closed once")
    func incidents() throws {
        let s = try LoadedState()
        defer { s.directory.remove() }
        let checker = s.checker()
        let before = try checker.check(.plate("ZZZ-0001"), context: LoadedState.officer)
        let stop = try s.journal.openIncident(.trafficStop, note: "silver sedan", officerId: "OF-0001", unitId: "TPE-DA-01",
                                              location: Self.here, now: 1_000)
        #expect(stop.open && stop.kind == .trafficStop && stop.location.latitude == 25.05)
        #expect { try s.journal.openIncident(.personStop, note: nil, officerId: "OF-0001", unitId: "TPE-DA-01", location: Self.here, now: 1_500) }
            throws: { ($0 as? FieldOperationError)?.code == .incidentOpen }
        var context = LoadedState.officer
        context.incidentId = s.journal.openIncidentId()
        let during = try checker.check(.plate("ZZZ-0002"), context: context)
        #expect(during.incidentId == stop.incidentId)
        let closed = try s.journal.closeIncident(stop.incidentId, note: "warning given", officerId: "OF-0001", unitId: "TPE-DA-01",
                                                 location: Self.here, now: 2_000)
        #expect(!closed.open && closed.checks == 1 && closed.closingNote == "warning given")
        #expect(s.journal.openIncidentId() == nil)
        #expect { try s.journal.closeIncident(stop.incidentId, note: nil, officerId: "OF-0001", unitId: "TPE-DA-01", location: Self.here, now: 3_000) }
            throws: { ($0 as? FieldOperationError)?.code == .incidentClosed }

        let sent = try s.journal.dueOutboxItems(now: .max, maxItems: 20, maxBytes: 1 << 20)
        let checkPayloads = sent.filter { $0.kind == .check }.map(\.payload)
        #expect(checkPayloads.count == 2)
        #expect(checkPayloads.first { $0.contains(during.checkId) }?.contains(#""incidentId":"\#(stop.incidentId)""#) == true)
        #expect(checkPayloads.first { $0.contains(before.checkId) }?.contains("incidentId") == false)
        #expect(sent.filter { $0.kind == .incident }.map { $0.payload.contains(#""event":"opened""#) } == [true, false])
        let journalled = try s.journal.recentChecks(limit: 10)
        #expect(journalled.first { $0.checkId == during.checkId }?.incidentId == stop.incidentId)
        #expect(journalled.first { $0.checkId == before.checkId }?.incidentId == nil)
    }

    @Test("a hit's outcome: recorded once, with the lists it hit; refused on a check that matched nothing or is unknown")
    func hitOutcomes() throws {
        let s = try LoadedState()
        defer { s.directory.remove() }
        let checker = s.checker()
        let hit = try checker.check(.plate("BLT-8023"), context: LoadedState.officer)
        let miss = try checker.check(.plate("ZZZ-0003"), context: LoadedState.officer)
        let recorded = try s.journal.recordHitOutcome(checkId: hit.checkId, .confirmedActed, note: "vehicle recovered", officerId: "OF-0001",
                                                      unitId: "TPE-DA-01", now: 1_000)
        #expect(recorded.lists == ["stolen-vehicles"])
        #expect(try s.journal.hitOutcome(checkId: hit.checkId)?.outcome == .confirmedActed)
        #expect { try s.journal.recordHitOutcome(checkId: hit.checkId, .released, note: nil, officerId: "OF-0001", unitId: "TPE-DA-01", now: 2_000) }
            throws: { ($0 as? FieldOperationError)?.code == .outcomeRecorded }
        #expect { try s.journal.recordHitOutcome(checkId: miss.checkId, .released, note: nil, officerId: "OF-0001", unitId: "TPE-DA-01", now: 2_000) }
            throws: { ($0 as? FieldOperationError)?.code == .notAHit }
        #expect { try s.journal.recordHitOutcome(checkId: "01937a00-0000-7000-8000-00000000ffff", .released, note: nil, officerId: "OF-0001",
                                                 unitId: "TPE-DA-01", now: 2_000) }
            throws: { ($0 as? FieldOperationError)?.code == .unknownCheck }
        let item = try #require(try s.journal.dueOutboxItems(now: .max, maxItems: 20, maxBytes: 1 << 20).first { $0.kind == .hitOutcome })
        #expect(item.priority == 2 && item.payload.contains(#""outcome":"confirmed-acted""#))
    }
}
