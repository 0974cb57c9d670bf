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

public enum DispatchErrorCode: String, Sendable {
    /// No such dispatch on this terminal.
    case unknown = "dispatch.unknown"
    /// Not the next step (or backwards, or the same status again).
    case invalidTransition = "dispatch.invalid-transition"
    /// `cleared` without a disposition, or a disposition on another status.
    case disposition = "dispatch.disposition"
}
