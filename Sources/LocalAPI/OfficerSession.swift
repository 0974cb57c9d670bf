import Dispatch
import FieldWire
import Foundation
import LocalAPIContract
import Store
import Synchronization
import Watchlist

/// Who is signed in on the terminal, and how they proved it. Sign-in verifies the officer
/// offline against the signed roster: PIN (scrypt verifier), then the TOTP code when the
/// roster gives the officer one; five failures lock the officer out on this terminal for
/// `lockout`. An idle session locks itself; checks then answer `session.locked` until the PIN
/// is entered again. Every check re-reads the officer's roster record, so a suspension that
/// arrives by delta refuses the very next check.
public final class OfficerSession: Sendable {
    public struct Policy: Sendable, Equatable {
        /// A session without a check or another action for this long locks (≤ 30 min).
        public var idleLock: Duration
        /// How long an officer is refused after `maxFailures` failed attempts (≥ 10 min).
        public var lockout: Duration
        public var maxFailures: Int

        public init(idleLock: Duration = .seconds(600), lockout: Duration = .seconds(900), maxFailures: Int = 5) {
            (self.idleLock, self.lockout, self.maxFailures) = (idleLock, lockout, maxFailures)
        }
    }

    /// Who may act without the current officer's PIN (root on the terminal: a technician).
    public enum Actor: Sendable {
        case client
        case technician

        /// As audit records name it: the officer's PIN, or a technician.
        var authentication: String { self == .technician ? Authentication.technician.rawValue : Authentication.pin.rawValue }
    }

    public let unitId: String
    private let lists: ListsStore
    private let journal: JournalStore
    private let clock: any TerminalClock
    public let policy: Policy
    private let active = Mutex<Active?>(nil)
    /// One key derivation at a time, off the server's threads: a burst of sign-in attempts
    /// queues here instead of taking every core.
    private let derivations = DispatchQueue(label: "mpolice.session.kdf")

    private struct Active {
        var info: SessionInfo
        /// Monotonic milliseconds of the last action.
        var lastActivity: Int64
    }

    /// What happened to the session, for the event stream.
    public enum Change: Sendable {
        case locked
        case unlocked
    }

    private let onChange: @Sendable (Change, SessionInfo) -> Void

    public init(unitId: String, lists: ListsStore, journal: JournalStore, clock: any TerminalClock = SystemClock(), policy: Policy = Policy(),
                onChange: @escaping @Sendable (Change, SessionInfo) -> Void = { _, _ in }) {
        (self.unitId, self.lists, self.journal, self.clock, self.policy, self.onChange) = (unitId, lists, journal, clock, policy, onChange)
    }

    /// The session as it stands (locked or not); nil when nobody is signed in.
    public var current: SessionInfo? {
        _ = lockIfIdle()
        return active.withLock { $0?.info }
    }

    // MARK: Sign-in, unlock, sign-out

    /// Verifies `officerId` with `pin` (and `otp`) and makes them the signed-in officer.
    /// Replacing another officer needs that officer's PIN (`currentPin`) or a technician.
    /// - Throws: `InputError` for a malformed id or PIN; `SessionError` with the reason.
    public func signIn(_ officerId: String, pin: String, otp: String?, currentPin: String?, by actor: Actor) async throws -> SessionInfo {
        _ = try CheckContext(officerId: officerId, unitId: unitId)
        try PIN.validate(pin)
        // Whoever is replaced is signed out by their own PIN, or by a technician.
        var replaced: (officerId: String, by: Actor)?
        if let holder = active.withLock({ $0?.info }), holder.officerId != officerId {
            if case .client = actor {
                guard let currentPin else {
                    throw SessionError(.inUse, "officer \(holder.officerId) is signed in: their PIN (currentPin) is needed to replace them")
                }
                _ = try await verified(holder.officerId, pin: currentPin, otp: nil, secondFactor: false)
            }
            replaced = (holder.officerId, actor)
        }
        let (officer, authentication) = try await verified(officerId, pin: pin, otp: otp, secondFactor: true)
        do {
            try admit(officer)
        } catch let error as SessionError {
            audit(.signInFailed, officerId, reason: error.code.rawValue)
            throw error
        }
        // Recorded before the officer may act: a sign-in the journal cannot keep does not happen.
        if let replaced { audit(.signOut, replaced.officerId, authentication: replaced.by.authentication) }
        try journal.recordAudit(event(.signIn, officerId, authentication: authentication.rawValue), now: clock.nowMilliseconds)
        let info = SessionInfo(officerId: officerId, name: officer.name, unitId: unitId, since: Timestamp.iso8601(seconds: clock.nowSeconds),
                               authentication: authentication.rawValue, locked: false,
                               idleLockSeconds: Int(policy.idleLock.components.seconds))
        active.withLock { $0 = Active(info: info, lastActivity: clock.monotonicMilliseconds) }
        return info
    }

    /// Unlocks the session with the signed-in officer's PIN (a technician needs none).
    public func unlock(pin: String?, by actor: Actor) async throws -> SessionInfo {
        if let pin { try PIN.validate(pin) }
        guard let holder = active.withLock({ $0?.info }) else { throw SessionError(.none, "no officer is signed in") }
        if case .client = actor {
            guard let pin else { throw SessionError(.pinRequired, "unlocking needs the officer's PIN") }
            do {
                _ = try await verified(holder.officerId, pin: pin, otp: nil, secondFactor: false)
            } catch let error as LockoutError {
                // Locked out while signed in: the session ends too.
                active.withLock { $0 = nil }
                throw error
            }
        }
        let (info, wasLocked) = active.withLock { slot -> (SessionInfo, Bool) in
            let wasLocked = slot?.info.locked ?? false
            slot?.info.locked = false
            slot?.lastActivity = clock.monotonicMilliseconds
            return (slot?.info ?? holder, wasLocked)
        }
        if wasLocked {
            audit(.unlocked, holder.officerId, authentication: actor.authentication)
            onChange(.unlocked, info)
        }
        return info
    }

    /// Who confirms an act that needs the signed-in officer's PIN (cancelling an emergency):
    /// the officer, with the PIN verified (a failure counts toward the lockout), or a
    /// technician. The session's idle lock does not stand in the way: the PIN is the proof.
    /// - Returns: the officer's id, or `technician`.
    /// - Throws: `SessionError` (`session.pin-required`, `session.bad-credentials`, …);
    ///   `session.none` when a client asks with nobody signed in.
    public func confirm(pin: String?, by actor: Actor) async throws -> String {
        if let pin { try PIN.validate(pin) }
        let holder = active.withLock { $0?.info }
        guard case .client = actor else { return holder?.officerId ?? "technician" }
        guard let holder else { throw SessionError(.none, "no officer is signed in: a technician (root) can do this") }
        guard let pin else { throw SessionError(.pinRequired, "this needs the officer's PIN") }
        _ = try await verified(holder.officerId, pin: pin, otp: nil, secondFactor: false)
        return holder.officerId
    }

    /// Ends the session: the officer's PIN, or a technician. Nobody signed in is not an error.
    public func signOut(pin: String?, by actor: Actor) async throws {
        if let pin { try PIN.validate(pin) }
        guard let holder = active.withLock({ $0?.info }) else { return }
        if case .client = actor {
            guard let pin else { throw SessionError(.pinRequired, "signing out needs the officer's PIN") }
            _ = try await verified(holder.officerId, pin: pin, otp: nil, secondFactor: false)
        }
        active.withLock { slot in
            if slot?.info.officerId == holder.officerId { slot = nil }
        }
        audit(.signOut, holder.officerId, authentication: actor.authentication)
    }

    // MARK: Checks

    /// The context for a check by the signed-in officer, after the idle lock and the roster.
    /// - Throws: `SessionError`: `session.none`, `session.locked`, or — the roster changed
    ///   since sign-in — `session.suspended` / `session.wrong-unit` (the session ends).
    public func context() throws -> CheckContext {
        _ = lockIfIdle()
        guard let holder = active.withLock({ $0?.info }) else {
            throw SessionError(.none, "no officer is signed in (POST /v1/session; mpolicectl signin)")
        }
        guard !holder.locked else { throw SessionError(.locked, "the session is locked: enter the PIN (POST /v1/session/unlock)") }
        // Unreadable lists: the officer stays as verified at sign-in (dispatches and status
        // carry on; the check itself then answers lists.unavailable).
        let roster: ListLookup<RosterOfficer>?
        do { roster = try lists.officer(holder.officerId) } catch is StoreError { roster = nil }
        if let roster, roster.meta.version > 0, let officer = roster.records.first {
            do {
                try admit(officer)
            } catch {
                active.withLock { $0 = nil }
                throw error
            }
        } else if let roster, roster.meta.version > 0 {
            active.withLock { $0 = nil }
            throw SessionError(.badCredentials, "officer \(holder.officerId) is no longer in the roster")
        }
        active.withLock { $0?.lastActivity = clock.monotonicMilliseconds }
        return try CheckContext(officerId: holder.officerId, unitId: unitId,
                                authentication: Authentication(rawValue: holder.authentication) ?? .pin)
    }

    /// How long, as things stand, until the session locks for being idle; nil when nobody is
    /// signed in or it is locked already. Activity only moves the moment later.
    public func untilIdleLock() -> Duration? {
        let now = clock.monotonicMilliseconds
        let limit = Int64(policy.idleLock.components.seconds) * 1000
        return active.withLock { slot -> Duration? in
            guard let session = slot, !session.info.locked else { return nil }
            return .milliseconds(max(0, session.lastActivity + limit - now))
        }
    }

    /// Locks the session when it has been idle for `idleLock` (`onChange(.locked)`).
    /// - Returns: whether this call locked it.
    @discardableResult
    public func lockIfIdle() -> Bool {
        let now = clock.monotonicMilliseconds
        let limit = Int64(policy.idleLock.components.seconds) * 1000
        let locked = active.withLock { slot -> SessionInfo? in
            guard var session = slot, !session.info.locked, now - session.lastActivity >= limit else { return nil }
            session.info.locked = true
            slot = session
            return session.info
        }
        if let locked {
            audit(.locked, locked.officerId)
            onChange(.locked, locked)
        }
        return locked != nil
    }

    // MARK: Verification

    /// Checks the lockout, the roster and the credentials; counts a failure.
    private func verified(_ officerId: String, pin: String, otp: String?, secondFactor: Bool) async throws -> (RosterOfficer, Authentication) {
        let now = clock.nowSeconds
        let state = try journal.officerAuthState(officerId)
        if let until = state.lockedUntil, until > now {
            throw lockedOut(until: until, now: now)
        }
        let roster = try lists.officer(officerId)
        guard roster.meta.version > 0 else {
            throw SessionError(.noRoster, "no officer roster has been received yet: the terminal needs a sync before anyone can sign in")
        }
        let officer = roster.records.first
        if secondFactor, officer?.secondFactor != nil, otp == nil {
            throw SessionError(.otpRequired, "this officer signs in with a one-time code as well (otp)")
        }
        // An unknown officer costs the same derivation as a known one: the time taken does
        // not tell who is in the roster.
        let verifier = officer.flatMap { try? PINVerifier(parsing: $0.pinVerifier) } ?? Self.decoy
        let key = await derive { verifier.verify(pin: pin) }
        guard let officer, let key else {
            try failure(officerId, now: now, SessionError(.badCredentials, "unknown officer or wrong PIN"))
        }
        var otpStep: Int64?
        if secondFactor, let sealed = officer.secondFactor {
            let secret: [UInt8]
            do {
                secret = try SealedTOTPSecret.open(sealed, officerId: officerId, key: key)
            } catch {
                throw SessionError(.badOTP, "the officer's second factor in the roster does not open: the center must reissue it")
            }
            guard let step = TOTP.matchingStep(otp ?? "", secret: secret, at: now), step > (state.lastOTPStep ?? .min) else {
                try failure(officerId, now: now, SessionError(.badOTP, "wrong, expired or already used one-time code"))
            }
            otpStep = step
        }
        try journal.recordSignIn(officerId, otpStep: otpStep)
        return (officer, otpStep == nil ? .pin : .pinAndOTP)
    }

    private func failure(_ officerId: String, now: Int64, _ error: SessionError) throws -> Never {
        let after = try journal.recordFailedSignIn(officerId, now: now, maxFailures: policy.maxFailures,
                                                   lockoutSeconds: policy.lockout.components.seconds)
        audit(.signInFailed, officerId, reason: error.code.rawValue)
        if let until = after.lockedUntil, until > now {
            audit(.lockedOut, officerId)
            throw lockedOut(until: until, now: now)
        }
        throw error
    }

    // MARK: Audit

    private func event(_ kind: AuditEventPayload.Event, _ officerId: String, authentication: String? = nil,
                       reason: String? = nil) -> AuditEventPayload {
        let now = clock.nowMilliseconds
        return AuditEventPayload(eventId: UUIDv7.make(milliseconds: now), at: Timestamp.iso8601(milliseconds: now), officerId: officerId,
                                 unitId: unitId, event: kind, authentication: authentication, reason: reason)
    }

    /// Records a session event in the journal's chain. A refusal is refused whether or not
    /// its record could be written (a full disk is reported by health already).
    private func audit(_ kind: AuditEventPayload.Event, _ officerId: String, authentication: String? = nil, reason: String? = nil) {
        try? journal.recordAudit(event(kind, officerId, authentication: authentication, reason: reason), now: clock.nowMilliseconds)
    }

    private func lockedOut(until: Int64, now: Int64) -> LockoutError {
        LockoutError(seconds: Int(until - now))
    }

    /// The roster's standing of an officer whose credentials were verified.
    private func admit(_ officer: RosterOfficer) throws {
        guard officer.status == .active else {
            throw SessionError(.suspended, "officer \(officer.officerId) is suspended: \(officer.statusReason)")
        }
        guard officer.units.contains(unitId) else {
            throw SessionError(.wrongUnit, "officer \(officer.officerId) is not allowed on unit \(unitId)")
        }
    }

    private func derive(_ body: @escaping @Sendable () -> PINVerifier.SealingKey?) async -> PINVerifier.SealingKey? {
        await withCheckedContinuation { continuation in
            derivations.async { continuation.resume(returning: body()) }
        }
    }

    /// Verifies nothing (no PIN derives its hash): the work done for an unknown officer.
    private static let decoy = try! PINVerifier(parsing: "scrypt$\(PINVerifier.Cost.standard.logN)$\(PINVerifier.Cost.standard.r)$\(PINVerifier.Cost.standard.p)$AAAAAAAAAAAAAAAAAAAAAA==$AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA=")
}

/// Too many failed attempts: the officer is refused for `seconds` more (`session.locked-out`,
/// 429 with Retry-After).
public struct LockoutError: Error, Sendable, CustomStringConvertible {
    public let seconds: Int
    public var message: String { "too many failed attempts: sign-in refused for \(seconds) s more" }
    public var description: String { "\(message) [\(SessionErrorCode.lockedOut.rawValue)]" }
}
