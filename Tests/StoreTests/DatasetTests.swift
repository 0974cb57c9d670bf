import Central
import FieldWire
import Foundation
import Store
import TestSupport
import Testing
import Watchlist

@Suite("Data sets and loading")
struct DatasetTests {
    @Test("the same seed writes byte-identical files; another seed does not")
    func deterministic() throws {
        let a = try Scratch("store"), b = try Scratch("store"), c = try Scratch("store")
        defer { a.remove(); b.remove(); c.remove() }
        let issued: Int64 = 1_795_700_000
        let counts = DatasetGenerator.Counts(records: 3_000, registrations: 500, licences: 500)
        try DatasetGenerator(counts: counts, seed: 42, issuedAt: issued).write(to: a.url)
        try DatasetGenerator(counts: counts, seed: 42, issuedAt: issued).write(to: b.url)
        try DatasetGenerator(counts: counts, seed: 43, issuedAt: issued).write(to: c.url)
        for list in ListKind.allCases {
            let name = Dataset.fileName(list)
            let fa = try Data(contentsOf: a.url.appendingPathComponent(name))
            #expect(fa == (try Data(contentsOf: b.url.appendingPathComponent(name))))
            // The roster is the fixed demo roster whatever the seed.
            if list == .officers {
                #expect(fa == (try Data(contentsOf: c.url.appendingPathComponent(name))))
            } else {
                #expect(fa != (try Data(contentsOf: c.url.appendingPathComponent(name))))
            }
        }
    }

    @Test("generated IDs pass their checksum and plates fit a Taiwan layout")
    func realistic() throws {
        let s = try LoadedState(records: 3_000)
        defer { s.directory.remove() }
        for list in [ListKind.wantedPersons, .missingPersons] {
            let text = try String(contentsOf: s.state.datasetURL.appendingPathComponent(Dataset.fileName(list)), encoding: .utf8)
            for line in text.split(separator: "\n").dropFirst() {
                let id = String(line.split(separator: ",", omittingEmptySubsequences: false)[1])
                if !id.isEmpty { #expect(PersonID.isValid(id), "\(id)") }
            }
        }
        let plates = try String(contentsOf: s.state.datasetURL.appendingPathComponent("stolen-vehicles.csv"), encoding: .utf8)
        for line in plates.split(separator: "\n").dropFirst() {
            let plate = try Plate(parsing: String(line.split(separator: ",")[1]))
            #expect(plate.format != nil, "\(plate.compact)")
        }
        let versions = try s.lists.versions()
        #expect(versions[.stolenVehicles]?.recordCount == 1_950)
        #expect(versions[.wantedPersons]?.recordCount == 750)
        #expect(versions[.missingPersons]?.recordCount == 300)
        #expect(try s.lists.quickCheck() == "ok")
    }

    @Test("a bad row is named by file, line and column and leaves the previous lists whole", arguments: [
        ("SV99999999,ABC'1234,car,x,y,z,,,2026-01-01T00:00:00Z,1,u", "stolen-vehicles.csv:1302: plate"),
        ("SV99999999,ABC-1235,car,x,y,z,NOTAVIN,,2026-01-01T00:00:00Z,1,u", "stolen-vehicles.csv:1302: vin"),
        ("SV00000005,ABC-1235,car,x,y,z,,,2026-01-01T00:00:00Z,1,u", "stolen-vehicles.csv:1302: record_id: duplicate"),
        ("SV99999999,ABC-1235,car", "stolen-vehicles.csv:1302: 3 fields"),
        ("SV99999999,\"ABC-1235,car", "stolen-vehicles.csv:1302: unterminated"),
    ])
    func badRow(row: String, expected: String) throws {
        let s = try LoadedState()
        defer { s.directory.remove() }
        // A second data set, version 2, with one bad row appended and the count bumped to match.
        let next = s.directory.url.appendingPathComponent("next")
        try DatasetGenerator(counts: .init(records: 2_000), seed: 8, issuedAt: LoadedState.issuedAt).write(to: next)
        try Dataset.appendRow(row, to: .stolenVehicles, in: next)
        #expect {
            try s.lists.replaceAll(withDatasetAt: next)
        } throws: { error in
            guard let e = error as? StoreError else { return false }
            return e.code == .badDataset && e.message.contains(expected)
        }
        #expect(try s.lists.versions()[.stolenVehicles]?.version == 1)
        #expect(try s.checker().check(.plate("BLT-8023"), context: LoadedState.officer).outcome == .hit)
    }

    @Test("a count that disagrees with dataset.json is refused")
    func countMismatch() throws {
        let s = try LoadedState()
        defer { s.directory.remove() }
        var manifest = try Dataset.Manifest.read(from: s.state.datasetURL)
        manifest.counts["wanted-persons"]! -= 1
        try manifest.write(to: s.state.datasetURL)
        #expect { try s.lists.replaceAll(withDatasetAt: s.state.datasetURL) } throws: {
            ($0 as? StoreError)?.message.contains("wanted-persons.csv: 500 rows, but dataset.json says 499") == true
        }
    }

    @Test("a lists generation that is not a database, or a lists.db that is no link, fails with a store error")
    func notADatabase() throws {
        let dir = try Scratch("store")
        defer { dir.remove() }
        let garbage = dir.url.appendingPathComponent("lists-garbage.db")
        try Data(repeating: 0x41, count: 8192).write(to: garbage)
        try FileManager.default.createSymbolicLink(atPath: dir.url.appendingPathComponent("lists.db").path,
                                                   withDestinationPath: "lists-garbage.db")
        #expect { try ListsStore.open(StateDirectory(path: dir.path)) } throws: { ($0 as? StoreError)?.code == .unreadable }

        let plain = try Scratch("store")
        defer { plain.remove() }
        try Data(repeating: 0x41, count: 8192).write(to: plain.url.appendingPathComponent("lists.db"))
        #expect { try ListsStore.open(StateDirectory(path: plain.path)) } throws: {
            ($0 as? StoreError)?.code == .unreadable && "\($0)".contains("not a link")
        }
    }
}
