import Central
import FieldWire
import Foundation
import Store
import TestSupport
import Testing
import Watchlist

@Suite("Checks against real lists.db and journal.db files")
struct CheckerTests {
    @Test("an exact plate is a hit that must be confirmed, and is journaled")
    func exactPlate() throws {
        let s = try LoadedState()
        defer { s.directory.remove() }
        let answer = try s.checker().check(.plate("blt 8023"), context: LoadedState.officer)
        #expect(answer.outcome == .hit)
        #expect(answer.confirmBeforeActing)
        #expect(answer.query.normalized == "BLT8023")
        #expect(answer.query.format == "current")
        let list = try #require(answer.lists.first)
        #expect(list.list == .stolenVehicles)
        #expect(list.version.version == 1)
        #expect(list.version.ageSeconds == 3_600)
        #expect(!list.version.stale)
        #expect(list.matches.first?.how == .exact)
        #expect(list.matches.first?.record.recordId == "SV00000000")
        let records = try s.journal.recentChecks()
        #expect(records.count == 1)
        #expect(records[0] == CheckRecordPayload(answer), "the journal keeps what the center receives")
        #expect(records[0].officerId == "OF-0001")
        #expect(records[0].unitId == "TPE-DA-01")
        #expect(records[0].outcome == "hit")
        #expect(records[0].matches == [.init(list: "stolen-vehicles", recordId: "SV00000000", how: "exact")])
        #expect(records[0].listVersions == ["stolen-vehicles": 1])
    }

    @Test("a person's photos travel in the record: loaded, stored, in the answer; the digest covers them")
    func photosInRecords() throws {
        let s = try LoadedState(records: 500, photos: 6)
        defer { s.directory.remove() }
        let answer = try s.checker().check(.personID(DemoRecords.wantedID), context: LoadedState.officer)
        guard case .wantedPerson(let person)? = answer.lists.first(where: { $0.list == .wantedPersons })?.matches.first?.record else {
            Issue.record("no wanted-person match"); return
        }
        #expect(person.photos.map(\.kind) == [.face, .fullBody])
        #expect(person.photos.allSatisfy { $0.sha256.count == 64 && (20_000...60_000).contains($0.bytes) })
        let rows = try Dataset.readRows(.wantedPersons, from: s.state.datasetURL)
        #expect(PhotoReference.field(person.photos) == rows.first { $0.recordId == "WP00000000" }?.fields[9])
        // The digest the terminal computes from its stored rows is the publisher's, over the
        // canonical fields photos included: the signature covers the photos.
        var published = ListDigest()
        for row in rows { published.add(fields: row.fields) }
        #expect(try s.lists.recomputeDigests()[.wantedPersons]?.digest == published.description)
    }

    @Test("a confusable misread is a possible hit naming the differing characters")
    func nearPlate() throws {
        let s = try LoadedState()
        defer { s.directory.remove() }
        let answer = try s.checker().check(.plate("8LT-8O23"), context: LoadedState.officer)
        #expect(answer.outcome == .possibleHit)
        #expect(answer.confirmBeforeActing)
        let match = try #require(answer.lists[0].matches.first { $0.record.recordId == "SV00000000" })
        #expect(match.how == .confusable)
        #expect(match.strength == .likelyMisread)
        #expect(match.differences?.map(\.position) == [1, 5])
        #expect(match.differences?.map(\.listed) == ["B", "0"])
    }

    @Test("an unlisted plate is a no-hit without confirmation, still journaled")
    func noHit() throws {
        let s = try LoadedState()
        defer { s.directory.remove() }
        let answer = try s.checker().check(.plate("ZZZ-9999"), context: LoadedState.officer)
        #expect(answer.outcome == .noHit)
        #expect(!answer.confirmBeforeActing)
        #expect(answer.lists[0].matches.isEmpty)
        #expect(try s.journal.checkCount() == 1)
    }

    @Test("every generated plate is found by its own check")
    func generatedPlatesAreFound() throws {
        let s = try LoadedState(records: 500)
        defer { s.directory.remove() }
        var reader = try String(contentsOf: s.state.datasetURL.appendingPathComponent("stolen-vehicles.csv"), encoding: .utf8)
            .split(separator: "\n").dropFirst().makeIterator()
        let checker = s.checker()
        var checked = 0
        while let line = reader.next() {
            let fields = line.split(separator: ",", omittingEmptySubsequences: false)
            let answer = try checker.answerPlate(Plate(parsing: String(fields[1])), context: LoadedState.officer)
            #expect(answer.lists[0].matches.contains { $0.how == .exact && $0.record.recordId == fields[0] })
            checked += 1
        }
        #expect(checked == 325)
    }

    @Test("VIN and engine number lookups")
    func vinAndEngine() throws {
        let s = try LoadedState()
        defer { s.directory.remove() }
        let checker = s.checker()
        #expect(try checker.check(.vin(DemoRecords.stolenVIN.lowercased()), context: LoadedState.officer).lists[0].matches.first?.record.recordId == "SV00000001")
        #expect(try checker.check(.engineNumber(DemoRecords.stolenEngineNumber), context: LoadedState.officer).outcome == .hit)
        #expect(try checker.check(.vin("1HGCM82633A004352"), context: LoadedState.officer).outcome == .noHit)
    }

    @Test("a valid listed ID is a hit in the wanted list with its caution flags")
    func wantedByID() throws {
        let s = try LoadedState()
        defer { s.directory.remove() }
        let answer = try s.checker().check(.personID(DemoRecords.wantedID), context: LoadedState.officer)
        #expect(answer.outcome == .hit)
        #expect(answer.query.idValidity == "valid")
        let wanted = try #require(answer.lists.first { $0.list == .wantedPersons })
        guard case .wantedPerson(let person) = wanted.matches.first?.record else {
            Issue.record("expected a wanted person")
            return
        }
        #expect(person.cautionFlags == ["armed", "violent"])
        #expect(answer.lists.first { $0.list == .missingPersons }?.outcome == .noHit)
    }

    @Test("a mistyped ID is reported as such, with the listed ID one digit away as candidate")
    func mistypedID() throws {
        let s = try LoadedState()
        defer { s.directory.remove() }
        var wrong = Array(DemoRecords.wantedID)
        wrong[9] = wrong[9] == "0" ? "1" : "0"
        let answer = try s.checker().check(.personID(String(wrong)), context: LoadedState.officer)
        #expect(answer.query.idValidity == "bad-checksum")
        #expect(answer.outcome == .possibleHit)
        let match = try #require(answer.lists.first { $0.list == .wantedPersons }?.matches.first)
        #expect(match.how == .idNeighbour)
        #expect(match.record.recordId == "WP00000000")
        #expect(answer.warnings.contains { $0.contains("check digit is wrong") })
    }

    @Test("name and date of birth find a person without ID, across 臺/台 and ROC dates")
    func nameSearch() throws {
        let s = try LoadedState()
        defer { s.directory.remove() }
        let checker = s.checker()
        let answer = try checker.check(.personName(name: " 陳 淑芬", dateOfBirth: "民國35年7月30日"), context: LoadedState.officer)
        #expect(answer.outcome == .possibleHit)
        #expect(answer.lists.first { $0.list == .missingPersons }?.matches.first?.how == .nameAndDateOfBirth)
        let other = try checker.check(.personName(name: "陳淑芬", dateOfBirth: "1946-07-31"), context: LoadedState.officer)
        #expect(other.outcome == .noHit)
    }

    @Test("lists past their expiry flag every answer as stale")
    func stale() throws {
        let s = try LoadedState()
        defer { s.directory.remove() }
        let answer = try s.checker(atSeconds: LoadedState.issuedAt + 8 * 86_400).check(.plate("ZZZ-9999"), context: LoadedState.officer)
        #expect(answer.lists[0].version.stale)
        #expect(answer.warnings.contains { $0.contains("stale") })
    }

    @Test("an empty store says the lists were never received")
    func neverReceived() throws {
        let dir = try Scratch("store")
        defer { dir.remove() }
        let checker = Checker(lists: try ListsStore.open(StateDirectory(path: dir.path)), journal: try .inMemory(),
                              clock: ManualClock(nowMilliseconds: 0))
        let answer = try checker.check(.plate("ABC-1235"), context: LoadedState.officer)
        #expect(answer.outcome == .noHit)
        #expect(answer.lists[0].version.version == 0)
        #expect(answer.lists[0].version.stale)
        #expect(answer.warnings.contains { $0.contains("never received") })
    }

    @Test("refused input is not journaled and reaches no SQL")
    func refusedInput() throws {
        let s = try LoadedState()
        defer { s.directory.remove() }
        #expect(throws: InputError.self) { try s.checker().check(.plate("'; DELETE FROM stolen_vehicle; --"), context: LoadedState.officer) }
        #expect(try s.journal.checkCount() == 0)
        #expect(try s.lists.versions()[.stolenVehicles]?.recordCount == 1_300)
    }

    @Test("a check record survives closing and reopening the journal")
    func journalDurable() throws {
        let s = try LoadedState()
        defer { s.directory.remove() }
        let answer = try s.checker().check(.plate("BLT-8023"), context: LoadedState.officer)
        let reopened = try JournalStore.open(path: s.state.journalPath)
        #expect(try reopened.recentChecks().map(\.checkId) == [answer.checkId])
        #expect(try reopened.quickCheck() == "ok")
    }
}
