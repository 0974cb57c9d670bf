import FieldWire
import Watchlist

/// The events on `GET /v1/events` (Server-Sent Events): each an `event:` name and a JSON
/// object as `data:`.
public enum EventName: String, Sendable, CaseIterable {
    /// A sync applied new lists: `ListUpdatedEvent`.
    case listUpdated = "list-updated"
    /// A sync failed: `SyncFailedEvent`.
    case syncFailed = "sync-failed"
    /// The location status changed: `LocationState`.
    case gpsStateChanged = "gps-state-changed"
    /// A dispatch from the command center was stored (its receipt queued): `Dispatch`.
    case dispatchReceived = "dispatch-received"
    /// The center changed a dispatch's address, type, call-back number, notes, summary or priority: `Dispatch`.
    case dispatchUpdated = "dispatch-updated"
    /// The center cancelled a dispatch (status changes after it are refused): `Dispatch`.
    case dispatchCancelled = "dispatch-cancelled"
    /// The center gave a dispatch to another unit: `Dispatch`.
    case dispatchReassigned = "dispatch-reassigned"
    /// "Officer needs help" was raised (the button, or after a restart while it is active): `Emergency`.
    case emergencyActive = "emergency-active"
    /// The emergency was cancelled with the officer's PIN: `Emergency`.
    case emergencyCleared = "emergency-cleared"
    /// The session locked (idle past `session.idle_lock`): `SessionInfo`.
    case sessionLocked = "session-locked"
    /// The officer unlocked it with the PIN: `SessionInfo`.
    case sessionUnlocked = "session-unlocked"
    /// A lock order or a wipe locked the terminal: `TerminalLock`.
    case terminalLocked = "terminal-locked"
    /// An unlock order or a technician lifted the lock: `{}`.
    case terminalUnlocked = "terminal-unlocked"
    /// An order was refused: `OrderResult`.
    case orderRefused = "order-refused"
    /// The dead-man timer now refuses checks: `OfflineState`.
    case listsExpired = "lists-expired"
    /// A photo fetched for a hit is on the device (`GET /v1/photos/{sha256}`): `PhotoAvailableEvent`.
    case photoAvailable = "photo-available"
    /// An urgent bulletin was received; every check matches it from now on: `BulletinView`.
    case bulletin
    /// A bulletin reached its expiry and was dropped: `BulletinView`.
    case bulletinExpired = "bulletin-expired"
    /// A bulletin was refused (forged, wrong key, malformed, expired on arrival): `BulletinRefusedEvent`.
    case bulletinRefused = "bulletin-refused"
    /// The center answered a confirmation request: `HitConfirmation`.
    case hitConfirmation = "hit-confirmation"
    /// A confirmation request's deadline passed unanswered (confirm by radio): `HitConfirmation`.
    case hitConfirmationOverdue = "hit-confirmation-overdue"
}

/// A bulletin as the officer's screen shows it (events and `GET /v1/bulletins`).
public struct BulletinView: Codable, Sendable, Equatable {
    public var bulletinId: String
    /// `plate`, `person-id` or `person-name`.
    public var kind: String
    /// The plate, ID, or name and date of birth.
    public var subject: String
    public var summary: String
    public var region: String?
    /// ISO 8601.
    public var issuedAt: String
    /// ISO 8601.
    public var expiresAt: String

    public init(_ b: Bulletin) {
        bulletinId = b.id
        kind = b.subject.kind.rawValue
        subject = b.subject.shown
        summary = b.summary
        region = b.region
        issuedAt = Timestamp.iso8601(milliseconds: b.issuedAt * 1000)
        expiresAt = Timestamp.iso8601(milliseconds: b.expiresAt * 1000)
    }
}

public struct BulletinRefusedEvent: Codable, Sendable, Equatable {
    /// `bulletin.bad-signature`, `bulletin.wrong-role`, `bulletin.bad-format` or `bulletin.expired`.
    public var reason: String
    /// As the document claims it (unverified); nil when unreadable.
    public var bulletinId: String?

    public init(reason: String, bulletinId: String?) { (self.reason, self.bulletinId) = (reason, bulletinId) }
}

public struct PhotoAvailableEvent: Codable, Sendable, Equatable {
    public var sha256: String
    /// `face`, `full-body`, `tattoo`, `scar` or `other`.
    public var kind: String
    public var bytes: Int

    public init(sha256: String, kind: String, bytes: Int) {
        (self.sha256, self.kind, self.bytes) = (sha256, kind, bytes)
    }
}

public struct ListUpdatedEvent: Codable, Sendable, Equatable {
    public var manifestSequence: Int64?
    /// List name → `snapshot`, `deltas` or `unchanged`.
    public var methods: [String: String]

    public init(manifestSequence: Int64?, methods: [String: String]) {
        self.manifestSequence = manifestSequence
        self.methods = methods
    }
}

public struct SyncFailedEvent: Codable, Sendable, Equatable {
    /// The sync's reason code (docs/sync-protocol.md), or `local`.
    public var reason: String
    public var message: String

    public init(reason: String, message: String) {
        self.reason = reason
        self.message = message
    }
}
