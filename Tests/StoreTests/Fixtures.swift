import Central
import Foundation
import Store
import Watchlist

/// A fixed clock for answers whose ages and staleness the tests assert.
struct FixedClock: WallClock {
    var nowMilliseconds: Int64
}

/// A fresh directory under the system temp dir, removed by `remove()`.
struct TempDirectory {
    let url: URL

    init() throws {
        url = FileManager.default.temporaryDirectory.appendingPathComponent("mpolice-test-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: url, withIntermediateDirectories: true)
    }

    var path: String { url.path }

    func remove() { try? FileManager.default.removeItem(at: url) }
}

/// A generated data set loaded into real lists.db and journal.db files.
struct LoadedState {
    static let issuedAt: Int64 = 1_795_700_000
    let directory: TempDirectory
    let state: StateDirectory
    let lists: ListsStore
    let journal: JournalStore

    init(records: Int = 2_000, seed: UInt64 = 7) throws {
        directory = try TempDirectory()
        state = StateDirectory(path: directory.path)
        try DatasetGenerator(counts: .init(records: records), seed: seed, issuedAt: Self.issuedAt)
            .write(to: state.datasetURL)
        lists = try ListsStore.open(state)
        try lists.replaceAll(withDatasetAt: state.datasetURL)
        journal = try JournalStore.open(path: state.journalPath)
    }

    func checker(atSeconds seconds: Int64 = LoadedState.issuedAt + 3_600) -> Checker {
        Checker(lists: lists, journal: journal, clock: FixedClock(nowMilliseconds: seconds * 1000))
    }

    static let officer = try! CheckContext(officerId: "OF-0001", unitId: "TPE-DA-01")
}
