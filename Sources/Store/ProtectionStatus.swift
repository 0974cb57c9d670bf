import Watchlist

/// The dead-man timer's reading (docs/operations.md, "A lost terminal"): how long the
/// terminal has gone without a verified manifest, judged by time that a clock set back
/// cannot undo, and what follows when.
public struct OfflineState: Codable, Sendable, Equatable {
    public var offlineSeconds: Int64
    /// `security.max_offline` (nil: off).
    public var maxOfflineSeconds: Int64?
    /// `security.wipe_after_offline` (nil: off).
    public var wipeAfterOfflineSeconds: Int64?
    /// Past `max_offline`: checks are refused (`lists.expired`).
    public var refusing: Bool
    /// Seconds until checks are refused (0 while refusing; nil when off).
    public var refusalInSeconds: Int64?
    /// Seconds until the lists are wiped (0 when due; nil when off).
    public var wipeInSeconds: Int64?

    public init(offlineSeconds: Int64, maxOfflineSeconds: Int64?, wipeAfterOfflineSeconds: Int64?) {
        self.offlineSeconds = offlineSeconds
        self.maxOfflineSeconds = maxOfflineSeconds
        self.wipeAfterOfflineSeconds = wipeAfterOfflineSeconds
        refusing = maxOfflineSeconds.map { offlineSeconds >= $0 } ?? false
        refusalInSeconds = maxOfflineSeconds.map { max(0, $0 - offlineSeconds) }
        wipeInSeconds = wipeAfterOfflineSeconds.map { max(0, $0 - offlineSeconds) }
    }

    /// Past `wipe_after_offline`.
    public var wipeDue: Bool { wipeInSeconds == 0 }

    /// Said in every answer once a quarter of `max_offline` has gone by, and while refusing.
    public var notice: Notice? {
        guard let max = maxOfflineSeconds, offlineSeconds * 4 >= max else { return nil }
        if refusing { return Notice("terminal.offline-refusing", ["offline": String(offlineSeconds), "max": String(max)]) }
        return Notice("terminal.offline-warning", ["offline": String(offlineSeconds), "remaining": String(refusalInSeconds ?? 0)])
    }

    /// `notice` in English, for status, logs and the refusal's detail.
    public var warning: String? { notice.map { MessageCatalogue.text($0, in: .english) } }
}

/// The lost-terminal protections as status shows them.
public struct ProtectionStatus: Codable, Sendable, Equatable {
    /// Set while the terminal is locked by an order or a wipe.
    public var lock: TerminalLock?
    /// The highest order sequence executed (0: none).
    public var lastOrderSequence: Int64
    /// nil when the dead-man timer is off (no sync configured).
    public var offline: OfflineState?
    /// A completed `wipe-all` (the terminal must be re-provisioned).
    public var wiped: WipedRecord?

    public init(lock: TerminalLock?, lastOrderSequence: Int64, offline: OfflineState?, wiped: WipedRecord?) {
        (self.lock, self.lastOrderSequence, self.offline, self.wiped) = (lock, lastOrderSequence, offline, wiped)
    }
}
