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
    public var warning: String? {
        guard let max = maxOfflineSeconds, offlineSeconds * 4 >= max else { return nil }
        let since = "no verified list update for \(Self.span(offlineSeconds))"
        if refusing { return "\(since): checks are refused (security.max_offline \(Self.span(max)))" }
        return "\(since): checks will be refused in \(Self.span(refusalInSeconds ?? 0)) unless the terminal reaches the center"
    }

    /// "3 d 4 h", "5 h 12 min", "40 s".
    public static func span(_ seconds: Int64) -> String {
        switch seconds {
        case 86_400...: "\(seconds / 86_400) d \(seconds % 86_400 / 3_600) h"
        case 3_600...: "\(seconds / 3_600) h \(seconds % 3_600 / 60) min"
        case 60...: "\(seconds / 60) min"
        default: "\(max(0, seconds)) s"
        }
    }
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
