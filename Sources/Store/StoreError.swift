import Watchlist

/// Failures of the store, with stable codes for the CLI and the local API.
public typealias StoreError = CodedError<StoreErrorCode>

public enum StoreErrorCode: String, Sendable, Codable, CaseIterable {
    /// The state directory or a database file is missing.
    case notFound = "store.not-found"
    /// A database file could not be opened or is not a database.
    case unreadable = "store.unreadable"
    /// A data set file is malformed; `message` names the file, line and field.
    case badDataset = "store.bad-dataset"
    /// A list update's delta does not start at the version the terminal holds.
    case baseMismatch = "store.base-mismatch"
    /// After an update, a list's record count or content digest differs from its target.
    case digestMismatch = "store.digest-mismatch"
    /// Another process holds the lists writer lock (a sync or load is running).
    case busy = "store.busy"
    /// SQLite refused a read or write (I/O error, corruption).
    case database = "store.database"
    /// The lists cannot be read (missing, unreadable or corrupt); the message says why.
    /// Checks are refused until a sync replaces them.
    case unavailable = "lists.unavailable"
    /// No manifest verified for longer than `security.max_offline` (the dead-man timer):
    /// checks are refused until a sync verifies one.
    case expired = "lists.expired"
    /// A lock order (or a wipe) holds the terminal: only status, orders and a technician's
    /// unlock are served.
    case locked = "terminal.locked"
    /// The disk is full: nothing could be written (nothing already written is lost).
    case full = "storage.full"
}

