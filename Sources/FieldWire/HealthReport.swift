import Foundation

/// The agent's release (the package's version: the Makefile reads it from here).
public enum AgentVersion {
    public static let current = "0.5.0"
}

/// A terminal's health as the center's fleet view lists it (outbox kind `health`): sent once
/// a day and on `mpolicectl diag --upload`. Small on purpose: a national fleet sends 30,000
/// of these a day.
public struct HealthReport: Sendable, Equatable, Codable {
    /// What made the terminal send it.
    public enum Trigger: String, Sendable, Codable {
        case daily
        case diag
    }

    /// The last list sync: when it started, and how it ended (`updated`, `up-to-date`, or the
    /// failure's reason code).
    public struct LastSync: Sendable, Equatable, Codable {
        public var at: String
        public var outcome: String

        public init(at: String, outcome: String) { (self.at, self.outcome) = (at, outcome) }
    }

    /// Also the outbox item's id.
    public var reportId: String
    /// ISO 8601.
    public var at: String
    public var unitId: String
    public var trigger: Trigger
    public var agentVersion: String
    /// List name → version held (0: never received).
    public var lists: [String: Int64]
    /// The newest manifest applied.
    public var manifestSequence: Int64?
    public var lastSync: LastSync?
    /// The device certificate's expiry, ISO 8601 (nil when it cannot be read).
    public var certificateExpiresAt: String?
    /// Free bytes on the state directory's file system.
    public var freeDiskBytes: Int64?
    /// Items waiting in the outbox (this report not counted).
    public var outboxDepth: Int

    public init(reportId: String, at: String, unitId: String, trigger: Trigger, agentVersion: String = AgentVersion.current,
                lists: [String: Int64], manifestSequence: Int64?, lastSync: LastSync?, certificateExpiresAt: String?,
                freeDiskBytes: Int64?, outboxDepth: Int) {
        (self.reportId, self.at, self.unitId, self.trigger, self.agentVersion) = (reportId, at, unitId, trigger, agentVersion)
        (self.lists, self.manifestSequence, self.lastSync) = (lists, manifestSequence, lastSync)
        (self.certificateExpiresAt, self.freeDiskBytes, self.outboxDepth) = (certificateExpiresAt, freeDiskBytes, outboxDepth)
    }
}
