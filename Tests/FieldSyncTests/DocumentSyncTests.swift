import Central
import FieldSync
import FieldWire
import Foundation
import Store
import Testing
import Watchlist

/// Registrations and licences through the real publisher, nginx (mutual TLS) and
/// `ListsSync`: their deltas travel as every list's do, and the very next check sees them.
@Suite("Document lists over the sync", .serialized)
struct DocumentSyncTests {
    static let context = try! CheckContext(officerId: "OF-1", unitId: "U-1", purpose: CheckPurpose(unchecked: "traffic-stop", reference: nil))

    func answer(_ world: SyncWorld, _ query: CheckQuery) throws -> CheckAnswer {
        try Checker(lists: world.lists, journal: world.journal, clock: world.clock).check(query, context: Self.context)
    }

    @Test("a delta that cancels a plate changes the very next answer; a licence suspended by delta answers suspended")
    func deltasChangeTheNextAnswer() throws {
        let world = try SyncWorld(records: 1_000, registrations: 5_000, licences: 2_000)
        defer { world.remove() }
        try world.publish()
        let first = try world.sync().syncOnce()
        #expect(first.methods[.registrations] == "snapshot" && first.methods[.licences] == "snapshot")
        let before = try answer(world, .plate(DemoRecords.registeredPlate))
        #expect(before.outcome == .noHit)
        #expect(before.registration?.status == "valid" && before.registration?.valid == true)
        #expect(before.registration?.record?["colour"] == "白" && before.registration?.record?["make"] == "Toyota")
        #expect(try answer(world, .licence(DemoRecords.validLicenceID)).licence?.status == "valid")

        try world.editRow(.registrations, recordId: "RG00000001", set: ["status": "cancelled"])
        try world.editRow(.licences, recordId: "DL00000001", set: ["status": "suspended", "valid_until": "2027-09-30", "reason": "酒後駕車"])
        // A missing person's flag sits in an INTEGER column too: its delta reads it back.
        try world.editRow(.missingPersons, recordId: "MP00000000", set: ["description": "穿紅色外套", "vulnerable": "0"])
        try world.publish(at: SyncWorld.start + 600)
        let second = try world.sync().syncOnce()
        #expect(second.methods[.registrations] == "deltas" && second.methods[.licences] == "deltas")
        #expect(second.methods[.stolenVehicles] == "unchanged" && second.methods[.missingPersons] == "deltas")
        let published = try #require(try world.publisher.currentManifest())
        let recomputed = try world.lists.recomputeDigests()
        for list in [ListKind.registrations, .licences, .missingPersons] {
            #expect(recomputed[list]?.digest == published.lists[list.rawValue]?.digest, "\(list.rawValue): the stored records digest as published")
        }

        let cancelled = try answer(world, .plate(DemoRecords.registeredPlate))
        #expect(cancelled.outcome == .documentInvalid, "its own outcome")
        #expect(cancelled.lists.first?.outcome == .noHit, "not a stolen-vehicle hit")
        #expect(cancelled.registration?.status == "cancelled" && cancelled.registration?.valid == false)
        #expect(cancelled.registration?.version.version == 2)
        #expect(cancelled.registration?.statement.message == "vehicle registration: cancelled as of list version 2")
        #expect(cancelled.confirmBeforeActing == false, "there is nothing to confirm against a watch list")

        let suspended = try answer(world, .licence(DemoRecords.validLicenceID))
        #expect(suspended.kind == .licence && suspended.outcome == .documentInvalid)
        #expect(suspended.licence?.status == "suspended")
        #expect(suspended.licence?.statement.message == "driving licence: suspended (2027-09-30, 酒後駕車) as of list version 2")
        #expect(suspended.lists.map(\.list) == [.wantedPersons, .missingPersons], "the holder's ID is checked as a person too")
    }

    @Test("exceptions only: the center publishes the invalid records alone, and the terminal says so in every answer")
    func exceptionsOnly() throws {
        let world = try SyncWorld(records: 1_000, registrations: 5_000, licences: 2_000)
        defer { world.remove() }
        let full = try world.publish()
        try world.sync().syncOnce()
        let fullCount = full.manifest.lists["registrations"]!.recordCount
        let fullBytes = full.manifest.lists["registrations"]!.snapshot.length
        let unlisted = try answer(world, .plate("ZXY-9876"))
        #expect(unlisted.registration?.status == "not-listed" && unlisted.registration?.valid == false)
        #expect(unlisted.registration?.statement.code == "document.not-listed")
        #expect(unlisted.outcome == .documentInvalid)

        let exceptions = try world.publisher.publish(dataset: world.dataset, now: SyncWorld.start + 600, validFor: 7 * 86_400, keepDeltas: 30,
                                                     exceptionsOnly: [.registrations, .licences])
        let entry = exceptions.manifest.lists["registrations"]!
        #expect(entry.mode == .exceptions)
        #expect(entry.recordCount > 0 && entry.recordCount * 10 < fullCount, "a few percent are invalid")
        #expect(entry.snapshot.length * 10 < fullBytes)
        #expect(exceptions.changes[.registrations]?.deletes == Int(fullCount - entry.recordCount), "the valid ones are deleted by the delta")
        try world.sync().syncOnce()
        #expect(try world.lists.versions()[.registrations]?.mode == .exceptions)

        let valid = try answer(world, .plate(DemoRecords.registeredPlate))
        #expect(valid.registration?.mode == .exceptions && valid.registration?.valid == true && valid.registration?.status == "not-listed")
        #expect(valid.registration?.statement.message == "vehicle registration: no invalidity listed as of version 2 (this terminal holds the invalid ones only)")
        #expect(valid.outcome == .noHit)
        let cancelled = try answer(world, .plate(DemoRecords.cancelledPlate))
        #expect(cancelled.registration?.status == "cancelled" && cancelled.outcome == .documentInvalid)
        let licence = try answer(world, .licence(DemoRecords.suspendedLicenceID))
        #expect(licence.licence?.status == "suspended" && licence.licence?.mode == .exceptions)
    }
}
