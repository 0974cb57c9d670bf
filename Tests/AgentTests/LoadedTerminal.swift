import Central
import Store
import TestSupport

/// A state directory with generated lists loaded and a journal: the stores the daemon's
/// services run on.
struct LoadedTerminal {
    /// When the generated lists were issued (Unix seconds).
    static let issuedAt: Int64 = 1_795_700_000
    let scratch: Scratch
    let state: StateDirectory
    let lists: ListsStore
    let journal: JournalStore

    init(_ name: String, records: Int = 200, seed: UInt64 = 3) throws {
        scratch = try Scratch(name)
        state = StateDirectory(path: scratch.path)
        try DatasetGenerator(counts: .init(records: records), seed: seed, issuedAt: Self.issuedAt).write(to: state.datasetURL)
        lists = try ListsStore.open(state)
        try lists.replaceAll(withDatasetAt: state.datasetURL)
        journal = try JournalStore.open(path: state.journalPath)
    }

    func remove() { scratch.remove() }
}
