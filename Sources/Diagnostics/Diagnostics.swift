import TerminalConfiguration
import FieldSync
import FieldWire
import Foundation
import Store
import Synchronization
import Watchlist

/// `mpolicectl diag`: the field-sync chain, step by step, from the configuration file to
/// the disk — each step with its status, timing, detail and a one-line hint. Works with the
/// daemon stopped (configuration and databases read only, its own connections) and with it
/// running (its live state too). docs/diagnostics.md describes every step and reason code.
public enum Diagnostics {
    public struct Options: Sendable {
        public var configPath: String
        /// The daemon's socket; nil: the configured `api.socket`.
        public var socketPath: String?
        /// How long to wait for a fix from gpsd.
        public var gpsWait: Double

        public init(configPath: String, socketPath: String? = nil, gpsWait: Double = 3) {
            (self.configPath, self.socketPath, self.gpsWait) = (configPath, socketPath, gpsWait)
        }
    }

    /// One step: its name, the steps it needs (it runs only when none of them failed or was
    /// skipped), and what it does with the context.
    public struct Step: Sendable {
        public let name: String
        public let needs: [String]
        let run: @Sendable (DiagnosisContext) async throws -> Finding

        init(_ name: String, needs: [String] = ["config"], _ run: @escaping @Sendable (DiagnosisContext) async throws -> Finding) {
            self.name = name
            self.needs = needs
            self.run = run
        }
    }

    /// The step that reads the configuration every other step needs; it runs first.
    public static let configStep = "config"

    /// The steps after `config`, in the order they run. The state directory's disk and
    /// databases come first: a full disk or a broken file causes failures further on, and
    /// the report names the cause before its symptoms.
    public static let steps: [Step] = [
        Step("disk") { try $0.diskStep() },
        Step("databases") { try $0.databasesStep() },
        Step("certificate") { try $0.certificateStep() },
        Step("trust-root") { try $0.trustRootStep() },
        Step("dns") { try $0.dnsStep() },
        Step("tcp", needs: ["dns"]) { try $0.tcpStep() },
        Step("tls", needs: ["tcp"]) { try $0.tlsStep() },
        Step("client-certificate", needs: ["tls", "certificate"]) { try $0.clientCertificateStep() },
        Step("manifest", needs: ["client-certificate"]) { try $0.manifestStep() },
        Step("manifest-trust", needs: ["manifest", "trust-root", "databases"]) { try $0.manifestTrustStep() },
        Step("clock", needs: ["tls"]) { try $0.clockStep() },
        Step("lists", needs: ["databases"]) { try $0.listsStep() },
        Step("outbox", needs: ["databases"]) { try $0.outboxStep() },
        Step("sync-history", needs: ["databases"]) { try $0.syncHistoryStep() },
        Step("daemon") { try $0.daemonStep() },
        Step("gpsd") { try await $0.gpsdStep() },
    ]

    /// Every step's name, in order.
    public static var stepNames: [String] { [configStep] + steps.map(\.name) }

    /// Runs every step, or `only` one (with the steps it needs run first, unreported).
    public static func run(_ options: Options, only: String? = nil, clock: any TerminalClock = SystemClock()) async -> DiagnosticReport {
        let configStarted = ContinuousClock.now
        let (configFinding, configuration) = configStep(options.configPath)
        var results = [configStep: DiagnosticStep(configStep, configFinding, since: configStarted)]
        if let configuration {
            let context = DiagnosisContext(options: options, configuration: configuration, clock: clock)
            let wanted: Set<String> = only.map(closure(of:)) ?? Set(stepNames)
            for step in steps where wanted.contains(step.name) {
                if let blocker = step.needs.compactMap({ results[$0] }).first(where: { $0.status == .fail || $0.status == .skipped }) {
                    // A skip passes on as it is: "after-tcp" or "sync.not-configured" all the way down.
                    results[step.name] = blocker.status == .skipped
                        ? DiagnosticStep(name: step.name, status: .skipped, detail: blocker.detail, reason: blocker.reason)
                        : DiagnosticStep(name: step.name, status: .skipped, detail: "skipped: \(blocker.name) failed", reason: "after-\(blocker.name)")
                    continue
                }
                let started = ContinuousClock.now
                let finding: Finding
                do {
                    finding = try await step.run(context)
                } catch let f as Finding {
                    finding = f
                } catch {
                    finding = .fail("\(step.name).error", "\(error)", hint: "unexpected: report it with `mpolicectl diag --json`")
                }
                results[step.name] = DiagnosticStep(step.name, finding, since: started)
            }
        } else {
            for step in steps {
                results[step.name] = DiagnosticStep(name: step.name, status: .skipped, detail: "skipped: config failed", reason: "after-config")
            }
        }
        let reported = stepNames.filter { only == nil || $0 == only }.compactMap { results[$0] }
        return DiagnosticReport(generatedAt: Timestamp.iso8601(seconds: clock.nowSeconds), configPath: options.configPath,
                                unit: configuration?.terminal.unit, daemonRunning: results["daemon"]?.status == .ok, steps: reported)
    }

    /// `name` and every step it needs, transitively.
    static func closure(of name: String) -> Set<String> {
        var result: Set<String> = [name]
        var queue = [name]
        while let next = queue.popLast() {
            for need in steps.first(where: { $0.name == next })?.needs ?? [] where result.insert(need).inserted { queue.append(need) }
        }
        return result
    }

    /// The configuration file: present, readable, valid.
    static func configStep(_ path: String) -> (Finding, AgentConfiguration?) {
        guard FileManager.default.fileExists(atPath: path) else {
            return (.fail("config.missing", "\(path) does not exist", hint: "install the package and run Device/provision (Device/README.md)"), nil)
        }
        guard FileManager.default.isReadableFile(atPath: path) else {
            return (.fail("config.unreadable", "\(path) is not readable by this user", hint: "run diag as root (sudo mpolicectl diag)"), nil)
        }
        let c: AgentConfiguration
        do {
            c = try AgentConfiguration.load(path: path)
        } catch {
            return (.fail("config.invalid", "\(error)", hint: "fix the key named above; every key is in docs/configuration.md"), nil)
        }
        var parts = ["unit \(c.terminal.unit)", "state \(c.terminal.stateDirectory)"]
        parts.append(c.sync.central.map { "lists from \($0)" } ?? "sync not configured")
        parts.append(c.uplink.central == nil ? "uplink not configured" : "uplink configured")
        guard c.sync.central != nil else {
            return (.warn("sync.not-configured", parts.joined(separator: ", "), hint: "set [sync] central in \(path): without it the lists go stale"), c)
        }
        return (.ok(parts.joined(separator: ", ")), c)
    }
}

/// What every step reads: the options, the configuration and the clock — fixed for the run —
/// and the one traced GET of the manifest that the TLS, certificate, manifest and clock steps
/// share, made the first time one of them asks.
final class DiagnosisContext: Sendable {
    let options: Diagnostics.Options
    let configuration: AgentConfiguration
    let clock: any TerminalClock
    let stateDirectory: StateDirectory
    /// The center's list URL, host and port; nil when sync is not configured.
    let central: (url: String, host: String, port: Int)?
    private let probe = Mutex<ManifestProbe?>(nil)

    init(options: Diagnostics.Options, configuration: AgentConfiguration, clock: any TerminalClock) {
        self.options = options
        self.configuration = configuration
        self.clock = clock
        stateDirectory = StateDirectory(path: configuration.terminal.stateDirectory)
        if let url = configuration.sync.central, let components = URLComponents(string: url), let host = components.host {
            central = (url.hasSuffix("/") ? url : url + "/", host, components.port ?? 443)
        } else {
            central = nil
        }
    }

    /// Unix seconds, as this machine believes.
    var now: Double { Double(clock.nowMilliseconds) / 1000 }

    var transport: CurlTransport {
        let s = configuration.sync
        return CurlTransport(.init(caFile: s.ca, clientCertificate: s.certificate, clientKey: s.key, pinnedPublicKey: s.pin,
                                   connectTimeout: s.connectTimeout, totalTimeout: max(10, s.connectTimeout + 10)))
    }

    /// The center, or the finding that sync is not configured.
    func requireCentral() throws -> (url: String, host: String, port: Int) {
        guard let central else { throw Finding.notApplicable("sync.not-configured", "sync is not configured") }
        return central
    }

    /// One traced GET of the manifest, shared by the steps that look at it.
    func manifestProbe() throws -> ManifestProbe {
        let central = try requireCentral()
        return probe.withLock { memo in
            if let memo { return memo }
            let trace = TransferTrace()
            let result = Result { try transport.traced(central.url + Manifest.path, maxBytes: 1 << 20, trace: trace) }
            let made = ManifestProbe(trace: trace, response: try? result.get())
            memo = made
            return made
        }
    }

    /// The manifest's HTTP answer, or the finding that there was none.
    func manifestResponse() throws -> CurlTransport.Response {
        guard let response = try manifestProbe().response else {
            throw Finding.fail("client-certificate.no-answer", "no HTTP answer", hint: "see the tls step")
        }
        return response
    }

    static func days(_ seconds: Double) -> String {
        let d = seconds / 86_400
        return d >= 2 ? "\(Int(d)) days" : String(format: "%.0f hours", seconds / 3_600)
    }
}

/// The manifest GET's trace and, when an HTTP answer came, the answer.
struct ManifestProbe: Sendable {
    let trace: TransferTrace
    let response: CurlTransport.Response?
}
