import FieldWire
import Foundation
import Store
import Testing
import Watchlist

/// A delta applied straight to the store: what each kind of change leaves in the table, in
/// the answers and in the content digest, which the apply keeps from the stored records it
/// reads (and checks against the manifest's).
@Suite("Delta apply")
struct DeltaApplyTests {
    /// The data set's records of `list`, by record id.
    private func records(_ list: ListKind, _ loaded: LoadedState) throws -> [String: ListRow] {
        var reader = try Dataset.reader(list, in: loaded.state.datasetURL)
        var rows: [String: ListRow] = [:]
        while let fields = try reader.nextRow() {
            let row = try ListRow(list, fields, file: "dataset", line: reader.line)
            rows[row.recordId] = row
        }
        return rows
    }

    private func row(_ list: ListKind, _ base: ListRow, set values: [String: String]) throws -> ListRow {
        let columns = Dataset.columns(list)
        var fields = base.csvFields
        for (name, value) in values { fields[columns.firstIndex(of: name)!] = value }
        return try ListRow(list, fields, file: "test", line: 1)
    }

    /// Applies one delta per list in `changes` (upserts and deletes), targeting the digest and
    /// count worked out here from the data set's records, or `digest` when given.
    private func apply(_ loaded: LoadedState, _ changes: [ListKind: (upserts: [ListRow], deletes: [String])],
                       digest override: String? = nil, now: Int64 = LoadedState.issuedAt + 60) throws {
        let metas = try loaded.lists.versions()
        var targets: [ListKind: ListsUpdate.Target] = [:]
        for (list, change) in changes {
            let meta = metas[list]!
            var rows = try records(list, loaded)
            var builder = ListFileBuilder(deltaOf: list, from: meta.version)
            for row in change.upserts {
                builder.append(.upsert, row)
                rows[row.recordId] = row
            }
            for id in change.deletes {
                builder.appendDelete(id)
                rows[id] = nil
            }
            var expected = ListDigest()
            for row in rows.values { expected.add(fields: row.fields) }
            let body = builder.bytes
            targets[list] = .init(version: meta.version + 1, recordCount: Int64(rows.count), digest: override ?? expected.description,
                                  source: .deltas([{ body }]))
        }
        let state = SyncState(manifestSequence: 2, trustedTime: now, root: Data("{}".utf8), manifestETag: nil)
        try loaded.lists.apply(ListsUpdate(lists: targets, issuedAt: now, expiresAt: now + 86_400, syncState: state))
    }

    private func outcome(_ loaded: LoadedState, plate: String) throws -> CheckAnswer.Outcome {
        try loaded.checker().check(.plate(plate), context: LoadedState.officer).outcome
    }

    @Test("a changed plate moves the record's lookup key; a recolour, an unchanged upsert, a new record and a delete keep the digest the manifest names")
    func vehicleChanges() throws {
        let loaded = try LoadedState()
        let vehicles = try records(.stolenVehicles, loaded).values.sorted { $0.recordId < $1.recordId }
        let (moved, recoloured, same, gone) = (vehicles[0], vehicles[1], vehicles[2], vehicles[3])
        let oldPlate = moved.fields[1]!
        #expect(try outcome(loaded, plate: oldPlate) == .hit)
        #expect(try outcome(loaded, plate: "ZZQ-7788") == .noHit)
        let added = try row(.stolenVehicles, vehicles[4], set: ["record_id": "SV-NEW-1", "plate": "ZZR-1199"])

        try apply(loaded, [.stolenVehicles: (upserts: [
            try row(.stolenVehicles, moved, set: ["plate": "ZZQ-7788"]),
            try row(.stolenVehicles, recoloured, set: ["colour": recoloured.fields[5] == "白" ? "黑" : "白"]),
            same, added,
        ], deletes: [gone.recordId])])

        #expect(try outcome(loaded, plate: "ZZQ-7788") == .hit)
        #expect(try outcome(loaded, plate: oldPlate) == .noHit)
        #expect(try outcome(loaded, plate: "ZZR-1199") == .hit)
        #expect(try outcome(loaded, plate: gone.fields[1]!) == .noHit)
        #expect(try loaded.lists.versions()[.stolenVehicles]?.recordCount == Int64(vehicles.count))
        #expect(loaded.lists.checkIntegrity(budget: .seconds(60)) == .ok)
    }

    @Test("a flag kept as an integer (vulnerable) is compared and hashed as the text it came as")
    func flagColumn() throws {
        let loaded = try LoadedState()
        let missing = try records(.missingPersons, loaded).values.sorted { $0.recordId < $1.recordId }
        let flagged = try #require(missing.first { $0.fields[7] == "1" && $0.fields[1] != nil })
        let unflagged = try #require(missing.first { $0.fields[7] == "0" })
        // One flips its flag, the other is upserted unchanged: both digests must come out right.
        try apply(loaded, [.missingPersons: (upserts: [try row(.missingPersons, flagged, set: ["vulnerable": "0"]), unflagged], deletes: [])])
        let stored = try loaded.lists.records(.missingPersons, key: flagged.fields[1]!).records
        #expect(stored.first { $0[0] == flagged.recordId }?[7] == "0")
        #expect(loaded.lists.checkIntegrity(budget: .seconds(60)) == .ok)
    }

    @Test("a digest that differs from the manifest's leaves the list as it was")
    func digestMismatch() throws {
        let loaded = try LoadedState()
        let vehicle = try #require(try records(.stolenVehicles, loaded).values.min { $0.recordId < $1.recordId })
        let before = try loaded.lists.versions()[.stolenVehicles]
        do {
            try apply(loaded, [.stolenVehicles: (upserts: [try row(.stolenVehicles, vehicle, set: ["plate": "ZZQ-7788"])], deletes: [])],
                      digest: String(repeating: "0", count: 64))
            Issue.record("the delta applied")
        } catch let error as StoreError {
            #expect(error.code == .digestMismatch)
        }
        #expect(try loaded.lists.versions()[.stolenVehicles] == before)
        #expect(try outcome(loaded, plate: vehicle.fields[1]!) == .hit)
        #expect(try outcome(loaded, plate: "ZZQ-7788") == .noHit)
    }

    @Test("a delete of a record the list does not hold: base-mismatch, nothing applied")
    func deleteUnknown() throws {
        let loaded = try LoadedState()
        let vehicle = try #require(try records(.stolenVehicles, loaded).values.min { $0.recordId < $1.recordId })
        do {
            try apply(loaded, [.stolenVehicles: (upserts: [], deletes: [vehicle.recordId, "SV-NOT-HELD"])])
            Issue.record("the delta applied")
        } catch let error as StoreError {
            #expect(error.code == .baseMismatch)
        }
        #expect(try outcome(loaded, plate: vehicle.fields[1]!) == .hit)
    }
}
