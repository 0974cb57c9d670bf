import Foundation
import GRDB
import Watchlist

/// `lists.db`: the three watch lists and their versions. Re-fetchable from the center, so it
/// trades a little durability for speed (WAL, synchronous=NORMAL); readers never block on
/// the writer.
///
/// Shaped after GRDB's `AppDatabase`: a private writer, frozen string-named migrations, one
/// transaction per intent-named write.
public final class ListsStore: Sendable {
    private let dbWriter: any DatabaseWriter
    /// Connections for checks: each lookup is a single statement (so it reads one snapshot
    /// without an explicit transaction) on one of these, picked round-robin. GRDB's pooled
    /// `read` (reader checkout plus BEGIN/COMMIT) cost more than the lookup itself when the
    /// check path was tuned; `make bench` reports the check against the raw-SQLite floor.
    private let lookupConnections: LookupConnections

    /// Opens (creating and migrating when needed) `lists.db` at `path`, with
    /// `lookupConnections` read-only connections for checks.
    public static func open(path: String, lookupConnections: Int = 2) throws -> ListsStore {
        var config = Configuration()
        config.prepareDatabase { db in
            try db.execute(sql: "PRAGMA synchronous = NORMAL")
        }
        var lookupConfig = Configuration()
        lookupConfig.readonly = true
        do {
            let writer = try DatabasePool(path: path, configuration: config)
            try Self.migrator.migrate(writer)
            let readers = try (0..<max(1, lookupConnections)).map { _ in try DatabaseQueue(path: path, configuration: lookupConfig) }
            return ListsStore(writer, lookups: LookupConnections(readers))
        } catch {
            throw StoreError(.unreadable, "cannot open lists database \(path): \(error)")
        }
    }

    /// An in-memory store for tests.
    public static func inMemory() throws -> ListsStore {
        let queue = try DatabaseQueue()
        try Self.migrator.migrate(queue)
        return ListsStore(queue, lookups: LookupConnections([queue]))
    }

    private init(_ dbWriter: any DatabaseWriter, lookups: LookupConnections) {
        self.dbWriter = dbWriter
        lookupConnections = lookups
    }

    /// Runs one lookup on a lookup connection, outside any explicit transaction.
    func lookup<T>(_ body: (Database) throws -> T) throws -> T {
        try wrap { try lookupConnections.next().inDatabase(body) }
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
        return migrator
    }

    // MARK: Versions

    /// The version metadata of every list (version 0 for a list never received).
    public func versions() throws -> [ListKind: ListMeta] {
        try wrap { try dbWriter.read { db in try ListMeta.fetchAll(db) } }
    }

    /// `PRAGMA quick_check` on the file: "ok" or SQLite's findings.
    public func quickCheck() throws -> String {
        try wrap {
            try dbWriter.read { db in
                try String.fetchAll(db, sql: "PRAGMA quick_check").joined(separator: "\n")
            }
        }
    }

    func wrap<T>(_ body: () throws -> T) throws -> T {
        do {
            return try body()
        } catch let error as StoreError {
            throw error
        } catch let error as DatabaseError {
            throw StoreError(.database, "lists database: \(error.message ?? "\(error.resultCode)")")
        }
    }

    func write<T>(_ body: (Database) throws -> T) throws -> T {
        try wrap { try dbWriter.write(body) }
    }

    /// Copies the WAL into the database file and truncates it (after a bulk load).
    func checkpoint() throws {
        try wrap { try dbWriter.writeWithoutTransaction { db in try db.execute(sql: "PRAGMA wal_checkpoint(TRUNCATE)") } }
    }
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

    public init(list: ListKind, version: Int64, issuedAt: Int64?, expiresAt: Int64?, recordCount: Int64) {
        self.list = list
        self.version = version
        self.issuedAt = issuedAt
        self.expiresAt = expiresAt
        self.recordCount = recordCount
    }

    static func never(_ list: ListKind) -> ListMeta {
        ListMeta(list: list, version: 0, issuedAt: nil, expiresAt: nil, recordCount: 0)
    }

    static func fetchAll(_ db: Database) throws -> [ListKind: ListMeta] {
        var result: [ListKind: ListMeta] = [:]
        for list in ListKind.allCases { result[list] = .never(list) }
        let statement = try db.cachedStatement(sql: "SELECT list, version, issued_at, expires_at, record_count FROM list_meta")
        let rows = try Row.fetchCursor(statement)
        while let row = try rows.next() {
            guard let list = ListKind(rawValue: row[0]) else { continue }
            result[list] = ListMeta(list: list, version: row[1], issuedAt: row[2], expiresAt: row[3], recordCount: row[4])
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
