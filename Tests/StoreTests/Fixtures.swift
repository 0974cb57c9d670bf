import FieldWire
import Central
import Foundation
import Store
import TestSupport
import Watchlist

/// A generated data set loaded into real lists.db and journal.db files.
struct LoadedState {
    static let issuedAt: Int64 = 1_795_700_000
    let directory: Scratch
    let state: StateDirectory
    let lists: ListsStore
    let journal: JournalStore

    init(records: Int = 2_000, seed: UInt64 = 7, photos: Int = 0, registrations: Int = 0, licences: Int = 0) throws {
        directory = try Scratch("store")
        state = StateDirectory(path: directory.path)
        try DatasetGenerator(counts: .init(records: records, registrations: registrations, licences: licences), seed: seed,
                             issuedAt: Self.issuedAt, photos: photos)
            .write(to: state.datasetURL)
        lists = try ListsStore.open(state)
        try lists.replaceAll(withDatasetAt: state.datasetURL)
        journal = try JournalStore.open(path: state.journalPath)
    }

    func checker(atSeconds seconds: Int64 = LoadedState.issuedAt + 3_600) -> Checker {
        Checker(lists: lists, journal: journal, clock: ManualClock(nowMilliseconds: seconds * 1000))
    }

    static let officer = try! CheckContext(officerId: "OF-0001", unitId: "TPE-DA-01", purpose: CheckPurpose(unchecked: "law-6-1", reference: nil))
}

extension Dataset {
    /// Appends `row` as written to `list`'s file in the data set at `directory`, and makes
    /// dataset.json count it, as version 2: a data set whose one bad row the loader must refuse.
    static func appendRow(_ row: String, to list: ListKind, in directory: URL) throws {
        let csv = directory.appendingPathComponent(fileName(list))
        try (String(contentsOf: csv, encoding: .utf8) + row + "\n").write(to: csv, atomically: true, encoding: .utf8)
        var manifest = try Manifest.read(from: directory)
        manifest.counts[list.rawValue]! += 1
        manifest.version = 2
        try manifest.write(to: directory)
    }
}
