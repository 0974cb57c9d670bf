/// A failure with a stable code — printed by the CLI with `--json`, mapped to the local
/// API's wire code, stored with a sync attempt — and a message for people. Each layer names
/// its own codes (`StoreError`, `SyncFailure`, `LocationError`, `DispatchError`); this is
/// their one shape.
public struct CodedError<Code: RawRepresentable & Sendable & Equatable>: Error, Sendable, Equatable, CustomStringConvertible
where Code.RawValue == String {
    public var code: Code
    public var message: String

    public init(_ code: Code, _ message: String) {
        self.code = code
        self.message = message
    }

    public var description: String { "\(message) [\(code.rawValue)]" }
}

/// Refusals of a dispatch status change, with stable codes for the API and the CLI.
public typealias DispatchError = CodedError<DispatchErrorCode>

public enum DispatchErrorCode: String, Sendable, CaseIterable {
    /// No such dispatch on this terminal.
    case unknown = "dispatch.unknown"
    /// Not the next step (or backwards, or the same status again).
    case invalidTransition = "dispatch.invalid-transition"
    /// `cleared` without a disposition, or a disposition on another status.
    case disposition = "dispatch.disposition"
    /// The center cancelled the dispatch.
    case cancelled = "dispatch.cancelled"
    /// The center gave the dispatch to another unit.
    case reassigned = "dispatch.reassigned"
}

/// Refusals of the officer session, with stable codes for the API and the CLI.
public typealias SessionError = CodedError<SessionErrorCode>

public enum SessionErrorCode: String, Sendable, CaseIterable {
    /// No officer is signed in.
    case none = "session.none"
    /// Unknown officer or wrong PIN (one code: the answer does not say which).
    case badCredentials = "session.bad-credentials"
    /// The officer has a second factor: give `otp` with the PIN.
    case otpRequired = "session.otp-required"
    /// Wrong, expired or already used one-time code.
    case badOTP = "session.bad-otp"
    /// Too many failures: sign-in refused until the lockout ends (Retry-After).
    case lockedOut = "session.locked-out"
    /// The roster says the officer is suspended.
    case suspended = "session.suspended"
    /// The roster does not allow the officer on this terminal's unit.
    case wrongUnit = "session.wrong-unit"
    /// No roster has been received: nobody can be verified yet.
    case noRoster = "session.no-roster"
    /// The session is locked (idle, or by the officer): unlock with the PIN.
    case locked = "session.locked"
    /// Another officer is signed in: their PIN (`currentPin`) or a technician (root) is needed.
    case inUse = "session.in-use"
    /// Signing out or replacing the officer needs the current officer's PIN.
    case pinRequired = "session.pin-required"
}

/// How the officer behind a record proved who they are.
public enum Authentication: String, Sendable, Codable {
    case pin
    case pinAndOTP = "pin+otp"
    /// Root on the terminal (the offline CLI, or a technician through the API): no officer
    /// credentials were checked.
    case technician
}
