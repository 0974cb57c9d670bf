import Central
import FieldWire
import Foundation
import GRDB
import Store
import Testing
import TestSupport
import Watchlist

/// List kinds as data (`ListSchema`) and the two document lists: what the loader stores,
/// what a check answers in each mode, and what a bad row says.
@Suite("Document lists: registrations and licences")
struct DocumentListTests {
    @Test("every list's table holds exactly the columns its declaration names, in order")
    func tablesFollowTheDeclarations() throws {
        let s = try LoadedState(records: 100, registrations: 10, licences: 10)
        defer { s.directory.remove() }
        let queue = try DatabaseQueue(path: try s.state.currentListsFile()!.path)
        for list in ListKind.allCases {
            let schema = ListSchema.of(list)
            let columns = try queue.read { db in try String.fetchAll(db, sql: "SELECT name FROM pragma_table_info(?)", arguments: [schema.table]) }
            #expect(columns == schema.tableColumns, "\(list.rawValue)")
            let indexed = try queue.read { db in
                try String.fetchAll(db, sql: "SELECT ii.name FROM pragma_index_list(?) il, pragma_index_info(il.name) ii", arguments: [schema.table])
            }
            #expect(indexed.contains(schema.lookupColumn), "\(list.rawValue): its lookup column is indexed")
        }
    }

    @Test("a plate answer carries its registration: valid, cancelled (its own outcome), none listed in a full list")
    func registrations() throws {
        let s = try LoadedState(records: 1_000, registrations: 2_000, licences: 100)
        defer { s.directory.remove() }
        let checker = s.checker()
        let stolen = try checker.check(.plate(DemoRecords.stolenPlate), context: LoadedState.officer)
        #expect(stolen.outcome == .hit && stolen.registration?.status == "valid", "the stolen car was registered; a hit stays a hit")
        let cancelled = try checker.check(.plate(DemoRecords.cancelledPlate), context: LoadedState.officer)
        #expect(cancelled.outcome == .documentInvalid && cancelled.lists[0].outcome == .noHit)
        #expect(cancelled.registration?.record == ["recordId": "RG00000002", "plate": "CAN-3021", "status": "cancelled", "vehicleKind": "car",
                                                   "make": "Nissan", "model": "Sentra", "colour": "銀", "companyOwned": "1"])
        #expect(cancelled.confirmBeforeActing == false)
        // Nothing to confirm with the center, nothing to record as a hit's outcome.
        #expect { try s.journal.requestConfirmation(checkId: cancelled.checkId, urgent: true, officerId: "OF-0001", unitId: "TPE-DA-01", now: 1) } throws: {
            ($0 as? FieldOperationError)?.code == .notAHit
        }
        #expect { try s.journal.recordHitOutcome(checkId: cancelled.checkId, .confirmedActed, note: nil, officerId: "OF-0001", unitId: "TPE-DA-01", now: 1) } throws: {
            ($0 as? FieldOperationError)?.code == .notAHit
        }
        let unregistered = try checker.check(.plate("ZXY-9876"), context: LoadedState.officer)
        #expect(unregistered.registration?.status == "not-listed" && unregistered.registration?.valid == false)
        #expect(unregistered.registration?.mode == .full)
        var inChinese = LoadedState.officer
        inChinese.language = .traditionalChinese
        let chinese = try checker.check(.plate(DemoRecords.cancelledPlate), context: inChinese)
        #expect(chinese.registration?.statement.message == "車籍：依名單第 1 版為註銷")
        // Recorded with the answer, as every check is.
        #expect(try s.journal.checkCount() == 4)
    }

    @Test("a licence check: suspended with its date and reason, valid, none listed; a person check's purpose is required")
    func licences() throws {
        let s = try LoadedState(records: 1_000, registrations: 100, licences: 2_000)
        defer { s.directory.remove() }
        let checker = s.checker()
        let suspended = try checker.check(.licence(DemoRecords.suspendedLicenceID), context: LoadedState.officer)
        #expect(suspended.kind == .licence && suspended.outcome == .documentInvalid)
        #expect(suspended.licence?.record?["classes"] == "car;motorcycle" && suspended.licence?.record?["validUntil"] == "2027-06-30")
        #expect(suspended.licence?.statement.code == "document.invalid-details")
        #expect(try checker.check(.licence(DemoRecords.validLicenceID), context: LoadedState.officer).licence?.valid == true)
        let none = try checker.check(.licence(DemoRecords.wantedID), context: LoadedState.officer)
        #expect(none.outcome == .hit, "a wanted person's licence check is a hit: the ID is checked as a person")
        #expect(none.licence?.status == "not-listed")
        #expect(throws: InputError.self) {
            try checker.check(.licence(DemoRecords.validLicenceID), context: CheckContext(officerId: "OF-1", unitId: "U-1"))
        }
        #expect(throws: InputError.self) { try checker.check(.licence("X12"), context: LoadedState.officer) }
    }

    @Test("a terminal whose fleet carries no document lists answers as before: no section, the watch lists' outcome")
    func neverReceived() throws {
        let s = try LoadedState(records: 1_000)
        defer { s.directory.remove() }
        let answer = try s.checker().check(.plate("ZXY-9876"), context: LoadedState.officer)
        #expect(answer.outcome == .noHit)
        #expect(answer.registration == nil)
        #expect(try s.checker().check(.licence(DemoRecords.validLicenceID), context: LoadedState.officer).licence == nil)
        #expect(try s.lists.versions()[.registrations]?.version == 0)
        #expect(try s.lists.statuses(at: LoadedState.issuedAt).map(\.list) == ["stolen-vehicles", "wanted-persons", "missing-persons", "officers"],
                "status leaves out document lists the fleet does not carry: they are not stale")
        let carried = try LoadedState(records: 100, registrations: 10)
        defer { carried.directory.remove() }
        #expect(try carried.lists.statuses(at: LoadedState.issuedAt).map(\.list).contains("registrations"))
    }

    @Test("a bad document row is named by file, line and column, and nothing of the new data set is loaded", arguments: [
        ("RG99999999,ABC-1235,scrapped,car,Toyota,Yaris,白,0", "registrations.csv:2005: status: must be valid, cancelled, suspended or inspection-overdue"),
        ("RG99999999,ABC'1235,valid,car,Toyota,Yaris,白,0", "registrations.csv:2005: plate: not a plate"),
        ("RG99999999,ABC-1235,valid,car,,Yaris,白,0", "registrations.csv:2005: make: empty"),
        ("RG99999999,ABC-1235,valid,car,Toyota,Yaris,白,yes", "registrations.csv:2005: company_owned: must be 0 or 1"),
        ("DL99999999,A123456789,car,suspended,2027-01-01,", "licences.csv:1003: reason: a suspension or revocation needs its reason"),
        ("DL99999999,A123456789,car;rocket,valid,,", "licences.csv:1003: classes: one or more of"),
        ("DL99999999,A123456789,car,valid,2027-13-01,", "licences.csv:1003: valid_until: not a YYYY-MM-DD date"),
        ("DL99999999,,car,valid,,", "licences.csv:1003: id_number: not a 10-character ID"),
    ])
    func badRow(row: String, expected: String) throws {
        let s = try LoadedState(records: 1_000, registrations: 2_000, licences: 1_000)
        defer { s.directory.remove() }
        let next = s.directory.url.appendingPathComponent("next")
        try DatasetGenerator(counts: .init(records: 1_000, registrations: 2_003, licences: 1_001), seed: 8, issuedAt: LoadedState.issuedAt)
            .write(to: next)
        let list: ListKind = row.hasPrefix("RG") ? .registrations : .licences
        try Dataset.appendRow(row, to: list, in: next)
        #expect {
            try s.lists.replaceAll(withDatasetAt: next)
        } throws: { error in
            guard let e = error as? StoreError else { return false }
            return e.code == .badDataset && e.message.contains(expected)
        }
        let versions = try s.lists.versions()
        #expect(ListKind.allCases.allSatisfy { versions[$0]?.version == 1 }, "every list is still the previous data set's")
        #expect(versions[.registrations]?.recordCount == 2_000)
    }

    @Test("the generator: unique registrations on current-layout plates, unique valid IDs on licences, a few percent invalid")
    func generated() throws {
        let scratch = try Scratch("documents")
        defer { scratch.remove() }
        try DatasetGenerator(counts: .init(records: 100, registrations: 50_000, licences: 20_000), seed: 3, issuedAt: LoadedState.issuedAt)
            .write(to: scratch.url)
        let registrations = try Dataset.readRows(.registrations, from: scratch.url)
        #expect(registrations.count == 50_000)
        #expect(Set(registrations.map { $0.fields[1]! }).count == 50_000, "no plate registered twice")
        #expect(registrations.allSatisfy { PlateFormat.recognise(Array($0.fields[1]!.utf8)) != nil })
        let invalidRegistrations = Double(registrations.filter(ListSchema.of(.registrations).isException).count) / 50_000
        #expect((0.02...0.07).contains(invalidRegistrations))
        let licences = try Dataset.readRows(.licences, from: scratch.url)
        #expect(Set(licences.map { $0.fields[1]! }).count == 20_000)
        #expect(licences.allSatisfy { PersonID.isValid($0.fields[1]!) })
        let invalidLicences = Double(licences.filter(ListSchema.of(.licences).isException).count) / 20_000
        #expect((0.02...0.09).contains(invalidLicences))
    }
}
