import Foundation
import GRDB

/// What this terminal remembers of an officer's sign-in attempts: failures since the last
/// success (a restart does not forgive them), the lockout they led to, and the last TOTP
/// step accepted (a code is good once).
public struct OfficerAuthState: Sendable, Equatable {
    public var failures: Int
    /// Unix seconds until which sign-in is refused; nil when not locked out.
    public var lockedUntil: Int64?
    public var lastOTPStep: Int64?

    public init(failures: Int = 0, lockedUntil: Int64? = nil, lastOTPStep: Int64? = nil) {
        (self.failures, self.lockedUntil, self.lastOTPStep) = (failures, lockedUntil, lastOTPStep)
    }
}

extension JournalStore {
    static func registerOfficerAuth(_ migrator: inout DatabaseMigrator) {
        migrator.registerMigration("v8-officer-auth") { db in
            try db.execute(sql: """
                CREATE TABLE officer_auth (
                    officer_id TEXT PRIMARY KEY NOT NULL,
                    failures INTEGER NOT NULL DEFAULT 0,
                    locked_until INTEGER,
                    last_otp_step INTEGER
                );
                """)
        }
    }

    public func officerAuthState(_ officerId: String) throws -> OfficerAuthState {
        try read { db in
            try Row.fetchOne(db, sql: "SELECT failures, locked_until, last_otp_step FROM officer_auth WHERE officer_id = ?",
                             arguments: [officerId]).map { OfficerAuthState(failures: $0[0], lockedUntil: $0[1], lastOTPStep: $0[2]) }
                ?? OfficerAuthState()
        }
    }

    /// Counts a failed attempt at `now`. The `maxFailures`th locks the officer out until
    /// `now + lockoutSeconds` and starts the count again.
    /// - Returns: the state after the failure.
    @discardableResult
    public func recordFailedSignIn(_ officerId: String, now: Int64, maxFailures: Int, lockoutSeconds: Int64) throws -> OfficerAuthState {
        try write { db in
            try db.execute(sql: """
                INSERT INTO officer_auth (officer_id, failures) VALUES (?1, 1)
                ON CONFLICT (officer_id) DO UPDATE SET failures = failures + 1
                """, arguments: [officerId])
            try db.execute(sql: """
                UPDATE officer_auth SET failures = 0, locked_until = ?2 WHERE officer_id = ?1 AND failures >= ?3
                """, arguments: [officerId, now + lockoutSeconds, maxFailures])
            return try Row.fetchOne(db, sql: "SELECT failures, locked_until, last_otp_step FROM officer_auth WHERE officer_id = ?",
                                    arguments: [officerId]).map { OfficerAuthState(failures: $0[0], lockedUntil: $0[1], lastOTPStep: $0[2]) }!
        }
    }

    /// A successful sign-in or unlock: the failures are forgiven, and the TOTP step used (if
    /// any) becomes the floor below which no code is accepted again.
    public func recordSignIn(_ officerId: String, otpStep: Int64?) throws {
        try write { db in
            try db.execute(sql: """
                INSERT INTO officer_auth (officer_id, failures, locked_until, last_otp_step) VALUES (?1, 0, NULL, ?2)
                ON CONFLICT (officer_id) DO UPDATE SET failures = 0, locked_until = NULL,
                    last_otp_step = coalesce(max(excluded.last_otp_step, last_otp_step), last_otp_step, excluded.last_otp_step)
                """, arguments: [officerId, otpStep])
        }
    }

    /// Lifts a lockout (a technician, as root, through `mpolicectl unlock-officer`).
    public func clearLockout(_ officerId: String) throws {
        try write { db in
            try db.execute(sql: "UPDATE officer_auth SET failures = 0, locked_until = NULL WHERE officer_id = ?", arguments: [officerId])
        }
    }
}
