import Foundation
import GRDB
import GRDBSQLite

extension ListsStore {
    /// What an integrity check found.
    public enum IntegrityResult: Sendable, Equatable {
        case ok
        /// SQLite's findings (the store is then unavailable until a sync replaces the lists).
        case corrupt(String)
        /// The check ran out of time before it finished: nothing wrong found so far.
        case unfinished
        /// There were no lists to check (unavailable already).
        case unavailable
    }

    /// `PRAGMA quick_check` of the current generation on a connection of its own, stopped
    /// after `budget` (a terminal's flash is slow, and the check reads the whole file).
    /// Corruption makes the store unavailable, with SQLite's finding as the reason.
    @discardableResult
    public func checkIntegrity(budget: Duration) -> IntegrityResult {
        guard let generation = try? readableGeneration() else { return .unavailable }
        var configuration = Configuration()
        configuration.readonly = true
        let deadline = DispatchTime.now().uptimeNanoseconds + UInt64(budget.components.seconds) * 1_000_000_000
            + UInt64(budget.components.attoseconds / 1_000_000_000)
        let box = Unmanaged.passRetained(DeadlineBox(deadline))
        defer { box.release() }
        let findings: String
        do {
            let queue = try DatabaseQueue(path: generation.file.path, configuration: configuration)
            findings = try queue.inDatabase { db in
                sqlite3_progress_handler(db.sqliteConnection, 10_000, { context in
                    let box = Unmanaged<DeadlineBox>.fromOpaque(context!).takeUnretainedValue()
                    return DispatchTime.now().uptimeNanoseconds > box.deadline ? 1 : 0
                }, box.toOpaque())
                defer { sqlite3_progress_handler(db.sqliteConnection, 0, nil, nil) }
                return try String.fetchAll(db, sql: "PRAGMA quick_check").joined(separator: "\n")
            }
        } catch let error as DatabaseError where error.resultCode == .SQLITE_INTERRUPT {
            return .unfinished
        } catch let error as DatabaseError where error.resultCode == .SQLITE_CORRUPT || error.resultCode == .SQLITE_NOTADB {
            findings = error.message ?? "\(error.resultCode)"
        } catch {
            findings = "\(error)"
        }
        guard findings != "ok" else { return .ok }
        markUnavailable("integrity check failed on \(generation.file.lastPathComponent): \(findings.prefix(300))")
        return .corrupt(String(findings.prefix(300)))
    }
}

/// The monotonic deadline a progress handler compares against (C callbacks take a pointer).
private final class DeadlineBox {
    let deadline: UInt64
    init(_ deadline: UInt64) { self.deadline = deadline }
}
