import FieldWire
import Foundation
import GRDB
import GRDBSQLite
import Synchronization
#if canImport(Glibc)
import Glibc
#endif
import Watchlist

/// `lists.db`: the three watch lists, their versions and the sync trust state. Re-fetchable
/// from the center, so it trades a little durability for speed (WAL, synchronous=NORMAL);
/// readers never block on the writer.
///
/// The file is a generation (see `StateDirectory`): deltas are applied in place in one
/// transaction; a snapshot builds a new generation that replaces the current one atomically,
/// and this store then moves its connections over while lookups in flight finish on the old.
/// A generation made current by another process (the CLI, a second writer) is followed on
/// the next lookup.
///
/// Lists that cannot be read — no generation where one is expected, a file that is not a
/// database, corruption found by an integrity check — make the store *unavailable*: lookups
/// throw `StoreError.unavailable` with the reason, the versions read as never received, and
/// the next sync builds a new generation from snapshots. The journal (and its trust floor)
/// is another file and carries on.
///
/// Shaped after GRDB's `AppDatabase`: a private writer, frozen string-named migrations, one
/// transaction per intent-named write.
public final class ListsStore: Sendable {
    let directory: StateDirectory
    let lookupCount: Int
    let current: Mutex<Current>
    /// Held while this store opens a generation that became current: the threads of
    /// concurrent lookups that all saw the swap, and the writer that made it, open it once.
    let following = Mutex(())
    /// Set by a wipe (`ListsStore.wipe`) and at start on a wiped terminal: no update is
    /// applied until the lock is lifted — a sync that was downloading when the wipe came
    /// must not bring the lists back.
    let sealed = Mutex(false)
    /// The last verified manifest's issue time, and the monotonic time it was first judged
    /// by (see `judgementTime`); read from the lists once per generation, not per check.
    private let trustAnchor = Mutex(TrustAnchor.unread)

    enum TrustAnchor {
        /// Not read from this generation's `sync_state` yet.
        case unread
        /// Read: lists loaded from a data set have none.
        case none
        case known(trustedTime: Int64, monotonic: Int64?)
    }

    /// The generation checks read now, or why there is none.
    struct Current {
        var generation: Generation?
        var unavailable: String?
        /// The generation file found broken: not opened again, only a newer one is.
        var rejected: String?
    }

    /// One lists file's connections: the writer and the lookup connections for checks. Each
    /// lookup is a single statement (so it reads one snapshot without an explicit
    /// transaction) on one of these, picked round-robin. GRDB's pooled `read` (reader
    /// checkout plus BEGIN/COMMIT) cost more than the lookup itself when the check path was
    /// tuned; `make bench` reports the check against the raw-SQLite floor.
    final class Generation: Sendable {
        let file: URL
        /// The file's name as `lists.db` links to it, for the per-check comparison.
        let linkName: [UInt8]
        let writer: DatabasePool
        let lookups: LookupConnections
        /// The lists this generation holds a version of. A list goes from never received to
        /// received only with a snapshot, which is a new generation: lookups of a list not
        /// here answer "never received" without a query (a plate check on a terminal whose
        /// fleet carries no registrations pays nothing for them).
        let received: Set<ListKind>

        /// - Parameter readOnly: opens without writing anything (no migration); diagnostics
        ///   read a terminal's files this way.
        init(file: URL, lookupConnections: Int, readOnly: Bool = false) throws {
            var config = Configuration()
            config.readonly = readOnly
            config.prepareDatabase { db in
                try db.execute(sql: "PRAGMA synchronous = NORMAL")
                // A delta touches index pages all over a large file: a roomy page cache
                // (grown only as used) saves re-reading and spilling them mid-transaction.
                try db.execute(sql: "PRAGMA cache_size = -65536")
                // Checkpoints are explicit (`checkpoint()` after an apply), so a commit makes
                // the new lists visible without waiting for the WAL to be copied and synced.
                try db.execute(sql: "PRAGMA wal_autocheckpoint = 0")
            }
            // Opening a WAL file briefly takes its write lock (GRDB makes sure the -wal and
            // -shm files exist); the process that just swapped it in may be opening it too.
            config.busyMode = .timeout(5)
            var lookupConfig = Configuration()
            lookupConfig.readonly = true
            lookupConfig.busyMode = .timeout(5)
            do {
                self.file = file
                linkName = Array(file.lastPathComponent.utf8)
                writer = try DatabasePool(path: file.path, configuration: config)
                if try !writer.read(ListsStore.migrator.hasCompletedMigrations) {
                    guard !readOnly else {
                        throw StoreError(.unreadable, "\(file.path) has an older schema: the daemon migrates it when it starts")
                    }
                    try ListsStore.migrator.migrate(writer)
                    try writer.writeWithoutTransaction { db in try db.execute(sql: "PRAGMA wal_checkpoint(TRUNCATE)") }
                }
                lookups = LookupConnections(try (0..<max(1, lookupConnections)).map { _ in
                    try DatabaseQueue(path: file.path, configuration: lookupConfig)
                })
                received = Set(try writer.read(ListMeta.fetchAll).values.filter { $0.version > 0 }.map(\.list))
            } catch let error as StoreError {
                throw error
            } catch let error as DatabaseError where error.resultCode == .SQLITE_BUSY || error.resultCode == .SQLITE_LOCKED {
                // Another process holds the file for longer than the timeout: try again later.
                throw StoreError(.busy, "lists database \(file.path) is busy: \(error)")
            } catch {
                throw StoreError(.unreadable, "cannot open lists database \(file.path): \(error)")
            }
        }
    }

    /// Opens the current lists generation of `directory` (migrating it when needed), with
    /// `lookupConnections` read-only connections for checks.
    ///
    /// A directory without lists gets an empty generation (every list at version 0 until the
    /// first sync) — unless `expectLists` says this terminal has applied lists before (its
    /// journal holds a trust floor): then missing or unreadable lists are a fault, and the
    /// store opens unavailable, with the reason, for the next sync to replace.
    /// - Throws: only for a directory that cannot be used at all (not creatable, not
    ///   readable, the writer lock held while a fresh directory needs its first generation).
    public static func open(_ directory: StateDirectory, lookupConnections: Int = 2, expectLists: Bool = false) throws -> ListsStore {
        let file: URL
        do {
            guard let existing = try directory.currentListsFile() else {
                if expectLists {
                    return ListsStore(directory, unavailable: "no lists generation in \(directory.url.path) (lists.db is missing or dangling): waiting for a sync", lookupConnections)
                }
                return ListsStore(directory, try createEmptyGeneration(directory, lookupConnections: lookupConnections), lookupConnections)
            }
            file = existing
        } catch let error as StoreError where expectLists && error.code == .unreadable {
            return ListsStore(directory, unavailable: error.message, lookupConnections)
        }
        // Generation files a killed writer left behind (a build never made current, or the
        // previous generation of a swap interrupted before it cleaned up). Only when no
        // writer holds the lock: a live one may be building.
        _ = try? withWriterLock(directory) { directory.removeStaleGenerations(keeping: file) }
        do {
            return ListsStore(directory, try Generation(file: file, lookupConnections: lookupConnections), lookupConnections)
        } catch let error as StoreError where expectLists {
            return ListsStore(directory, unavailable: error.message, lookupConnections)
        }
    }

    /// A fresh directory's first generation: empty lists, made current.
    private static func createEmptyGeneration(_ directory: StateDirectory, lookupConnections: Int) throws -> Generation {
        try directory.create()
        let file = try withWriterLock(directory) { () throws -> URL in
            if let existing = try directory.currentListsFile() { return existing }
            let created = directory.newListsFile()
            let generation = try Generation(file: created, lookupConnections: 1)
            try generation.writer.writeWithoutTransaction { db in try db.execute(sql: "PRAGMA wal_checkpoint(TRUNCATE)") }
            try StateDirectory.syncToDisk(created.path)
            try directory.activate(created)
            return created
        }
        return try Generation(file: file, lookupConnections: lookupConnections)
    }

    /// Opens the current generation without writing anything: no migration, no sweep, no
    /// empty generation for an empty directory (`StoreError.notFound`).
    public static func openReadOnly(_ directory: StateDirectory) throws -> ListsStore {
        guard let file = try directory.currentListsFile() else {
            throw StoreError(.notFound, "no lists database in \(directory.url.path)")
        }
        return ListsStore(directory, try Generation(file: file, lookupConnections: 1, readOnly: true), 1)
    }

    private init(_ directory: StateDirectory, _ generation: Generation, _ lookupCount: Int) {
        self.directory = directory
        self.lookupCount = lookupCount
        current = Mutex(Current(generation: generation))
    }

    private init(_ directory: StateDirectory, unavailable reason: String, _ lookupCount: Int) {
        self.directory = directory
        self.lookupCount = lookupCount
        current = Mutex(Current(generation: nil, unavailable: reason))
    }

    /// The time lists are judged by (their age, their expiry), Unix seconds: the later of
    /// the wall clock and the last verified manifest's issue time plus the monotonic time
    /// since. A wall clock set back — by a thief or a flat battery — cannot make expired
    /// lists current again.
    public func judgementTime(_ clock: any TerminalClock) -> Int64 {
        let wall = clock.nowSeconds
        let monotonic = clock.monotonicMilliseconds
        let anchor = trustAnchor.withLock { anchor -> (trustedTime: Int64, monotonic: Int64)? in
            if case .unread = anchor {
                anchor = (try? syncState()?.trustedTime).flatMap { $0 }.map { .known(trustedTime: $0, monotonic: nil) } ?? .none
            }
            switch anchor {
            case .unread, .none:
                return nil
            case .known(let trustedTime, let since):
                if since == nil { anchor = .known(trustedTime: trustedTime, monotonic: monotonic) }
                return (trustedTime, since ?? monotonic)
            }
        }
        guard let anchor else { return wall }
        return max(wall, anchor.trustedTime + max(0, monotonic - anchor.monotonic) / 1000)
    }

    /// A newer manifest was verified and applied at `trustedTime`.
    func advanceTrustAnchor(to trustedTime: Int64) {
        trustAnchor.withLock { anchor in
            if case .known(let known, _) = anchor, known >= trustedTime { return }
            anchor = .known(trustedTime: trustedTime, monotonic: nil)
        }
    }

    /// Why the lists cannot be read, or nil when they can.
    public var unavailableReason: String? { current.withLock { $0.unavailable } }

    /// The generation checks read now, moved on first when another process made a newer one
    /// current (one readlink per call: a swap by the CLI is seen by the very next check).
    /// - Throws: `StoreError.unavailable` with the reason when there is none.
    func readableGeneration() throws -> Generation {
        if let generation = current.withLock({ $0.generation }), directory.listsLinkNames(generation.linkName) {
            return generation
        }
        try followCurrentGeneration()
        guard let generation = current.withLock({ $0.generation }) else {
            throw StoreError(.unavailable, current.withLock { $0.unavailable } ?? "the lists are not available")
        }
        return generation
    }

    /// Hands back the memory SQLite holds for the current generation's connections: the
    /// page and statement caches of the writer and the lookups (the next lookups read the file
    /// and prepare again); the writer pool's readers are closed, and opened again when next read.
    public func releaseMemory() {
        guard let generation = current.withLock({ $0.generation }) else { return }
        generation.writer.releaseMemory()
        generation.lookups.releaseMemory()
    }

    /// Whether the generation checks read now holds a version of `list` (no readlink: a
    /// list is first received with a new generation, which the lookup that follows sees).
    public func holds(_ list: ListKind) -> Bool {
        current.withLock { $0.generation?.received.contains(list) ?? false }
    }

    /// The generation a writer works on (under the writer lock), or nil while unavailable.
    var writableGeneration: Generation? { current.withLock { $0.generation } }

    /// Runs one lookup on a lookup connection, outside any explicit transaction.
    func lookup<T>(_ body: (Database) throws -> T) throws -> T {
        let generation = try readableGeneration()
        return try wrap { try generation.lookups.next().inDatabase(body) }
    }

    /// Moves this store to the generation `lists.db` names now, if it names another than the
    /// one open; one that cannot be opened makes the store unavailable, with the reason.
    func followCurrentGeneration() throws {
        let file: URL?
        do {
            file = try directory.currentListsFile()
        } catch let error as StoreError {
            markUnavailable(error.message)
            return
        }
        guard let file else {
            if current.withLock({ $0.generation }) != nil { markUnavailable("lists.db disappeared from \(directory.url.path)") }
            return
        }
        let name = file.lastPathComponent
        try following.withLock { _ in
            if current.withLock({ $0.generation?.file.lastPathComponent == name || $0.rejected == name }) { return }
            do {
                replaceGeneration(with: try Generation(file: file, lookupConnections: lookupCount))
            } catch let error as StoreError where error.code == .busy {
                // Not a fault of the file: this lookup fails, the next one opens it.
                throw error
            } catch let error as StoreError {
                markUnavailable(error.message)
            }
        }
    }

    /// Stops lookups on the current generation: it failed an integrity check or cannot be
    /// read. The file stays for the next sync to replace (and diagnostics to look at).
    public func markUnavailable(_ reason: String) {
        current.withLock { $0 = Current(generation: nil, unavailable: reason, rejected: $0.generation?.file.lastPathComponent ?? $0.rejected) }
    }

    /// Points lookups and writes at `next`; returns the generation it replaces, if any.
    @discardableResult
    func replaceGeneration(with next: Generation) -> Generation? {
        let previous = current.withLock { slot in
            let previous = slot.generation
            slot = Current(generation: next)
            return previous
        }
        // Another writer may have applied a newer manifest: the anchor moves on (never back).
        if let trusted = (try? next.writer.read(Self.fetchSyncState))??.trustedTime { advanceTrustAnchor(to: trusted) }
        return previous
    }

    /// Runs `body` holding the state directory's lists lock (flock on `lists.lock`): one
    /// writer at a time, whichever process it is in.
    static func withWriterLock<T>(_ directory: StateDirectory, _ body: () throws -> T) throws -> T {
        let fd = Glibc.open(directory.listsLockPath, O_RDWR | O_CREAT | O_CLOEXEC, 0o600)
        guard fd >= 0 else {
            throw StoreError(.unreadable, "cannot open \(directory.listsLockPath): \(String(cString: strerror(errno)))")
        }
        defer { close(fd) }
        guard flock(fd, LOCK_EX | LOCK_NB) == 0 else {
            throw StoreError(.busy, "another process is changing the lists in \(directory.url.path)")
        }
        return try body()
    }

    // MARK: Schema

    /// Frozen once landed: add migrations, never edit one.
    static var migrator: DatabaseMigrator {
        var migrator = DatabaseMigrator()
        migrator.registerMigration("v1-lists") { db in
            try db.execute(sql: """
                CREATE TABLE list_meta (
                    list TEXT PRIMARY KEY NOT NULL,
                    version INTEGER NOT NULL,
                    issued_at INTEGER,
                    expires_at INTEGER,
                    record_count INTEGER NOT NULL
                );
                CREATE TABLE stolen_vehicle (
                    record_id TEXT PRIMARY KEY NOT NULL,
                    plate TEXT NOT NULL,
                    plate_key TEXT NOT NULL,
                    vehicle_kind TEXT NOT NULL,
                    make TEXT NOT NULL,
                    model TEXT NOT NULL,
                    colour TEXT NOT NULL,
                    vin TEXT,
                    engine_number TEXT,
                    reported_at TEXT NOT NULL,
                    case_number TEXT NOT NULL,
                    reporting_unit TEXT NOT NULL
                );
                CREATE INDEX stolen_vehicle_plate ON stolen_vehicle(plate);
                CREATE INDEX stolen_vehicle_plate_key ON stolen_vehicle(plate_key);
                CREATE INDEX stolen_vehicle_vin ON stolen_vehicle(vin) WHERE vin IS NOT NULL;
                CREATE INDEX stolen_vehicle_engine_number ON stolen_vehicle(engine_number) WHERE engine_number IS NOT NULL;
                CREATE TABLE wanted_person (
                    record_id TEXT PRIMARY KEY NOT NULL,
                    id_number TEXT,
                    name TEXT NOT NULL,
                    name_key TEXT NOT NULL,
                    date_of_birth TEXT NOT NULL,
                    sex TEXT NOT NULL,
                    warrant_number TEXT NOT NULL,
                    offence TEXT NOT NULL,
                    issuing_authority TEXT NOT NULL,
                    caution_flags TEXT NOT NULL
                );
                CREATE INDEX wanted_person_id_number ON wanted_person(id_number) WHERE id_number IS NOT NULL;
                CREATE INDEX wanted_person_name_key ON wanted_person(name_key, date_of_birth);
                CREATE TABLE missing_person (
                    record_id TEXT PRIMARY KEY NOT NULL,
                    id_number TEXT,
                    name TEXT NOT NULL,
                    name_key TEXT NOT NULL,
                    date_of_birth TEXT NOT NULL,
                    sex TEXT NOT NULL,
                    missing_since TEXT NOT NULL,
                    description TEXT NOT NULL,
                    vulnerable INTEGER NOT NULL,
                    contact_unit TEXT NOT NULL
                );
                CREATE INDEX missing_person_id_number ON missing_person(id_number) WHERE id_number IS NOT NULL;
                CREATE INDEX missing_person_name_key ON missing_person(name_key, date_of_birth);
                """)
        }
        migrator.registerMigration("v2-sync") { db in
            try db.execute(sql: """
                ALTER TABLE list_meta ADD COLUMN digest TEXT NOT NULL DEFAULT '';
                CREATE TABLE sync_state (
                    id INTEGER PRIMARY KEY CHECK (id = 1),
                    manifest_sequence INTEGER NOT NULL,
                    trusted_time INTEGER NOT NULL,
                    root BLOB NOT NULL,
                    manifest_etag TEXT
                );
                """)
            // The lists this migration knew (later lists' tables do not exist yet).
            for list in [ListKind.stolenVehicles, .wantedPersons, .missingPersons] {
                let (_, digest) = try computeDigest(list, db, columns: Dataset.columns(list).filter { $0 != "photos" })
                try db.execute(sql: "UPDATE list_meta SET digest = ? WHERE list = ?", arguments: [digest.description, list.rawValue])
            }
        }
        migrator.registerMigration("v3-drop-plate-index") { db in
            // Every plate lookup goes through plate_key (exact and confusable matches in one
            // probe); the index on the compact plate only cost loads and deltas.
            try db.execute(sql: "DROP INDEX stolen_vehicle_plate")
        }
        migrator.registerMigration("v4-officers") { db in
            // The officer roster: one row per officer, found by id at sign-in and at each
            // check (a suspension that arrives by delta refuses the very next check).
            try db.execute(sql: """
                CREATE TABLE officer (
                    record_id TEXT PRIMARY KEY NOT NULL,
                    officer_id TEXT NOT NULL,
                    officer_key TEXT NOT NULL,
                    name TEXT NOT NULL,
                    units TEXT NOT NULL,
                    status TEXT NOT NULL,
                    status_reason TEXT NOT NULL,
                    pin_verifier TEXT NOT NULL,
                    second_factor TEXT
                );
                CREATE UNIQUE INDEX officer_key ON officer(officer_key);
                """)
        }
        migrator.registerMigration("v5-photos") { db in
            // Persons' photos, by content (`PhotoReference.field`); the lists' digests cover
            // the new column (empty for every record held so far).
            try db.execute(sql: """
                ALTER TABLE wanted_person ADD COLUMN photos TEXT;
                ALTER TABLE missing_person ADD COLUMN photos TEXT;
                """)
            for list in [ListKind.wantedPersons, .missingPersons] {
                let (_, digest) = try computeDigest(list, db)
                try db.execute(sql: "UPDATE list_meta SET digest = ? WHERE list = ?", arguments: [digest.description, list.rawValue])
            }
        }
        migrator.registerMigration("v6-documents") { db in
            // The document lists (ListSchema: registrations, licences), each found by its
            // plate or ID, and whether a list holds every record or only the exceptions.
            try db.execute(sql: """
                ALTER TABLE list_meta ADD COLUMN mode TEXT NOT NULL DEFAULT 'full';
                CREATE TABLE registration (
                    record_id TEXT PRIMARY KEY NOT NULL,
                    plate TEXT NOT NULL,
                    status TEXT NOT NULL,
                    vehicle_kind TEXT NOT NULL,
                    make TEXT NOT NULL,
                    model TEXT NOT NULL,
                    colour TEXT NOT NULL,
                    company_owned INTEGER NOT NULL
                );
                CREATE INDEX registration_plate ON registration(plate);
                CREATE TABLE licence (
                    record_id TEXT PRIMARY KEY NOT NULL,
                    id_number TEXT NOT NULL,
                    classes TEXT NOT NULL,
                    status TEXT NOT NULL,
                    valid_until TEXT,
                    reason TEXT
                );
                CREATE INDEX licence_id_number ON licence(id_number);
                """)
        }
        return migrator
    }

    /// The table holding `list`.
    public static func table(_ list: ListKind) -> String { ListSchema.of(list).table }

    /// Counts `list`'s records and sums their digest by reading every one.
    /// - Parameter columns: the list's columns (a migration passes those of its own time).
    static func computeDigest(_ list: ListKind, _ db: Database, columns: [String]? = nil) throws -> (count: Int64, digest: ListDigest) {
        var digest = ListDigest()
        var count: Int64 = 0
        let columns = columns ?? Dataset.columns(list)
        // As the delta apply reads a stored record: straight from SQLite's buffers.
        let statement = try db.makeStatement(sql: "SELECT \(columns.joined(separator: ", ")) FROM \(table(list))")
        defer { withExtendedLifetime(statement) {} }
        let handle = statement.sqliteStatement
        while true {
            switch sqlite3_step(handle) & 0xFF {
            case SQLITE_ROW:
                var record = ListDigest.Record()
                for column in 0..<columns.count { record.append(bytes: storedBytes(handle, column)) }
                digest.add(record)
                count += 1
            case SQLITE_DONE:
                return (count, digest)
            default:
                throw StoreError(.database, "lists database: \(String(cString: sqlite3_errmsg(db.sqliteConnection)))")
            }
        }
    }

    /// Recounts every list and recomputes its content digest from the stored records (a
    /// full read; diagnostics and tests compare it with `versions()`).
    public func recomputeDigests() throws -> [ListKind: (count: Int64, digest: String)] {
        let generation = try readableGeneration()
        return try wrap {
            try generation.writer.read { db in
                var result: [ListKind: (count: Int64, digest: String)] = [:]
                for list in ListKind.allCases {
                    let (count, digest) = try Self.computeDigest(list, db)
                    result[list] = (count, digest.description)
                }
                return result
            }
        }
    }

    // MARK: Versions

    /// The version metadata of every list (version 0 for a list never received, and for
    /// every list while the store is unavailable).
    public func versions() throws -> [ListKind: ListMeta] {
        guard let generation = try? readableGeneration() else {
            return Dictionary(uniqueKeysWithValues: ListKind.allCases.map { ($0, ListMeta.never($0)) })
        }
        return try wrap { try generation.writer.read { db in try ListMeta.fetchAll(db) } }
    }

    /// Every list as status shows it, in `ListKind` order, judged at `now` (Unix seconds).
    /// A document list never received is left out: a fleet need not carry registrations or
    /// licences, and such a terminal's lists are not stale for it (its answers still say
    /// "never received" in their document sections).
    public func statuses(at now: Int64) throws -> [ListStatus] {
        // `now` is a judgement time (`judgementTime`), not necessarily the wall clock.
        let metas = try versions()
        return ListKind.allCases.filter { metas[$0]!.version > 0 || ListSchema.of($0).document == nil }.map { kind in
            let v = metas[kind]!.version(at: now)
            return ListStatus(list: kind.rawValue, version: v.version, updatedAt: v.updatedAt, ageSeconds: v.ageSeconds,
                              stale: v.stale, recordCount: v.recordCount)
        }
    }

    /// `PRAGMA quick_check` on the file: "ok" or SQLite's findings.
    public func quickCheck() throws -> String {
        let generation = try readableGeneration()
        return try wrap {
            try generation.writer.read { db in
                try String.fetchAll(db, sql: "PRAGMA quick_check").joined(separator: "\n")
            }
        }
    }

    /// Copies the WAL into the lists file, syncs it and truncates the WAL. Readers keep
    /// reading meanwhile; called after each apply, outside the apply's critical path.
    public func checkpoint() throws {
        guard let generation = writableGeneration else { return }
        try wrap {
            try generation.writer.writeWithoutTransaction { db in try db.execute(sql: "PRAGMA wal_checkpoint(TRUNCATE)") }
        }
    }

    func wrap<T>(_ body: () throws -> T) throws -> T {
        do {
            return try body()
        } catch let error as StoreError {
            throw error
        } catch let error as DatasetError {
            throw StoreError(.badDataset, error.message)
        } catch let error as DatabaseError where error.resultCode == .SQLITE_FULL {
            throw StoreError(.full, "the disk is full: the lists cannot be changed (the current lists keep answering)")
        } catch let error as DatabaseError {
            throw StoreError(.database, "lists database: \(error.message ?? "\(error.resultCode)")")
        }
    }

}

/// One list in a status report (the CLI's and the local API's): name, version, age,
/// staleness and size.
public struct ListStatus: Sendable, Codable, Equatable {
    public var list: String
    public var version: Int64
    public var updatedAt: String?
    public var ageSeconds: Int64?
    public var stale: Bool
    public var recordCount: Int64
}

/// One list's row in `list_meta`.
public struct ListMeta: Sendable, Equatable {
    public var list: ListKind
    public var version: Int64
    /// Unix seconds the center issued this version.
    public var issuedAt: Int64?
    /// Unix seconds after which the list must not be trusted without a warning.
    public var expiresAt: Int64?
    public var recordCount: Int64
    /// The content digest of the records (`ListDigest`), lower-case hex; nil where it was
    /// not read (the check path).
    public var digest: String?
    /// Every record, or only the exceptions (document lists in exceptions-only mode).
    public var mode: ListMode

    public init(list: ListKind, version: Int64, issuedAt: Int64?, expiresAt: Int64?, recordCount: Int64, digest: String? = nil,
                mode: ListMode = .full) {
        (self.list, self.version, self.issuedAt, self.expiresAt) = (list, version, issuedAt, expiresAt)
        (self.recordCount, self.digest, self.mode) = (recordCount, digest, mode)
    }

    static func never(_ list: ListKind) -> ListMeta {
        ListMeta(list: list, version: 0, issuedAt: nil, expiresAt: nil, recordCount: 0, digest: ListDigest().description)
    }

    static func fetchAll(_ db: Database) throws -> [ListKind: ListMeta] {
        var result: [ListKind: ListMeta] = [:]
        for list in ListKind.allCases { result[list] = .never(list) }
        let statement = try db.cachedStatement(sql: "SELECT list, version, issued_at, expires_at, record_count, digest, mode FROM list_meta")
        let rows = try Row.fetchCursor(statement)
        while let row = try rows.next() {
            guard let list = ListKind(rawValue: row[0]) else { continue }
            result[list] = ListMeta(list: list, version: row[1], issuedAt: row[2], expiresAt: row[3], recordCount: row[4], digest: row[5],
                                    mode: ListMode(rawValue: row[6]) ?? .full)
        }
        return result
    }

    /// The wire form for answers, judged at `now` (Unix seconds).
    public func version(at now: Int64) -> ListVersion {
        ListVersion(
            version: version,
            updatedAt: issuedAt.map { Timestamp.iso8601(seconds: $0) },
            ageSeconds: issuedAt.map { max(0, now - $0) },
            stale: isStale(at: now),
            recordCount: recordCount)
    }

    public func isStale(at now: Int64) -> Bool {
        guard version > 0 else { return true }
        guard let expiresAt else { return false }
        return now > expiresAt
    }
}
