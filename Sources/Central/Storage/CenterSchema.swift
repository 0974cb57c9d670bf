import Foundation
import GRDB

/// The center's tables, for each engine. SQLite's migrations are frozen as released (a
/// center.db from any earlier version opens); PostgreSQL's start where SQLite's are now,
/// with the uplink tables partitioned by month.
enum CenterSchema {
    // MARK: SQLite

    static func migrate(_ backend: SQLiteBackend) throws {
        var migrator = DatabaseMigrator()
        migrator.registerMigration("v1") { db in
            try db.execute(sql: """
                CREATE TABLE item (
                    received_seq INTEGER PRIMARY KEY AUTOINCREMENT,
                    id TEXT NOT NULL UNIQUE,
                    unit TEXT NOT NULL,
                    kind TEXT NOT NULL,
                    created_at INTEGER NOT NULL,
                    payload TEXT NOT NULL,
                    received_at INTEGER NOT NULL
                );
                CREATE TABLE dispatch (
                    cursor INTEGER PRIMARY KEY AUTOINCREMENT,
                    id TEXT NOT NULL UNIQUE,
                    unit TEXT NOT NULL,
                    created_at TEXT NOT NULL,
                    priority TEXT NOT NULL,
                    summary TEXT NOT NULL,
                    latitude REAL,
                    longitude REAL,
                    status TEXT NOT NULL DEFAULT 'queued'
                );
                CREATE INDEX dispatch_unit ON dispatch(unit, cursor);
                """)
        }
        migrator.registerMigration("v2-unique-per-unit") { db in
            // An item id is unique per unit: one unit's ids cannot collide with — or be
            // used to shadow — another's.
            try db.execute(sql: """
                CREATE TABLE item_per_unit (
                    received_seq INTEGER PRIMARY KEY AUTOINCREMENT,
                    id TEXT NOT NULL,
                    unit TEXT NOT NULL,
                    kind TEXT NOT NULL,
                    created_at INTEGER NOT NULL,
                    payload TEXT NOT NULL,
                    received_at INTEGER NOT NULL,
                    UNIQUE (unit, id)
                );
                INSERT INTO item_per_unit SELECT received_seq, id, unit, kind, created_at, payload, received_at FROM item;
                DROP TABLE item;
                ALTER TABLE item_per_unit RENAME TO item;
                """)
        }
        migrator.registerMigration("v3-deliveries") { db in
            // Every answer given, per delivery: what makes "exactly once" checkable from
            // outside (one `accepted` per item, any number of `duplicate`s after it).
            try db.execute(sql: """
                CREATE TABLE delivery (
                    seq INTEGER PRIMARY KEY AUTOINCREMENT,
                    unit TEXT NOT NULL,
                    id TEXT NOT NULL,
                    status TEXT NOT NULL,
                    received_at INTEGER NOT NULL
                );
                """)
        }
        migrator.registerMigration("v4-audit-chain") { db in
            // The newest chain head each unit reported, and chained items by position.
            try db.execute(sql: """
                CREATE TABLE unit_chain (
                    unit TEXT PRIMARY KEY NOT NULL,
                    seq INTEGER NOT NULL,
                    hash TEXT NOT NULL,
                    reported_at INTEGER NOT NULL
                );
                ALTER TABLE item ADD COLUMN chain_seq INTEGER;
                CREATE INDEX item_chain ON item(unit, chain_seq) WHERE chain_seq IS NOT NULL;
                """)
        }
        migrator.registerMigration("v5-orders") { db in
            // Lock and wipe orders, numbered per unit, each kept as the signed document sent.
            try db.execute(sql: """
                CREATE TABLE terminal_order (
                    unit TEXT NOT NULL,
                    sequence INTEGER NOT NULL,
                    kind TEXT NOT NULL,
                    issued_at INTEGER NOT NULL,
                    expires_at INTEGER NOT NULL,
                    envelope TEXT NOT NULL,
                    PRIMARY KEY (unit, sequence)
                );
                """)
        }
        migrator.registerMigration("v6-field-operations") { db in
            try db.execute(sql: """
                ALTER TABLE dispatch ADD COLUMN address TEXT;
                ALTER TABLE dispatch ADD COLUMN incident_type TEXT;
                ALTER TABLE dispatch ADD COLUMN callback_number TEXT;
                ALTER TABLE dispatch ADD COLUMN notes TEXT;
                ALTER TABLE dispatch ADD COLUMN reason TEXT;
                ALTER TABLE dispatch ADD COLUMN received_at TEXT;
                ALTER TABLE dispatch ADD COLUMN en_route_at TEXT;
                ALTER TABLE dispatch ADD COLUMN on_scene_at TEXT;
                ALTER TABLE dispatch ADD COLUMN cleared_at TEXT;
                -- Set when `--near` chose the unit: the straight-line distance, metres.
                ALTER TABLE dispatch ADD COLUMN distance_m REAL;
                -- Every unit's dispatch log; the poll's cursor is this table's. The dispatches
                -- made before it are its first entries, under the cursors units already hold.
                CREATE TABLE dispatch_event (
                    cursor INTEGER PRIMARY KEY AUTOINCREMENT,
                    dispatch_id TEXT NOT NULL,
                    unit TEXT NOT NULL,
                    change TEXT NOT NULL,
                    entry TEXT NOT NULL
                );
                CREATE INDEX dispatch_event_unit ON dispatch_event(unit, cursor);
                INSERT INTO dispatch_event (cursor, dispatch_id, unit, change, entry)
                    SELECT cursor, id, unit, 'created', json_object('id', id, 'cursor', cursor, 'createdAt', created_at,
                        'priority', priority, 'summary', summary, 'latitude', latitude, 'longitude', longitude, 'change', 'created')
                    FROM dispatch ORDER BY cursor;
                -- What each unit last reported: position (when the center received it), status, emergency.
                CREATE TABLE unit_state (
                    unit TEXT PRIMARY KEY NOT NULL,
                    latitude REAL,
                    longitude REAL,
                    position_at INTEGER,
                    status TEXT,
                    status_at TEXT,
                    emergency_id TEXT
                );
                ALTER TABLE item ADD COLUMN urgent INTEGER NOT NULL DEFAULT 0;
                ALTER TABLE item ADD COLUMN nearest TEXT;
                """)
        }
        migrator.registerMigration("v7-bulletins-confirmations") { db in
            try db.execute(sql: """
                CREATE TABLE bulletin (
                    serial INTEGER PRIMARY KEY AUTOINCREMENT,
                    id TEXT NOT NULL UNIQUE,
                    kind TEXT NOT NULL,
                    region TEXT,
                    summary TEXT NOT NULL,
                    issued_at INTEGER NOT NULL,
                    expires_at INTEGER NOT NULL,
                    envelope TEXT NOT NULL
                );
                -- The records as last published: active, or withdrawn since a version.
                CREATE TABLE center_record (
                    list TEXT NOT NULL,
                    record_id TEXT NOT NULL,
                    fields TEXT NOT NULL,
                    active INTEGER NOT NULL,
                    version INTEGER NOT NULL,
                    changed_at INTEGER NOT NULL,
                    PRIMARY KEY (list, record_id)
                ) WITHOUT ROWID;
                -- Answers to units' confirmation requests: the poll's cursor.
                CREATE TABLE confirmation (
                    cursor INTEGER PRIMARY KEY AUTOINCREMENT,
                    unit TEXT NOT NULL,
                    request_id TEXT NOT NULL,
                    answer TEXT NOT NULL,
                    UNIQUE (unit, request_id)
                );
                CREATE INDEX confirmation_unit ON confirmation(unit, cursor);
                """)
        }
        migrator.registerMigration("v8-poll-changes-fleet-health") { db in
            try db.execute(sql: """
                -- What woke which long polls (PollTopic.text), read by the serving process
                -- every 100 ms instead of every poll querying every table.
                CREATE TABLE poll_change (
                    seq INTEGER PRIMARY KEY AUTOINCREMENT,
                    topic TEXT NOT NULL
                );
                \(unitHealth)
                CREATE INDEX item_kind ON item(kind, received_seq);
                """)
        }
        try migrator.migrate(backend.pool)
    }

    /// Each unit's latest health report (the same table in both engines).
    static let unitHealth = """
        CREATE TABLE unit_health (
            unit TEXT PRIMARY KEY NOT NULL,
            reported_at TEXT NOT NULL,
            received_at BIGINT NOT NULL,
            report TEXT NOT NULL
        );
        """

    // MARK: PostgreSQL

    /// Numbered migrations, each run once in its own transaction; `center_schema` holds
    /// the number reached.
    static let postgres: [String] = [
        """
        CREATE TABLE item (
            received_seq BIGSERIAL NOT NULL,
            id TEXT NOT NULL,
            unit TEXT NOT NULL,
            kind TEXT NOT NULL,
            created_at BIGINT NOT NULL,
            payload TEXT NOT NULL,
            received_at BIGINT NOT NULL,
            chain_seq BIGINT,
            urgent SMALLINT NOT NULL DEFAULT 0,
            nearest TEXT,
            -- Unique per unit, id and creation time: the partition key must be in every
            -- unique key, and a resent item carries its creation time unchanged.
            PRIMARY KEY (unit, id, created_at)
        ) PARTITION BY RANGE (created_at);
        CREATE TABLE item_default PARTITION OF item DEFAULT;
        CREATE INDEX item_seq ON item (received_seq);
        CREATE INDEX item_kind ON item (kind, received_seq);
        CREATE INDEX item_chain ON item (unit, chain_seq) WHERE chain_seq IS NOT NULL;
        CREATE TABLE delivery (
            seq BIGSERIAL NOT NULL,
            unit TEXT NOT NULL,
            id TEXT NOT NULL,
            status TEXT NOT NULL,
            received_at BIGINT NOT NULL
        ) PARTITION BY RANGE (received_at);
        CREATE TABLE delivery_default PARTITION OF delivery DEFAULT;
        CREATE INDEX delivery_seq ON delivery (seq);
        CREATE TABLE unit_chain (
            unit TEXT PRIMARY KEY NOT NULL,
            seq BIGINT NOT NULL,
            hash TEXT NOT NULL,
            reported_at BIGINT NOT NULL
        );
        CREATE TABLE terminal_order (
            unit TEXT NOT NULL,
            sequence BIGINT NOT NULL,
            kind TEXT NOT NULL,
            issued_at BIGINT NOT NULL,
            expires_at BIGINT NOT NULL,
            envelope TEXT NOT NULL,
            PRIMARY KEY (unit, sequence)
        );
        CREATE TABLE dispatch (
            cursor BIGSERIAL PRIMARY KEY,
            id TEXT NOT NULL UNIQUE,
            unit TEXT NOT NULL,
            created_at TEXT NOT NULL,
            priority TEXT NOT NULL,
            summary TEXT NOT NULL,
            latitude DOUBLE PRECISION,
            longitude DOUBLE PRECISION,
            status TEXT NOT NULL DEFAULT 'queued',
            address TEXT,
            incident_type TEXT,
            callback_number TEXT,
            notes TEXT,
            reason TEXT,
            received_at TEXT,
            en_route_at TEXT,
            on_scene_at TEXT,
            cleared_at TEXT,
            distance_m DOUBLE PRECISION
        );
        CREATE INDEX dispatch_unit ON dispatch (unit, cursor);
        CREATE TABLE dispatch_event (
            cursor BIGSERIAL PRIMARY KEY,
            dispatch_id TEXT NOT NULL,
            unit TEXT NOT NULL,
            change TEXT NOT NULL,
            entry TEXT NOT NULL
        );
        CREATE INDEX dispatch_event_unit ON dispatch_event (unit, cursor);
        CREATE TABLE unit_state (
            unit TEXT PRIMARY KEY NOT NULL,
            latitude DOUBLE PRECISION,
            longitude DOUBLE PRECISION,
            position_at BIGINT,
            status TEXT,
            status_at TEXT,
            emergency_id TEXT
        );
        CREATE TABLE bulletin (
            serial BIGINT PRIMARY KEY,
            id TEXT NOT NULL UNIQUE,
            kind TEXT NOT NULL,
            region TEXT,
            summary TEXT NOT NULL,
            issued_at BIGINT NOT NULL,
            expires_at BIGINT NOT NULL,
            envelope TEXT NOT NULL
        );
        CREATE TABLE center_record (
            list TEXT NOT NULL,
            record_id TEXT NOT NULL,
            fields TEXT NOT NULL,
            active SMALLINT NOT NULL,
            version BIGINT NOT NULL,
            changed_at BIGINT NOT NULL,
            PRIMARY KEY (list, record_id)
        );
        CREATE TABLE confirmation (
            cursor BIGSERIAL PRIMARY KEY,
            unit TEXT NOT NULL,
            request_id TEXT NOT NULL,
            answer TEXT NOT NULL,
            UNIQUE (unit, request_id)
        );
        CREATE INDEX confirmation_unit ON confirmation (unit, cursor);
        \(unitHealth)
        """,
    ]

    static func migrate(_ backend: PostgresBackend) throws {
        try backend.write { db in
            // One center process migrates at a time.
            _ = try db.query("SELECT pg_advisory_xact_lock(7221001)")
            try db.execute("CREATE TABLE IF NOT EXISTS center_schema (version INTEGER NOT NULL)")
            let version = try db.queryOne("SELECT max(version) FROM center_schema")?.optionalInt(0) ?? 0
            for (index, sql) in postgres.enumerated() where index + 1 > version {
                for statement in statements(sql) { try db.execute(statement) }
                try db.execute("INSERT INTO center_schema (version) VALUES (?)", index + 1)
            }
        }
    }

    /// A script's statements (prepared one at a time): split at the `;` that end lines.
    static func statements(_ script: String) -> [String] {
        script.components(separatedBy: ";\n").map { $0.trimmingCharacters(in: .whitespacesAndNewlines) }
            .map { $0.hasSuffix(";") ? String($0.dropLast()) : $0 }
            .filter { !$0.isEmpty && !$0.split(separator: "\n").allSatisfy { $0.trimmingCharacters(in: .whitespaces).hasPrefix("--") } }
    }
}
