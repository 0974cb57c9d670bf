import Watchlist

/// Why a sync step refused what it received. The codes are stable: they are stored with
/// the last sync attempt, shown by status and diagnostics, and documented in
/// docs/sync-protocol.md.
public typealias SyncFailure = CodedError<SyncFailureReason>

extension CodedError where Code == SyncFailureReason {
    public typealias Reason = SyncFailureReason
    /// The stable code: what failed, for a sync.
    public var reason: SyncFailureReason { code }
}

public enum SyncFailureReason: String, Sendable, Codable, CaseIterable {
    /// No valid signature by enough trusted keys.
    case badSignature = "bad-signature"
    /// A sequence (manifest) or version (root) lower than one already trusted.
    case rollback
    /// Past its expiry, judged against the later of the clock and the last trusted time.
    case expired
    /// A file whose SHA-256 differs from the manifest's.
    case hashMismatch = "hash-mismatch"
    /// A file longer than the manifest says.
    case tooLarge = "too-large"
    /// A file shorter than the manifest says.
    case truncated
    /// Not the expected structure (JSON, CSV, fields, sizes).
    case badFormat = "bad-format"
    /// A delta whose base is not the version the terminal holds.
    case baseMismatch = "base-mismatch"
    /// After apply, a list's record count or content digest differs from the manifest's.
    case digestMismatch = "digest-mismatch"
    /// The server completed TLS but refused the device certificate (nginx: HTTP 400/495/496).
    case clientCertificateRefused = "client-cert-refused"
    /// The center answered but refused the request itself (HTTP 4xx other than the
    /// certificate's): a wrong unit, a wrong URL, a malformed batch.
    case refused
    case network
    case tls
    /// The transfer was ended by the terminal itself: shutting down.
    case cancelled
    /// The trust root the terminal was provisioned with cannot be read, or is not a
    /// valid self-signed root.
    case trustRoot = "trust-root"
    /// A lock order or a wipe holds the terminal: orders are fetched, lists are not.
    case locked = "terminal-locked"
}

