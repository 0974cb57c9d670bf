import Foundation
import LocalAPIContract
import Synchronization
import Watchlist

/// Who is signed in on the terminal. Checks need a signed-in officer; the officer id goes
/// into every check record.
public final class OfficerSession: Sendable {
    public let unitId: String
    private let current = Mutex<SessionInfo?>(nil)

    public init(unitId: String) {
        self.unitId = unitId
    }

    public var signedIn: SessionInfo? { current.withLock { $0 } }

    /// Signs `officerId` in (replacing whoever was).
    /// - Throws: `InputError` for an id `CheckContext` refuses.
    public func signIn(_ officerId: String, at seconds: Int64) throws -> SessionInfo {
        let context = try CheckContext(officerId: officerId, unitId: unitId)
        let session = SessionInfo(officerId: context.officerId, unitId: unitId, since: Timestamp.iso8601(seconds: seconds))
        current.withLock { $0 = session }
        return session
    }

    public func signOut() {
        current.withLock { $0 = nil }
    }

    /// The context for a check, or nil when nobody is signed in.
    public func context() throws -> CheckContext? {
        guard let session = signedIn else { return nil }
        return try CheckContext(officerId: session.officerId, unitId: session.unitId)
    }
}
