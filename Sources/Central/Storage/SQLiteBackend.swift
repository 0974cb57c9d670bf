import Foundation
import GRDB
import Synchronization

/// The center in one SQLite file (GRDB, WAL): demos, tests, a small force.
final class SQLiteBackend: CenterBackend {
    let pool: DatabasePool
    let location: String
    var dialect: SQLDialect { .sqlite }

    init(path: String) throws {
        var config = Configuration()
        config.busyMode = .timeout(10)
        do {
            pool = try DatabasePool(path: path, configuration: config)
            // An acknowledged item is deleted from the terminal's outbox, so what the center
            // acknowledges must survive a power cut: GRDB's pool sets its writer to
            // synchronous=NORMAL (the WAL synced only at checkpoints) when it opens.
            try pool.writeWithoutTransaction { try $0.execute(sql: "PRAGMA synchronous = FULL") }
        } catch {
            throw CentralError("cannot open \(path): \(error)")
        }
        location = path
        try CenterSchema.migrate(self)
    }

    func write<T>(_ body: (any SQLSession) throws -> T) throws -> T {
        try Self.mapped { try pool.write { db in try body(Session(db: db)) } }
    }

    func read<T>(_ body: (any SQLSession) throws -> T) throws -> T {
        try Self.mapped { try pool.read { db in try body(Session(db: db)) } }
    }

    func pollChanges() throws -> any PollChangeSource { try ChangeTable(pool: pool) }

    private static func mapped<T>(_ body: () throws -> T) throws -> T {
        do {
            return try body()
        } catch let error as DatabaseError where error.resultCode == .SQLITE_CONSTRAINT {
            throw CenterDatabaseError(.conflict, error.message ?? "\(error)")
        } catch let error as DatabaseError where error.resultCode == .SQLITE_BUSY {
            throw CenterDatabaseError(.unavailable, error.message ?? "\(error)")
        } catch let error as DatabaseError {
            throw CenterDatabaseError(.statement, error.message ?? "\(error)")
        }
    }

    struct Session: SQLSession {
        let db: Database
        var dialect: SQLDialect { .sqlite }

        func execute(_ sql: String, _ arguments: [any SQLBindable]) throws -> Int {
            let statement = try db.cachedStatement(sql: sql)
            try statement.execute(arguments: Self.arguments(arguments))
            return db.changesCount
        }

        func query(_ sql: String, _ arguments: [any SQLBindable]) throws -> [SQLRow] {
            let statement = try db.cachedStatement(sql: sql)
            return try Row.fetchAll(statement, arguments: Self.arguments(arguments)).map { row in
                SQLRow((0..<row.count).map { i in
                    switch (row[i] as DatabaseValue).storage {
                    case .null: .null
                    case .int64(let v): .integer(v)
                    case .double(let v): .real(v)
                    case .string(let v): .text(v)
                    case .blob(let data): .text(String(decoding: data, as: UTF8.self))
                    }
                })
            }
        }

        private static func arguments(_ values: [any SQLBindable]) -> StatementArguments {
            StatementArguments(values.map { value -> DatabaseValue in
                switch value.sqlValue {
                case .null: .null
                case .integer(let v): v.databaseValue
                case .real(let v): v.databaseValue
                case .text(let v): v.databaseValue
                }
            })
        }
    }

    /// SQLite has no notifications between processes: the `poll_change` table, written in
    /// the transactions that change what a poll returns, read every 100 ms by one reader
    /// for the whole process (not by each waiting poll).
    final class ChangeTable: PollChangeSource {
        private let pool: DatabasePool
        /// The last change read, and the last one pruned.
        private let seen: Mutex<(read: Int64, pruned: Int64)>
        static let interval = Duration.milliseconds(100)

        init(pool: DatabasePool) throws {
            self.pool = pool
            let last = try pool.read { db in try Int64.fetchOne(db, sql: "SELECT coalesce(max(seq), 0) FROM poll_change") ?? 0 }
            seen = Mutex((last, 0))
        }

        func next(timeout: Duration) throws -> [PollTopic] {
            let start = ContinuousClock.now
            while true {
                let after = seen.withLock { $0.read }
                let rows = try mapped {
                    try pool.read { db in
                        try Row.fetchAll(db, sql: "SELECT seq, topic FROM poll_change WHERE seq > ? ORDER BY seq", arguments: [after])
                    }
                }
                if let last: Int64 = rows.last?[0] {
                    let prune = seen.withLock { seen -> Bool in
                        seen.read = last
                        guard last - seen.pruned > 1_000 else { return false }
                        seen.pruned = last
                        return true
                    }
                    // Changes every reader has seen are of no use: keep the table small (a
                    // reader starting now begins at the newest change).
                    if prune { _ = try? pool.write { db in try db.execute(sql: "DELETE FROM poll_change WHERE seq < ?", arguments: [last - 100]) } }
                    return rows.compactMap { PollTopic(text: $0[1]) }
                }
                if ContinuousClock.now - start >= timeout { return [] }
                Thread.sleep(forTimeInterval: Double(Self.interval.components.attoseconds) / 1e18)
            }
        }

        func close() {}
    }
}
