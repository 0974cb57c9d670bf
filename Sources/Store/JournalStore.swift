import TerminalConfiguration
import FieldWire
import Foundation
import GRDB
import Synchronization
import Watchlist

/// `journal.db`: what the terminal must never lose — check records, the outbox to the
/// center, dispatches. WAL with synchronous=FULL: once a write returns, it survives a crash
/// or power loss.
public final class JournalStore: Sendable {
    private let dbWriter: any DatabaseWriter
    let outboxLimits: OutboxLimits
    /// The pending outbox items as this process reckons them (nil until first needed).
    let outboxPending = Mutex<Int?>(nil)
    /// Called after each transaction that queued outbox items (the uploader's wake-up).
    private let onEnqueue: @Sendable () -> Void
    /// Called after a transaction that queued an emergency item: the uploader leaves any backoff.
    private let onUrgent: @Sendable () -> Void
    /// Set by `enqueue` for an emergency-priority item, taken by `enqueueing` after the commit.
    let urgentQueued = Atomic<Bool>(false)
    /// The active emergency and the open stop, as the breadcrumbs and the checks need them
    /// (read from the journal at first use, kept by the writes that change them).
    let operations = Mutex<OperationsState?>(nil)
    /// The held bulletins every check matches (read at first use, kept by the writes).
    let bulletins = Mutex<[BulletinIndexEntry]?>(nil)
    /// Set when a write failed because the disk is full; cleared by the next write that
    /// succeeds. Health and status report it.
    private let full = Atomic<Bool>(false)
    private let writes = Atomic<Int>(0)
    /// The newest chained record (`JournalStore+Chain`), read from the journal at the first
    /// chained write; only touched inside write transactions.
    let chain = Mutex<ChainHead??>(nil)

    public static func open(path: String, outboxLimits: OutboxLimits = OutboxLimits(),
                            onEnqueue: @escaping @Sendable () -> Void = {},
                            onUrgent: @escaping @Sendable () -> Void = {}) throws -> JournalStore {
        do {
            let pool = try DatabasePool(path: path)
            // After the pool is open: GRDB sets its writer to synchronous=NORMAL when it puts
            // the file in WAL mode, after any `prepareDatabase`, and NORMAL syncs the WAL only
            // at checkpoints — a power cut could take the last records already answered.
            try pool.writeWithoutTransaction { try $0.execute(sql: "PRAGMA synchronous = FULL") }
            return try JournalStore(pool, outboxLimits: outboxLimits, onEnqueue: onEnqueue, onUrgent: onUrgent)
        } catch {
            throw StoreError(.unreadable, "cannot open journal database \(path): \(error)")
        }
    }

    /// Opens an existing journal without writing anything (no migration): diagnostics.
    public static func openReadOnly(path: String, outboxLimits: OutboxLimits = OutboxLimits()) throws -> JournalStore {
        guard FileManager.default.fileExists(atPath: path) else { throw StoreError(.notFound, "no journal database at \(path)") }
        var config = Configuration()
        config.readonly = true
        let pool: DatabasePool
        do {
            pool = try DatabasePool(path: path, configuration: config)
        } catch {
            throw StoreError(.unreadable, "cannot open journal database \(path): \(error)")
        }
        guard try pool.read(migrator.hasCompletedMigrations) else {
            throw StoreError(.unreadable, "\(path) has an older schema: the daemon migrates it when it starts")
        }
        return JournalStore(pool: pool, outboxLimits: outboxLimits)
    }

    private init(pool: DatabasePool, outboxLimits: OutboxLimits) {
        dbWriter = pool
        self.outboxLimits = outboxLimits
        onEnqueue = {}
        onUrgent = {}
    }

    public static func inMemory(outboxLimits: OutboxLimits = OutboxLimits()) throws -> JournalStore {
        try JournalStore(DatabaseQueue(), outboxLimits: outboxLimits, onEnqueue: {}, onUrgent: {})
    }

    init(_ dbWriter: any DatabaseWriter, outboxLimits: OutboxLimits, onEnqueue: @escaping @Sendable () -> Void,
         onUrgent: @escaping @Sendable () -> Void) throws {
        self.dbWriter = dbWriter
        self.outboxLimits = outboxLimits
        self.onEnqueue = onEnqueue
        self.onUrgent = onUrgent
        try Self.migrator.migrate(dbWriter)
    }

    /// Hands back the memory SQLite holds for the journal's connections: the writer's page
    /// and statement caches; the readers are closed, and opened again when next read.
    public func releaseMemory() {
        if let pool = dbWriter as? DatabasePool {
            pool.releaseMemory()
        } else if let queue = dbWriter as? DatabaseQueue {
            queue.releaseMemory()
        }
    }

    /// Frozen once landed: add migrations, never edit one.
    static var migrator: DatabaseMigrator {
        var migrator = DatabaseMigrator()
        migrator.registerMigration("v1-check-records") { db in
            try db.execute(sql: """
                CREATE TABLE check_record (
                    id TEXT PRIMARY KEY NOT NULL,
                    checked_at TEXT NOT NULL,
                    officer_id TEXT NOT NULL,
                    unit_id TEXT NOT NULL,
                    kind TEXT NOT NULL,
                    query TEXT NOT NULL,
                    outcome TEXT NOT NULL,
                    matches TEXT NOT NULL,
                    list_versions TEXT NOT NULL,
                    location TEXT
                );
                CREATE INDEX check_record_checked_at ON check_record(checked_at);
                """)
        }
        migrator.registerMigration("v2-breadcrumbs") { db in
            try db.execute(sql: """
                CREATE TABLE breadcrumb (
                    id INTEGER PRIMARY KEY AUTOINCREMENT,
                    fix_time TEXT NOT NULL,
                    latitude REAL NOT NULL,
                    longitude REAL NOT NULL,
                    speed REAL,
                    track REAL,
                    horizontal_error REAL,
                    mode TEXT NOT NULL
                );
                """)
        }
        migrator.registerMigration("v3-sync-attempts") { db in
            try db.execute(sql: """
                CREATE TABLE sync_attempt (
                    id INTEGER PRIMARY KEY AUTOINCREMENT,
                    started_at INTEGER NOT NULL,
                    duration_ms INTEGER NOT NULL,
                    outcome TEXT NOT NULL,
                    reason TEXT,
                    message TEXT,
                    manifest_sequence INTEGER,
                    bytes_fetched INTEGER NOT NULL
                );
                """)
        }
        registerOutbox(&migrator)
        registerDispatch(&migrator)
        registerTrustFloor(&migrator)
        registerOutboxUniqueIDs(&migrator)
        registerOfficerAuth(&migrator)
        migrator.registerMigration("v9-check-accountability") { db in
            // How the officer was authenticated and why the check was made (records from
            // before: NULL, read back as technician with no purpose).
            try db.execute(sql: """
                ALTER TABLE check_record ADD COLUMN authentication TEXT;
                ALTER TABLE check_record ADD COLUMN purpose TEXT;
                """)
        }
        registerChain(&migrator)
        registerProtection(&migrator)
        registerFieldOperations(&migrator)
        registerBulletinsAndConfirmations(&migrator)
        return migrator
    }

    /// Durably records a check and queues it for the center, in one transaction. Called
    /// before the answer is given to anyone.
    public func record(_ answer: CheckAnswer, now: Int64) throws {
        var record = CheckRecordPayload(answer)
        try enqueueing { db in
            // One JSON encoding per check (the outbox payload, with its chain link); SQLite
            // takes the record's JSON columns out of it.
            let (payload, link) = try chained(db) { link in
                record.chain = link
                return WireJSON.text(record)
            }
            let statement = try db.cachedStatement(sql: """
                INSERT INTO check_record (id, checked_at, officer_id, unit_id, kind, query, outcome, matches, list_versions, location,
                                          authentication, purpose, chain_seq, chain_hash, incident_id)
                VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7,
                        json_extract(?8, '$.matches'), json_extract(?8, '$.listVersions'), json_extract(?8, '$.location'),
                        json_extract(?8, '$.authentication'), json_extract(?8, '$.purpose'), ?9, ?10, ?11)
                """)
            try statement.execute(arguments: [
                record.checkId, record.checkedAt, record.officerId, record.unitId, record.kind, record.query, record.outcome, payload,
                link.seq, link.hash, record.incidentId,
            ])
            try enqueue(db, id: record.checkId, kind: .check, hit: answer.outcome == .hit, payload: payload, now: now)
        }
    }

    /// A write that queues outbox items; the uploader is woken once it has committed.
    func enqueueing<T>(_ body: (Database) throws -> T) throws -> T {
        let result = try write(body)
        onEnqueue()
        if urgentQueued.exchange(false, ordering: .relaxed) { onUrgent() }
        return result
    }

    /// Check records, newest first, as the center receives them: all officers' or one's, and
    /// only those before the check `before` (a check id: ids are UUIDv7, in time order).
    public func recentChecks(limit: Int = 50, officerId: String? = nil, before: String? = nil) throws -> [CheckRecordPayload] {
        try read { db in
            // SQLite assembles each row's payload; the one Codable type decodes it.
            try String.fetchAll(db, sql: """
                SELECT \(Self.checkRecordJSON)
                FROM check_record WHERE (?1 IS NULL OR officer_id = ?1) AND (?2 IS NULL OR id < ?2) ORDER BY id DESC LIMIT ?3
                """, arguments: [officerId, before, limit]).map { try WireJSON.decode(CheckRecordPayload.self, from: Data($0.utf8)) }
        }
    }

    /// One check as recorded, by id.
    public func check(id: String) throws -> CheckRecordPayload? {
        try read { db in
            try String.fetchOne(db, sql: "SELECT \(Self.checkRecordJSON) FROM check_record WHERE id = ?", arguments: [id])
                .map { try WireJSON.decode(CheckRecordPayload.self, from: Data($0.utf8)) }
        }
    }

    /// A `check_record` row as `CheckRecordPayload` JSON (SQLite assembles it).
    static let checkRecordJSON = """
        json_object('checkId', id, 'checkedAt', checked_at, 'officerId', officer_id, 'unitId', unit_id,
                    'kind', kind, 'query', query, 'outcome', outcome, 'matches', json(matches),
                    'listVersions', json(list_versions), 'location', json(coalesce(location, '{"status":"not-available"}')),
                    'authentication', authentication, 'purpose', json(purpose), 'incidentId', incident_id)
        """

    func write<T>(_ body: (Database) throws -> T) throws -> T {
        do {
            let result = try dbWriter.write(body)
            if full.load(ordering: .relaxed) { full.store(false, ordering: .relaxed) }
            writes.add(1, ordering: .relaxed)
            return result
        } catch let error as DatabaseError where error.resultCode == .SQLITE_FULL {
            full.store(true, ordering: .relaxed)
            throw StoreError(.full, "the disk is full: the journal cannot record anything more (nothing already recorded is lost)")
        } catch let error as DatabaseError {
            throw StoreError(.database, "journal database: \(error.message ?? "\(error.resultCode)")")
        }
    }

    /// Writes this store committed since it opened: a reader of derived state (the systemd
    /// status line) can tell that nothing changed without a query.
    public var writeCount: Int { writes.load(ordering: .relaxed) }

    /// True since a write failed for a full disk, until one succeeds again.
    public var storageFull: Bool { full.load(ordering: .relaxed) }

    func read<T>(_ body: (Database) throws -> T) throws -> T {
        do {
            return try dbWriter.read(body)
        } catch let error as DatabaseError {
            throw StoreError(.database, "journal database: \(error.message ?? "\(error.resultCode)")")
        }
    }

    public func checkCount() throws -> Int {
        try read { db in try Int.fetchOne(db, sql: "SELECT count(*) FROM check_record") ?? 0 }
    }

    public func quickCheck() throws -> String {
        try read { db in try String.fetchAll(db, sql: "PRAGMA quick_check").joined(separator: "\n") }
    }
}

