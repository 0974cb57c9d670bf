import Foundation

/// Everything `mpoliced` is configured with, parsed in this one place from the file
/// (default `/etc/mpolice/mpoliced.conf`); each subsystem gets its slice. Every key and its
/// default is documented in docs/configuration.md — keep the two in step.
public struct AgentConfiguration: Sendable {
    public struct Terminal: Sendable {
        /// The unit this terminal belongs to (goes into every check record).
        public var unit: String
        public var stateDirectory: String
        /// The unit's region, as the center's bulletins name it: bulletins for another region
        /// are neither pushed to this terminal nor matched on it. Nil: every region's.
        public var region: String?
    }

    public struct API: Sendable {
        public static let defaultSocket = "/run/mpolice/api.sock"

        public var socket: String
        /// Octal permission bits of the socket file.
        public var socketMode: UInt16
        /// Group owning the socket file (the front-end's group).
        public var socketGroup: String?
        /// Peers allowed by user name or uid (besides root and the daemon's own user).
        public var allowedUsers: [String]
        /// Peers allowed by primary or supplementary group name or gid.
        public var allowedGroups: [String]
        public var maxBodyBytes: Int
        /// Open connections of all peers together, and of one user.
        public var maxConnections: Int
        public var maxConnectionsPerPeer: Int
        /// Seconds after which a connection with no request under way is closed.
        public var idleTimeout: Double
        /// Seconds with no request after which the daemon hands memory back; 0: never.
        public var trimAfter: Int
    }

    public struct Sync: Sendable {
        /// The published list directory; nil disables sync.
        public var central: String?
        public var ca: String
        public var certificate: String
        public var key: String
        public var trustRoot: String
        public var pin: String?
        public var policy: RetryPolicy
        public var connectTimeout: Double
        public var timeout: Double

        public static let defaultCA = "/etc/mpolice/ca.crt"
        public static let defaultCertificate = "/etc/mpolice/device.crt"
        public static let defaultKey = "/etc/mpolice/device.key"
        public static let defaultTrustRoot = "/etc/mpolice/root.json"
        public static let defaultConnectTimeout: Double = 10
        public static let defaultTimeout: Double = 600
    }

    /// Items to the center and dispatches from it; the TLS credentials are the sync's.
    public struct Uplink: Sendable {
        /// The center's uplink endpoint; nil disables uploads and dispatch.
        public var central: String?
        public var batchItems: Int
        public var batchBytes: Int
        public var dispatchWait: Double
        /// `interval`: the idle re-check for items whose retry time has come; retries as configured.
        public var policy: RetryPolicy
        public var limits: OutboxLimits
    }

    public struct GPS: Sendable {
        /// gpsd's address; nil disables location.
        public var gpsd: GPSSettings?
    }

    /// What journal.db keeps of what the center already has.
    public struct Journal: Sendable {
        /// Days acknowledged check records and cleared dispatches are kept.
        public var retentionDays: Int
        /// Rejected outbox items kept for the helpdesk.
        public var maxRejected: Int
    }

    /// The lists' housekeeping.
    public struct Lists: Sendable {
        /// Seconds between integrity checks of lists.db (the first runs at start).
        public var integrityInterval: Double
        /// The longest one check may read, seconds.
        public var integrityBudget: Double
    }

    public struct Log: Sendable {
        public var level: String
    }

    /// The officer session.
    public struct Session: Sendable {
        /// Seconds without an action after which the session locks (60 to 1,800).
        public var idleLock: Double
        /// Seconds an officer is refused after five failed attempts (at least 600).
        public var lockout: Double
    }

    /// What checks must carry.
    public struct Checks: Sendable {
        /// Purpose codes a check may give (person checks must give one).
        public var purposes: [String]
        /// Those that need a reference (a dispatch id, a case number).
        public var purposesWithReference: [String]

        public static let standardPurposes = (1...6).map { "law-6-\($0)" } + ["dispatch", "case", "traffic-stop"]
    }

    /// The lost-terminal protections (docs/operations.md, "A lost terminal").
    public struct Security: Sendable {
        /// Seconds without a verified manifest after which checks are refused; nil: off.
        public var maxOffline: Int64?
        /// Seconds without a verified manifest after which the lists are wiped; nil: off.
        public var wipeAfterOffline: Int64?
        /// The state partition (a LUKS2 block device) whose key slots `wipe-all` may erase.
        public var luksDevice: String?
        /// Seconds `wipe-all` tries to deliver its acknowledgement before the key goes.
        public var acknowledgementDeadline: Double
        /// Seconds after a lists wipe after which journal records the center has not
        /// received are discarded too.
        public var wipeJournalAfter: Int64
    }

    /// Listed persons' photos (docs/storage.md, "Photos").
    public struct Photos: Sendable {
        /// Bytes the photo cache may hold; 0: no prefetch (a hit's photos are still fetched).
        public var budgetBytes: Int64
        /// A place name (e.g. 臺北) whose records' photos are fetched before the rest.
        public var region: String?
    }

    public static let defaultPath = "/etc/mpolice/mpoliced.conf"

    public var terminal: Terminal
    public var api: API
    public var sync: Sync
    public var uplink: Uplink
    public var gps: GPS
    public var journal: Journal
    public var lists: Lists
    public var log: Log
    public var session: Session
    public var checks: Checks
    public var security: Security
    public var photos: Photos
    /// The watchdog and shutdown bounds are not configured: they follow systemd's settings.
    public var path: String

    /// Reads and validates the file at `path`.
    /// - Throws: `ConfigurationError` naming the key and line.
    public static func load(path: String) throws -> AgentConfiguration {
        try AgentConfiguration(ConfigurationFile(path: path))
    }

    /// Parses configuration text (tests).
    public static func parse(_ text: String, path: String = "<text>") throws -> AgentConfiguration {
        try AgentConfiguration(ConfigurationFile(text: text, path: path))
    }

    private init(_ file: ConfigurationFile) throws {
        var reader = Reader(file: file)
        terminal = Terminal(
            unit: try reader.string("terminal.unit", required: true, pattern: "^[A-Za-z0-9._-]{1,32}$",
                                    meaning: "1 to 32 letters, digits, '.', '_' or '-'")!,
            stateDirectory: try reader.path("terminal.state_directory", default: "/var/lib/mpolice"),
            region: try reader.string("terminal.region", pattern: "^[^;,&=%]{1,32}$",
                                      meaning: "a region name of 1 to 32 characters without ';', ',', '&', '=' or '%'"))
        api = API(
            socket: try reader.path("api.socket", default: API.defaultSocket),
            socketMode: try reader.octal("api.socket_mode", default: 0o660),
            socketGroup: reader.orNone("api.socket_group", default: "mpolice-ui"),
            allowedUsers: reader.list("api.allowed_users"),
            allowedGroups: reader.list("api.allowed_groups", default: ["mpolice-ui"]),
            maxBodyBytes: try reader.integer("api.max_body_bytes", default: 16_384, range: 1_024...1_048_576),
            maxConnections: try reader.integer("api.max_connections", default: 256, range: 8...4_096),
            maxConnectionsPerPeer: try reader.integer("api.max_connections_per_peer", default: 64, range: 4...4_096),
            idleTimeout: try reader.number("api.idle_timeout", default: 30, range: 1...3_600),
            trimAfter: try reader.integer("api.trim_after", default: 30, range: 0...86_400))
        let interval = try reader.number("sync.interval", default: 900, range: 10...86_400)
        sync = Sync(
            central: try reader.string("sync.central", pattern: "^https://[^ ]+$", meaning: "an https:// URL"),
            ca: try reader.path("sync.ca", default: Sync.defaultCA),
            certificate: try reader.path("sync.certificate", default: Sync.defaultCertificate),
            key: try reader.path("sync.key", default: Sync.defaultKey),
            trustRoot: try reader.path("sync.trust_root", default: Sync.defaultTrustRoot),
            pin: try reader.string("sync.pin", pattern: "^sha256//[A-Za-z0-9+/=]{44}(;sha256//[A-Za-z0-9+/=]{44})*$",
                                   meaning: "sha256//<base64>, ';'-separated"),
            policy: RetryPolicy(
                interval: .seconds(interval),
                jitter: try reader.number("sync.jitter", default: 0.1, range: 0...0.5),
                firstRetry: .seconds(try reader.number("sync.first_retry", default: 30, range: 1...3_600)),
                maxRetry: .seconds(try reader.number("sync.max_retry", default: 1_800, range: 1...86_400))),
            connectTimeout: try reader.number("sync.connect_timeout", default: Sync.defaultConnectTimeout, range: 1...120),
            timeout: try reader.number("sync.timeout", default: Sync.defaultTimeout, range: 5...7_200))
        let maxItems = try reader.integer("uplink.max_items", default: 200_000, range: 1_000...10_000_000)
        let warnItems = try reader.integer("uplink.warn_items", default: min(50_000, maxItems), range: 1...10_000_000)
        guard warnItems <= maxItems else { throw reader.error("uplink.warn_items", "must not exceed uplink.max_items (\(maxItems))") }
        uplink = Uplink(
            central: try reader.string("uplink.central", pattern: "^https://[^ ]+$", meaning: "an https:// URL"),
            batchItems: try reader.integer("uplink.batch_items", default: 500, range: 1...10_000),
            batchBytes: try reader.integer("uplink.batch_bytes", default: 524_288, range: 1_024...8_388_608),
            dispatchWait: try reader.number("uplink.dispatch_wait", default: 25, range: 1...60),
            policy: RetryPolicy(
                interval: .seconds(try reader.number("uplink.idle_interval", default: 30, range: 1...3_600)),
                jitter: 0.1,
                firstRetry: .seconds(try reader.number("uplink.first_retry", default: 2, range: 0.1...600)),
                maxRetry: .seconds(try reader.number("uplink.max_retry", default: 60, range: 0.1...3_600))),
            limits: OutboxLimits(maxItems: maxItems, warnItems: warnItems))
        var gpsd: GPSSettings?
        // Read whether or not gpsd is on, so a configuration that turns gpsd off keeps its other keys.
        let maxFixAge = try reader.number("gps.max_fix_age", default: 10, range: 1...3_600)
        let maxTimeSkew = try reader.number("gps.max_time_skew", default: 86_400, range: 1...3_153_600_000)
        if let address = try reader.string("gps.gpsd", default: "127.0.0.1:2947"), address != "off" {
            guard let parsed = GPSSettings.address(address) else {
                throw reader.error("gps.gpsd", "must be host:port with a port 1-65535, or off")
            }
            gpsd = GPSSettings(host: parsed.host, port: parsed.port, maxFixAge: maxFixAge, maxTimeSkew: maxTimeSkew)
        }
        gps = GPS(gpsd: gpsd)
        let level = try reader.string("log.level", default: "info")!
        guard ["trace", "debug", "info", "notice", "warning", "error", "critical"].contains(level) else {
            throw reader.error("log.level", "must be trace, debug, info, notice, warning, error or critical")
        }
        log = Log(level: level)
        journal = Journal(
            retentionDays: try reader.integer("journal.retention_days", default: 90, range: 1...3_650),
            maxRejected: try reader.integer("journal.max_rejected", default: 1_000, range: 10...1_000_000))
        lists = Lists(
            integrityInterval: try reader.number("lists.integrity_interval", default: 21_600, range: 60...604_800),
            integrityBudget: try reader.number("lists.integrity_budget", default: 120, range: 1...3_600))
        session = Session(
            idleLock: try reader.number("session.idle_lock", default: 600, range: 60...1_800),
            lockout: try reader.number("session.lockout", default: 900, range: 600...86_400))
        let purposes = reader.list("checks.purposes", default: Checks.standardPurposes)
        guard !purposes.isEmpty, purposes.allSatisfy({ $0.range(of: "^[a-z0-9-]{1,32}$", options: .regularExpression) != nil }) else {
            throw reader.error("checks.purposes", "one or more codes of 1 to 32 lower-case letters, digits or '-'")
        }
        let withReference = reader.list("checks.purposes_with_reference", default: ["dispatch", "case"])
        if let stray = withReference.first(where: { !purposes.contains($0) }) {
            throw reader.error("checks.purposes_with_reference", "\(stray) is not in checks.purposes")
        }
        checks = Checks(purposes: purposes, purposesWithReference: withReference)
        let maxOffline = try reader.secondsOrOff("security.max_offline", default: 259_200, range: 3_600...31_536_000)
        let wipeAfter = try reader.secondsOrOff("security.wipe_after_offline", default: 1_209_600, range: 3_600...31_536_000)
        if let maxOffline, let wipeAfter, wipeAfter < maxOffline {
            throw reader.error("security.wipe_after_offline", "must not be shorter than security.max_offline (\(maxOffline) s)")
        }
        let luksValue = reader.raw("security.luks_device")
        let luks = luksValue == "none" ? nil : luksValue
        if let luks, !luks.hasPrefix("/") { throw reader.error("security.luks_device", "must be an absolute device path, or none") }
        security = Security(maxOffline: maxOffline, wipeAfterOffline: wipeAfter, luksDevice: luks,
                            acknowledgementDeadline: try reader.number("security.acknowledgement_deadline", default: 30, range: 1...600),
                            wipeJournalAfter: Int64(try reader.integer("security.wipe_journal_after", default: 604_800, range: 0...31_536_000)))
        let region = try reader.string("photos.region", pattern: "^[^;,]{1,32}$", meaning: "a place name of 1 to 32 characters without ';' or ','")
        photos = Photos(budgetBytes: Int64(try reader.integer("photos.budget_mb", default: 256, range: 0...65_536)) << 20, region: region)
        path = file.path
        try reader.rejectUnknown()
    }

    /// Reads typed values and remembers which keys were asked for.
    private struct Reader {
        let file: ConfigurationFile
        var known: Set<String> = []

        func error(_ key: String, _ message: String) -> ConfigurationError {
            ConfigurationError(key: key, line: file.entries[key]?.line, path: file.path, message: message)
        }

        mutating func raw(_ key: String) -> String? {
            known.insert(key)
            guard let value = file.entries[key]?.value, !value.isEmpty else { return nil }
            return value
        }

        mutating func string(_ key: String, default fallback: String? = nil, required: Bool = false, pattern: String? = nil,
                             meaning: String = "") throws -> String? {
            guard let value = raw(key) else {
                if required, fallback == nil { throw error(key, "required") }
                return fallback
            }
            if let pattern, value.range(of: pattern, options: .regularExpression) == nil {
                throw error(key, "must be \(meaning)")
            }
            return value
        }

        mutating func path(_ key: String, default fallback: String) throws -> String {
            guard let value = raw(key) else { return fallback }
            guard value.hasPrefix("/") else { throw error(key, "must be an absolute path") }
            return value
        }

        mutating func integer(_ key: String, default fallback: Int, range: ClosedRange<Int>) throws -> Int {
            guard let value = raw(key) else { return fallback }
            guard let n = Int(value.replacingOccurrences(of: "_", with: "")), range.contains(n) else {
                throw error(key, "must be a whole number from \(range.lowerBound) to \(range.upperBound)")
            }
            return n
        }

        mutating func number(_ key: String, default fallback: Double, range: ClosedRange<Double>) throws -> Double {
            guard let value = raw(key) else { return fallback }
            guard let n = Double(value), n.isFinite, range.contains(n) else {
                throw error(key, "must be a number from \(Self.format(range.lowerBound)) to \(Self.format(range.upperBound))")
            }
            return n
        }

        static func format(_ n: Double) -> String { n == n.rounded() ? String(Int(n)) : String(n) }

        mutating func octal(_ key: String, default fallback: UInt16) throws -> UInt16 {
            guard let value = raw(key) else { return fallback }
            guard let n = UInt16(value, radix: 8), n <= 0o777 else { throw error(key, "must be octal permission bits such as 0660") }
            return n
        }

        /// Absent: the default; present but empty: none.
        /// Whole seconds in `range`, or `off` (nil).
        mutating func secondsOrOff(_ key: String, default fallback: Int64, range: ClosedRange<Int64>) throws -> Int64? {
            guard let text = raw(key) else { return fallback }
            if text == "off" { return nil }
            guard let value = Int64(text), range.contains(value) else {
                throw error(key, "must be whole seconds from \(range.lowerBound) to \(range.upperBound), or off")
            }
            return value
        }

        mutating func orNone(_ key: String, default fallback: String) -> String? {
            known.insert(key)
            guard let entry = file.entries[key] else { return fallback }
            return entry.value.isEmpty ? nil : entry.value
        }

        /// Comma-separated; absent: the default; present but empty: none.
        mutating func list(_ key: String, default fallback: [String] = []) -> [String] {
            known.insert(key)
            guard let value = file.entries[key]?.value else { return fallback }
            return value.split(separator: ",").map { $0.trimmingCharacters(in: .whitespaces) }.filter { !$0.isEmpty }
        }

        func rejectUnknown() throws {
            let unknown = file.entries.filter { !known.contains($0.key) }.sorted { $0.value.line < $1.value.line }
            if let (key, _) = unknown.first {
                throw error(key, "unknown key (docs/configuration.md lists them all)")
            }
        }
    }
}
