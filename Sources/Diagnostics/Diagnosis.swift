import Foundation

/// One step of `mpolicectl diag`: what it checked, how it went, and what to do about it.
/// The JSON form is documented in docs/diagnostics.md (schema 1).
public struct DiagnosticStep: Sendable, Codable, Equatable {
    public enum Status: String, Sendable, Codable, Comparable {
        case ok, warn, fail
        /// Not run: an earlier step it needs failed, or it does not apply (not configured).
        case skipped

        var rank: Int { [.ok: 0, .skipped: 0, .warn: 1, .fail: 2][self]! }
        public static func < (a: Status, b: Status) -> Bool { a.rank < b.rank }
    }

    public var name: String
    public var status: Status
    public var milliseconds: Int
    /// What was found (never key material, plates, IDs or names).
    public var detail: String
    /// A stable code for warn, fail and skipped (docs/diagnostics.md lists them).
    public var reason: String?
    /// One line: what to do about it.
    public var hint: String?

    /// A step's finding, timed from `started`.
    init(_ name: String, _ finding: Finding, since started: ContinuousClock.Instant) {
        let elapsed = ContinuousClock.now - started
        self.init(name: name, status: finding.status,
                  milliseconds: Int(elapsed.components.seconds * 1000 + elapsed.components.attoseconds / 1_000_000_000_000_000),
                  detail: finding.detail, reason: finding.reason, hint: finding.hint)
    }

    public init(name: String, status: Status, milliseconds: Int = 0, detail: String, reason: String? = nil, hint: String? = nil) {
        (self.name, self.status, self.milliseconds, self.detail, self.reason) = (name, status, milliseconds, detail, reason)
        self.hint = hint
    }
}

/// The whole run.
public struct DiagnosticReport: Sendable, Codable {
    public struct Summary: Sendable, Codable {
        public var status: DiagnosticStep.Status
        public var ok: Int
        public var warn: Int
        public var fail: Int
        public var skipped: Int
        /// The first failing step, else the first warning: where to look.
        public var firstProblem: String?
    }

    public var schema = 1
    public var generatedAt: String
    public var configPath: String
    public var unit: String?
    /// Whether the daemon answered on its socket.
    public var daemonRunning: Bool
    public var summary: Summary
    public var steps: [DiagnosticStep]

    init(generatedAt: String, configPath: String, unit: String?, daemonRunning: Bool, steps: [DiagnosticStep]) {
        self.generatedAt = generatedAt
        self.configPath = configPath
        self.unit = unit
        self.daemonRunning = daemonRunning
        self.steps = steps
        let worst = steps.map(\.status).max() ?? .ok
        summary = Summary(status: worst == .skipped ? .ok : worst,
                          ok: steps.filter { $0.status == .ok }.count, warn: steps.filter { $0.status == .warn }.count,
                          fail: steps.filter { $0.status == .fail }.count, skipped: steps.filter { $0.status == .skipped }.count,
                          firstProblem: (steps.first { $0.status == .fail } ?? steps.first { $0.status == .warn })?.name)
    }

    /// 0 all ok, 1 warnings, 2 failures.
    public var exitCode: Int32 {
        switch summary.status {
        case .ok, .skipped: 0
        case .warn: 1
        case .fail: 2
        }
    }
}

/// A step's outcome before timing is attached; steps throw `Finding` to end early.
struct Finding: Error {
    var status: DiagnosticStep.Status
    var detail: String
    var reason: String?
    var hint: String?

    static func ok(_ detail: String) -> Finding { Finding(status: .ok, detail: detail) }
    static func warn(_ reason: String, _ detail: String, hint: String) -> Finding { Finding(status: .warn, detail: detail, reason: reason, hint: hint) }
    static func fail(_ reason: String, _ detail: String, hint: String) -> Finding { Finding(status: .fail, detail: detail, reason: reason, hint: hint) }
    static func notApplicable(_ reason: String, _ detail: String) -> Finding { Finding(status: .skipped, detail: detail, reason: reason) }
}
