import Foundation
import Watchlist

/// Where a load or an apply is: records written into one list, or a step of a new lists
/// generation. The steps are what a crash (or a fault) can fall between; docs/storage.md
/// says what each leaves behind.
public enum ApplyProgress: Sendable, Equatable {
    /// Records written into one list (`total` is 0 when unknown, as for deltas).
    case records(ListKind, done: Int, total: Int)
    case generation(GenerationStep)
    /// Deltas applied in place: every row written, the transaction not yet committed.
    case deltasWritten
}

/// The steps of making a new lists generation current.
public enum GenerationStep: String, Sendable, Equatable, CaseIterable {
    /// The new file is being filled; the current generation answers checks.
    case building
    /// The new file is complete and on disk; `lists.db` still names the current one.
    case built
    /// `lists.db` names the new file: it is the current generation from here on.
    case switched
    /// This store reads the new generation.
    case adopted
    /// The previous generation's files are deleted.
    case cleaned

    /// Reports the step (and runs the debug builds' test hook, `ApplyProgress.testHook`).
    func reached(_ progress: ListsStore.LoadProgress?) throws {
        progress?(.generation(self))
        try ApplyProgress.testHook(rawValue)
    }
}

extension ApplyProgress {
    /// In debug builds, the test harness may make a named point of an apply fail
    /// (`MPOLICE_TEST_FAIL_AT=<name>`) or pause there three seconds for a kill
    /// (`MPOLICE_TEST_PAUSE_AT=<name>`): the generation steps and `deltas-written`. Release
    /// builds have neither.
    static func testHook(_ name: String) throws {
        #if DEBUG
        let environment = ProcessInfo.processInfo.environment
        if environment["MPOLICE_TEST_PAUSE_AT"] == name { usleep(3_000_000) }
        if environment["MPOLICE_TEST_FAIL_AT"] == name {
            throw StoreError(.database, "injected fault at \(name) (MPOLICE_TEST_FAIL_AT)")
        }
        #endif
    }
}
