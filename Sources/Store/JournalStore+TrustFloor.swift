import Foundation
import GRDB

/// What the terminal has trusted from the center, kept in journal.db as well as lists.db: the
/// rollback floor (the highest manifest sequence applied), the freeze reference (the latest
/// issue time) and the newest root. lists.db can be lost — it is re-fetchable — but losing
/// the floor with it would let a replayed old manifest through; journal.db is never given
/// up. Written after each applied manifest; a sync trusts the higher of the two copies.
public struct TrustFloor: Sendable, Equatable {
    public var manifestSequence: Int64
    /// Unix seconds: the latest `issuedAt` of an applied manifest.
    public var trustedTime: Int64
    /// The newest root trusted, as its signed envelope.
    public var root: Data

    public init(manifestSequence: Int64, trustedTime: Int64, root: Data) {
        (self.manifestSequence, self.trustedTime, self.root) = (manifestSequence, trustedTime, root)
    }
}

extension JournalStore {
    static func registerTrustFloor(_ migrator: inout DatabaseMigrator) {
        migrator.registerMigration("v6-trust-floor") { db in
            try db.execute(sql: """
                CREATE TABLE trust_floor (
                    id INTEGER PRIMARY KEY CHECK (id = 1),
                    manifest_sequence INTEGER NOT NULL,
                    trusted_time INTEGER NOT NULL,
                    root BLOB NOT NULL
                );
                """)
        }
    }

    /// Raises the floor to `floor` (never lowers it: a root rotation that resets the sequence
    /// writes through `resetTrustFloor`).
    public func raiseTrustFloor(_ floor: TrustFloor) throws {
        try write { db in
            try db.execute(sql: """
                INSERT INTO trust_floor (id, manifest_sequence, trusted_time, root) VALUES (1, ?, ?, ?)
                ON CONFLICT (id) DO UPDATE SET
                    manifest_sequence = max(manifest_sequence, excluded.manifest_sequence),
                    trusted_time = max(trusted_time, excluded.trusted_time),
                    root = excluded.root
                """, arguments: [floor.manifestSequence, floor.trustedTime, floor.root])
        }
    }

    /// Sets the floor as it is, lower sequence included: a new root, signed by the old root's
    /// keys, reset it (docs/sync-protocol.md, "Root of trust").
    public func resetTrustFloor(_ floor: TrustFloor) throws {
        try write { db in
            try db.execute(sql: "INSERT OR REPLACE INTO trust_floor (id, manifest_sequence, trusted_time, root) VALUES (1, ?, ?, ?)",
                           arguments: [floor.manifestSequence, floor.trustedTime, floor.root])
        }
    }

    /// The floor, or nil on a terminal that never applied a manifest.
    public func trustFloor() throws -> TrustFloor? {
        try read { db in
            try Row.fetchOne(db, sql: "SELECT manifest_sequence, trusted_time, root FROM trust_floor WHERE id = 1").map {
                TrustFloor(manifestSequence: $0[0], trustedTime: $0[1], root: $0[2])
            }
        }
    }
}
