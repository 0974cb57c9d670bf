import FieldWire
import Foundation
import GRDB
import GRDBSQLite
import Watchlist

/// What the terminal trusts about the center, stored in lists.db beside the lists it vouches
/// for, so that the lists and the manifest sequence change in the same commit.
public struct SyncState: Sendable, Equatable {
    /// The sequence of the last manifest whose lists were applied.
    public var manifestSequence: Int64
    /// The latest issuedAt of an applied manifest (the freeze reference).
    public var trustedTime: Int64
    /// The trusted root: its signed envelope as received (JSON).
    public var root: Data
    /// The ETag of the last manifest fetched, for a conditional GET.
    public var manifestETag: String?

    public init(manifestSequence: Int64, trustedTime: Int64, root: Data, manifestETag: String?) {
        (self.manifestSequence, self.trustedTime, self.root, self.manifestETag) = (manifestSequence, trustedTime, root, manifestETag)
    }
}

/// A verified update of the lists: per list the version, count and digest to end at, and
/// where the records come from. Bodies are read lazily (one list's file in memory at a time)
/// and are the files' uncompressed contents (`ListFile`).
public struct ListsUpdate: Sendable {
    public typealias Body = @Sendable () throws -> Data

    public enum Source: Sendable {
        /// Same records; only the manifest (sequence, times) moves on.
        case unchanged
        /// Consecutive deltas from the local version.
        case deltas([Body])
        case snapshot(Body)
    }

    public struct Target: Sendable {
        public var version: Int64
        public var recordCount: Int64
        public var digest: String
        public var source: Source
        public var mode: ListMode

        public init(version: Int64, recordCount: Int64, digest: String, source: Source, mode: ListMode = .full) {
            (self.version, self.recordCount, self.digest, self.source, self.mode) = (version, recordCount, digest, source, mode)
        }
    }

    /// Lists not named keep their records and metadata.
    public var lists: [ListKind: Target]
    /// Unix seconds, from the manifest: every list named is as fresh as the manifest.
    public var issuedAt: Int64
    public var expiresAt: Int64
    public var syncState: SyncState

    public init(lists: [ListKind: Target], issuedAt: Int64, expiresAt: Int64, syncState: SyncState) {
        (self.lists, self.issuedAt, self.expiresAt, self.syncState) = (lists, issuedAt, expiresAt, syncState)
    }

    /// True when a list is replaced by a snapshot: the update builds a new generation.
    var needsNewGeneration: Bool {
        lists.values.contains { if case .snapshot = $0.source { true } else { false } }
    }
}

/// One list of a generation being built.
struct GenerationList {
    enum Source {
        /// Load from a reader positioned at the first record.
        case rows(() throws -> CSVReader)
        /// Copy the current generation's records, then apply these deltas.
        case carry([ListsUpdate.Body])
        /// Not held (a data set without this document list): empty, never received.
        case absent
    }

    var version: Int64
    var recordCount: Int64
    /// Checked when given (a sync); a local data set has none to check against.
    var digest: String?
    var source: Source
    var mode: ListMode
}

/// A list's version, count and digest as an apply moves them along.
struct ListPosition {
    var version: Int64
    var count: Int64
    var digest: ListDigest
}

extension ListsStore {
    // MARK: Sync state

    /// The stored trust state; nil before the first sync.
    public func syncState() throws -> SyncState? {
        guard let generation = try? readableGeneration() else { return nil }
        return try wrap { try generation.writer.read { db in try Self.fetchSyncState(db) } }
    }

    /// Stores the trust state alone: a rotated root or a new ETag with no list change.
    public func saveSyncState(_ state: SyncState) throws {
        try Self.withWriterLock(directory) {
            try followCurrentGeneration()
            guard let generation = writableGeneration else {
                throw StoreError(.unavailable, unavailableReason ?? "the lists are not available")
            }
            try wrap { try generation.writer.write { db in try Self.storeSyncState(state, db) } }
        }
    }

    static func fetchSyncState(_ db: Database) throws -> SyncState? {
        try Row.fetchOne(db, sql: "SELECT manifest_sequence, trusted_time, root, manifest_etag FROM sync_state WHERE id = 1").map {
            SyncState(manifestSequence: $0[0], trustedTime: $0[1], root: $0[2], manifestETag: $0[3])
        }
    }

    static func storeSyncState(_ state: SyncState, _ db: Database) throws {
        try db.execute(sql: """
            INSERT OR REPLACE INTO sync_state (id, manifest_sequence, trusted_time, root, manifest_etag) VALUES (1, ?, ?, ?, ?)
            """, arguments: [state.manifestSequence, state.trustedTime, state.root, state.manifestETag])
    }

    // MARK: Apply

    /// Applies a verified update with its trust state, all or nothing: deltas in one
    /// transaction on the current generation; with any snapshot, a new generation made
    /// current atomically. Checks keep answering from the previous lists throughout.
    /// - Throws: `StoreError` `.baseMismatch` (a delta not starting at the local version),
    ///   `.digestMismatch` (count or content digest differs from the target), `.badDataset`,
    ///   `.busy`, `.database`; or whatever a body throws.
    public func apply(_ update: ListsUpdate, progress: LoadProgress? = nil) throws {
        try wrap { try applyLocked(update, progress: progress) }
        advanceTrustAnchor(to: update.syncState.trustedTime)
    }

    private func applyLocked(_ update: ListsUpdate, progress: LoadProgress?) throws {
        try Self.withWriterLock(directory) {
            if sealed.withLock({ $0 }) {
                throw StoreError(.locked, "the lists were wiped by an order: no update is applied until the terminal is unlocked")
            }
            try followCurrentGeneration()
            if update.needsNewGeneration {
                var plan: [ListKind: GenerationList] = [:]
                for (list, target) in update.lists {
                    let source: GenerationList.Source
                    switch target.source {
                    case .unchanged: source = .carry([])
                    case .deltas(let bodies): source = .carry(bodies)
                    case .snapshot(let body):
                        source = .rows {
                            var reader = CSVReader(bytes: [UInt8](try body()), fileName: "\(list.rawValue) snapshot")
                            guard case .snapshot(let version) = try ListFile.open(&reader, list: list) else {
                                throw StoreError(.badDataset, "\(list.rawValue): the snapshot file is a delta")
                            }
                            guard version == target.version else {
                                throw StoreError(.badDataset, "\(list.rawValue): snapshot of version \(version), manifest says \(target.version)")
                            }
                            return reader
                        }
                    }
                    plan[list] = GenerationList(version: target.version, recordCount: target.recordCount, digest: target.digest, source: source,
                                                mode: target.mode)
                }
                try buildGeneration(plan, issuedAt: update.issuedAt, expiresAt: update.expiresAt, syncState: update.syncState,
                                    progress: progress)
            } else {
                guard let generation = writableGeneration else {
                    throw StoreError(.unavailable, unavailableReason ?? "the lists are not available: deltas have nothing to apply to")
                }
                try wrap {
                    try generation.writer.write { db in
                        let metas = try ListMeta.fetchAll(db)
                        for list in ListKind.allCases {
                            guard let target = update.lists[list] else { continue }
                            var position = try Self.position(metas[list]!)
                            if case .deltas(let bodies) = target.source {
                                for body in bodies { try Self.applyDelta(list, body(), at: &position, db, progress: progress) }
                            }
                            try Self.finish(list, position, version: target.version, recordCount: target.recordCount,
                                            digest: target.digest, mode: target.mode, issuedAt: update.issuedAt,
                                            expiresAt: update.expiresAt, db)
                        }
                        try Self.storeSyncState(update.syncState, db)
                        progress?(.deltasWritten)
                        try ApplyProgress.testHook("deltas-written")
                    }
                }
            }
        }
    }

    static func position(_ meta: ListMeta) throws -> ListPosition {
        guard let digest = ListDigest(hex: meta.digest ?? "") else {
            throw StoreError(.database, "lists database: \(meta.list.rawValue) has no valid content digest")
        }
        return ListPosition(version: meta.version, count: meta.recordCount, digest: digest)
    }

    /// Checks that a list ended where the target says and writes its `list_meta` row.
    /// `digest` is nil for a local data set (nothing to check against).
    static func finish(_ list: ListKind, _ position: ListPosition, version: Int64, recordCount: Int64, digest: String?,
                       mode: ListMode, issuedAt: Int64, expiresAt: Int64, _ db: Database) throws {
        guard position.version == version else {
            throw StoreError(.badDataset, "\(list.rawValue): deltas end at version \(position.version), manifest says \(version)")
        }
        guard position.count == recordCount else {
            guard digest != nil else {
                throw StoreError(.badDataset, "\(Dataset.fileName(list)): \(position.count) rows, but \(Dataset.manifestName) says \(recordCount)")
            }
            throw StoreError(.digestMismatch, "\(list.rawValue) version \(version): \(position.count) records, manifest says \(recordCount)")
        }
        if let expected = digest, position.digest.description != expected {
            throw StoreError(.digestMismatch, "\(list.rawValue) version \(version): content digest differs from the manifest's")
        }
        try db.execute(sql: """
            INSERT OR REPLACE INTO list_meta (list, version, issued_at, expires_at, record_count, digest, mode) VALUES (?, ?, ?, ?, ?, ?, ?)
            """, arguments: [list.rawValue, position.version, issuedAt, expiresAt, position.count, position.digest.description, mode.rawValue])
    }

    /// Applies one delta file's body to `list` inside the caller's transaction.
    static func applyDelta(_ list: ListKind, _ body: Data, at position: inout ListPosition, _ db: Database,
                           progress: LoadProgress?) throws {
        var reader = CSVReader(bytes: [UInt8](body), fileName: "\(list.rawValue) delta")
        let to: Int64
        /// A catch-up's deletes may name records this terminal no longer holds.
        let catchUp: Bool
        switch try ListFile.open(&reader, list: list) {
        case .snapshot:
            throw StoreError(.badDataset, "\(list.rawValue): expected a delta, got a snapshot")
        case .delta(let from, let end):
            guard from == position.version else {
                throw StoreError(.baseMismatch, "\(list.rawValue): delta \(from)→\(end) does not start at the local version \(position.version)")
            }
            (to, catchUp) = (end, false)
        case .catchUp(let from, let end):
            guard from <= position.version, position.version < end else {
                throw StoreError(.baseMismatch, "\(list.rawValue): catch-up \(from)→\(end) does not apply to the local version \(position.version)")
            }
            (to, catchUp) = (end, true)
        }
        // The hot loop steps SQLite's statements itself: a stored record is hashed for the
        // digest and compared with its update straight from SQLite's buffers, no `Row` or
        // string made of it.
        let columns = Dataset.columns(list)
        let table = table(list)
        let select = try db.cachedStatement(sql: "SELECT rowid, \(columns.joined(separator: ", ")) FROM \(table) WHERE record_id = ?")
        // RETURNING hands back the deleted record for the digest in the same probe.
        let delete = try db.cachedStatement(sql: "DELETE FROM \(table) WHERE record_id = ? RETURNING \(columns.joined(separator: ", "))")
        let insertStatement = try db.cachedStatement(sql: insertSQL(list))
        let keyColumn = keyColumn(list)
        var updates = StoredRecordUpdates(list)
        let connection = db.sqliteConnection
        func failure() -> StoreError { StoreError(.database, "lists database: \(String(cString: sqlite3_errmsg(connection)))") }
        var done = 0
        progress?(.records(list, done: 0, total: 0))
        while let f = try reader.nextRow() {
            guard let operation = ListFile.Operation(rawValue: f.first ?? ""), f.count == columns.count + 1 else {
                throw StoreError(.badDataset, "\(reader.fileName):\(reader.line): expected upsert or delete and \(columns.count) fields")
            }
            switch operation {
            case .delete:
                guard !f[1].isEmpty, f.dropFirst(2).allSatisfy(\.isEmpty) else {
                    throw StoreError(.badDataset, "\(reader.fileName):\(reader.line): a delete names the record id only")
                }
                let handle = delete.sqliteStatement
                defer { sqlite3_reset(handle) }
                bind(f[1], at: 1, of: handle)
                switch sqlite3_step(handle) & 0xFF {
                case SQLITE_ROW:
                    var record = ListDigest.Record()
                    for column in 0..<columns.count { record.append(bytes: storedBytes(handle, column)) }
                    position.digest.remove(record)
                    position.count -= 1
                    guard sqlite3_step(handle) & 0xFF == SQLITE_DONE else { throw failure() }
                case SQLITE_DONE:
                    if catchUp { break }
                    throw StoreError(.baseMismatch, "\(reader.fileName):\(reader.line): deletes a record the local list does not hold")
                default:
                    throw failure()
                }
            case .upsert:
                let row = try ListRow(list, Array(f.dropFirst()), file: reader.fileName, line: reader.line)
                let handle = select.sqliteStatement
                sqlite3_reset(handle)
                bind(row.recordId, at: 1, of: handle)
                let found = sqlite3_step(handle) & 0xFF
                var rowid: Int64 = 0, changed: [Int] = []
                if found == SQLITE_ROW {
                    rowid = sqlite3_column_int64(handle, 0)
                    var record = ListDigest.Record()
                    for i in 0..<columns.count {
                        let stored = storedBytes(handle, i + 1)
                        record.append(bytes: stored)
                        if i > 0, !Self.field(row.fields[i], matches: stored, null: sqlite3_column_type(handle, Int32(i + 1)) == SQLITE_NULL) {
                            changed.append(i)
                        }
                    }
                    position.digest.remove(record)
                }
                sqlite3_reset(handle)
                switch found {
                case SQLITE_ROW:
                    // An UPDATE of the changed columns only: SQLite then leaves alone every
                    // index whose columns did not change (a recolour touches no index).
                    if !changed.isEmpty {
                        guard try updates.run(row, changed: changed, rowid: rowid, db) == SQLITE_DONE else { throw failure() }
                    }
                case SQLITE_DONE:
                    position.count += 1
                    guard insert(row, with: insertStatement, keyColumn: keyColumn) == SQLITE_DONE else { throw failure() }
                default:
                    throw failure()
                }
                position.digest.add(fields: row.fields)
            }
            done += 1
            if done % 10_000 == 0 { progress?(.records(list, done: done, total: 0)) }
        }
        position.version = to
        progress?(.records(list, done: done, total: done))
    }

    /// True when a row's field is what a stored column holds (`null`: the column is NULL).
    private static func field(_ field: String?, matches stored: UnsafeRawBufferPointer, null: Bool) -> Bool {
        guard var value = field else { return null }
        guard !null, value.utf8.count == stored.count else { return false }
        return value.withUTF8 { bytes in stored.isEmpty || memcmp(bytes.baseAddress!, stored.baseAddress!, stored.count) == 0 }
    }

    // MARK: New generation

    /// Builds a new generation from `plan` (lists not in it are carried over as they are),
    /// checks every list against its target, and makes it current. Called under the writer
    /// lock. A failure before the link switches deletes the new file and leaves the current
    /// generation as it was; from the switch on, the new file is the current generation and
    /// is never deleted (the previous one is, once this store has moved over).
    func buildGeneration(_ plan: [ListKind: GenerationList], issuedAt: Int64, expiresAt: Int64, syncState: SyncState?,
                         progress: LoadProgress?) throws {
        // Build on what lists.db names now: another process may have swapped in (and
        // deleted the file this store still holds) since this store last looked.
        try followCurrentGeneration()
        let previous = writableGeneration
        directory.removeStaleGenerations(keeping: previous?.file)
        let file = directory.newListsFile()
        var switched = false
        do {
            try GenerationStep.building.reached(progress)
            // A fresh file no reader sees yet: no durability until it is complete (fsync
            // below, before the link switches), and a rollback journal costs nothing on
            // pages that were empty.
            var config = Configuration()
            config.prepareDatabase { db in try db.execute(sql: "PRAGMA synchronous = OFF") }
            let queue = try DatabaseQueue(path: file.path, configuration: config)
            try Self.migrator.migrate(queue)
            let previousMetas = try versions()
            try wrap {
                try queue.inDatabase { db in
                    if let previous { try db.execute(sql: "ATTACH DATABASE ? AS previous", arguments: [previous.file.path]) }
                    try db.inTransaction {
                        try fill(db, plan: plan, carryFrom: previous == nil ? nil : previousMetas, issuedAt: issuedAt, expiresAt: expiresAt,
                                 syncState: syncState, progress: progress)
                        return .commit
                    }
                    if previous != nil { try db.execute(sql: "DETACH DATABASE previous") }
                    try db.execute(sql: "PRAGMA journal_mode = WAL")
                }
            }
            try queue.close()
            try StateDirectory.syncToDisk(file.path)
            try GenerationStep.built.reached(progress)
            try directory.activate(file)
            switched = true
            try GenerationStep.switched.reached(progress)
            try following.withLock { _ in
                // Lookups that saw the switch may have opened it already.
                if writableGeneration?.file != file { replaceGeneration(with: try Generation(file: file, lookupConnections: lookupCount)) }
            }
            try GenerationStep.adopted.reached(progress)
        } catch {
            if !switched { directory.removeGeneration(file) }
            throw error
        }
        // Lookups that still hold the previous generation finish on it: its files stay open
        // until they let go.
        if let previous { directory.removeGeneration(previous.file) }
        try GenerationStep.cleaned.reached(progress)
    }

    /// - Parameter carryFrom: the previous generation's versions (it is attached as
    ///   `previous`); nil when there is none (the lists were unavailable), and lists the plan
    ///   does not name start empty.
    private func fill(_ db: Database, plan: [ListKind: GenerationList], carryFrom previousMetas: [ListKind: ListMeta]?, issuedAt: Int64,
                      expiresAt: Int64, syncState: SyncState?, progress: LoadProgress?) throws {
        // Secondary indexes are dropped and rebuilt around the bulk insert: building an index
        // once costs a fraction of updating it row by row. Their SQL comes from the schema
        // itself, so the migrations stay the one definition.
        let indexes = try Row.fetchAll(db, sql: """
            SELECT name, sql FROM main.sqlite_master
            WHERE type = 'index' AND sql IS NOT NULL
              AND tbl_name IN (\(ListKind.allCases.filter { $0 != .officers }.map { "'\(Self.table($0))'" }.joined(separator: ", ")))
            """).map { (name: $0[0] as String, sql: $0[1] as String) }
        for index in indexes { try db.execute(sql: "DROP INDEX main.\(index.name)") }
        for list in ListKind.allCases {
            let table = Self.table(list)
            guard let target = plan[list] else {
                if previousMetas != nil {
                    try db.execute(sql: "INSERT INTO main.\(table) SELECT * FROM previous.\(table)")
                    try db.execute(sql: "INSERT INTO main.list_meta SELECT * FROM previous.list_meta WHERE list = ?", arguments: [list.rawValue])
                }
                continue
            }
            var position: ListPosition
            switch target.source {
            case .absent:
                continue
            case .rows(let makeReader):
                let (count, digest) = try Self.load(list, from: makeReader(), into: db, expected: Int(target.recordCount), progress: progress)
                position = ListPosition(version: target.version, count: count, digest: digest)
            case .carry(let deltas):
                guard let previousMetas else {
                    throw StoreError(.unavailable, "\(list.rawValue): no previous lists to carry over; a snapshot is needed")
                }
                try db.execute(sql: "INSERT INTO main.\(table) SELECT * FROM previous.\(table)")
                position = try Self.position(previousMetas[list]!)
                for body in deltas { try Self.applyDelta(list, body(), at: &position, db, progress: progress) }
            }
            try Self.finish(list, position, version: target.version, recordCount: target.recordCount, digest: target.digest,
                            mode: target.mode, issuedAt: issuedAt, expiresAt: expiresAt, db)
        }
        for index in indexes { try db.execute(sql: index.sql) }
        if let syncState {
            try Self.storeSyncState(syncState, db)
        } else if previousMetas != nil {
            try db.execute(sql: "INSERT INTO main.sync_state SELECT * FROM previous.sync_state")
        }
    }
}

/// The UPDATEs of a delta's changed records, one statement per set of changed columns (a
/// delta's changes mostly share a few), by rowid: the SELECT before found the row.
struct StoredRecordUpdates {
    private let list: ListKind
    private let columns: [String]
    private let derivedKey: ListSchema.DerivedKey?
    private var statements: [[Int]: Statement] = [:]

    init(_ list: ListKind) {
        self.list = list
        columns = Dataset.columns(list)
        derivedKey = ListSchema.of(list).derivedKey
    }

    /// Sets the columns `changed` (indexes into `Dataset.columns`) of row `rowid` to `row`'s
    /// values, and the derived key with its source column.
    /// - Returns: SQLite's result code (primary code).
    mutating func run(_ row: ListRow, changed: [Int], rowid: Int64, _ db: Database) throws -> Int32 {
        let statement: Statement
        if let cached = statements[changed] {
            statement = cached
        } else {
            var assignments: [String] = []
            for i in changed {
                assignments.append("\(columns[i]) = ?")
                if let derivedKey, i == derivedKey.source { assignments.append("\(derivedKey.name) = ?") }
            }
            statement = try db.cachedStatement(sql: "UPDATE \(ListsStore.table(list)) SET \(assignments.joined(separator: ", ")) WHERE rowid = ?")
            statements[changed] = statement
        }
        let handle = statement.sqliteStatement
        sqlite3_reset(handle)
        var index: Int32 = 1
        func bind(_ value: String?) {
            ListsStore.bind(value, at: index, of: handle)
            index += 1
        }
        for i in changed {
            bind(row.fields[i])
            if let derivedKey, i == derivedKey.source { bind(row.key) }
        }
        sqlite3_bind_int64(handle, index, rowid)
        let code = sqlite3_step(handle) & 0xFF
        sqlite3_reset(handle)
        return code
    }
}
