import Agent
import FieldSync
import Foundation
import LocalAPIClient
import Location
import Store
import Watchlist

/// `mpolicectl diag`: the field-sync chain, step by step, from the configuration file to
/// the disk — each step with its status, timing, detail and a one-line hint. Works with the
/// daemon stopped (configuration and databases read only, its own connections) and with it
/// running (its live state too). docs/diagnostics.md describes every step and reason code.
public final class Diagnostics: @unchecked Sendable {
    public struct Options: Sendable {
        public var configPath: String
        /// The daemon's socket; nil: the configured `api.socket`.
        public var socketPath: String?
        /// Added to this machine's clock (tests stand in for a skewed clock with it).
        public var clockOffset: Double
        /// How long to wait for a fix from gpsd.
        public var gpsWait: Double

        public init(configPath: String, socketPath: String? = nil, clockOffset: Double = 0, gpsWait: Double = 3) {
            self.configPath = configPath
            self.socketPath = socketPath
            self.clockOffset = clockOffset
            self.gpsWait = gpsWait
        }
    }

    /// Every step, in the order they run; a step runs when the steps it needs did not fail.
    /// The state directory's disk and databases come first: a full disk or a broken file
    /// causes failures further on, and the report names the cause before its symptoms.
    public static let steps: [(name: String, needs: [String])] = [
        ("config", []),
        ("disk", ["config"]),
        ("databases", ["config"]),
        ("certificate", ["config"]),
        ("trust-root", ["config"]),
        ("dns", ["config"]),
        ("tcp", ["dns"]),
        ("tls", ["tcp"]),
        ("client-certificate", ["tls", "certificate"]),
        ("manifest", ["client-certificate"]),
        ("manifest-trust", ["manifest", "trust-root", "databases"]),
        ("clock", ["tls"]),
        ("lists", ["databases"]),
        ("outbox", ["databases"]),
        ("sync-history", ["databases"]),
        ("daemon", ["config"]),
        ("gpsd", ["config"]),
    ]

    let options: Options
    var config: AgentConfiguration?
    var probe: (trace: TransferTrace, response: CurlTransport.Response?, error: (any Error)?)?
    var daemonRunning = false

    public init(_ options: Options) {
        self.options = options
    }

    /// Unix seconds, as this machine (with the offset) believes.
    var now: Double { Date().timeIntervalSince1970 + options.clockOffset }

    /// Runs every step, or `only` one (with the steps it needs run first, unreported).
    public func run(only: String? = nil) async -> DiagnosticReport {
        var results: [String: DiagnosticStep] = [:]
        let wanted: Set<String> = only.map { Self.closure(of: $0) } ?? Set(Self.steps.map(\.name))
        for (name, needs) in Self.steps where wanted.contains(name) {
            if let blocker = needs.compactMap({ results[$0] }).first(where: { $0.status == .fail || $0.status == .skipped }) {
                // A skip passes on as it is: "after-tcp" or "sync.not-configured" all the way down.
                results[name] = blocker.status == .skipped
                    ? DiagnosticStep(name: name, status: .skipped, detail: blocker.detail, reason: blocker.reason)
                    : DiagnosticStep(name: name, status: .skipped, detail: "skipped: \(blocker.name) failed", reason: "after-\(blocker.name)")
                continue
            }
            let started = ContinuousClock.now
            let finding: Finding
            do {
                finding = try await step(name)
            } catch let f as Finding {
                finding = f
            } catch {
                finding = .fail("\(name).error", "\(error)", hint: "unexpected: report it with `mpolicectl diag --json`")
            }
            let elapsed = ContinuousClock.now - started
            let ms = Int(elapsed.components.seconds * 1000 + elapsed.components.attoseconds / 1_000_000_000_000_000)
            results[name] = DiagnosticStep(name: name, status: finding.status, milliseconds: ms, detail: finding.detail,
                                           reason: finding.reason, hint: finding.hint)
        }
        let reported = Self.steps.map(\.name).filter { only == nil || $0 == only }.compactMap { results[$0] }
        return DiagnosticReport(generatedAt: Timestamp.iso8601(seconds: Int64(now)), configPath: options.configPath,
                                unit: config?.terminal.unit, daemonRunning: daemonRunning, steps: reported)
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

    private func step(_ name: String) async throws -> Finding {
        switch name {
        case "config": try configStep()
        case "certificate": try certificateStep()
        case "trust-root": try trustRootStep()
        case "dns": try dnsStep()
        case "tcp": try tcpStep()
        case "tls": try tlsStep()
        case "client-certificate": try clientCertificateStep()
        case "manifest": try manifestStep()
        case "manifest-trust": try manifestTrustStep()
        case "clock": try clockStep()
        case "lists": try listsStep()
        case "outbox": try outboxStep()
        case "sync-history": try syncHistoryStep()
        case "daemon": try daemonStep()
        case "gpsd": try await gpsdStep()
        case "databases": try databasesStep()
        case "disk": try diskStep()
        default: .fail("diag.unknown-step", "no step \(name)", hint: "steps: \(Self.steps.map(\.name).joined(separator: ", "))")
        }
    }

    // MARK: Helpers shared by the steps

    var configuration: AgentConfiguration { config! }
    var stateDirectory: StateDirectory { StateDirectory(path: configuration.terminal.stateDirectory) }

    /// The center's list URL split into host and port.
    var central: (url: String, host: String, port: Int)? {
        guard let url = configuration.sync.central, let components = URLComponents(string: url), let host = components.host else { return nil }
        return (url.hasSuffix("/") ? url : url + "/", host, components.port ?? 443)
    }

    var transport: CurlTransport {
        let s = configuration.sync
        return CurlTransport(.init(caFile: s.ca, clientCertificate: s.certificate, clientKey: s.key, pinnedPublicKey: s.pin,
                                   connectTimeout: s.connectTimeout, totalTimeout: max(10, s.connectTimeout + 10)))
    }

    /// One traced GET of the manifest, shared by the TLS, certificate, manifest and clock steps.
    func manifestProbe() -> (trace: TransferTrace, response: CurlTransport.Response?, error: (any Error)?) {
        if let probe { return probe }
        let trace = TransferTrace()
        let result = Result { try transport.traced(central!.url + "manifest.json", maxBytes: 1 << 20, trace: trace) }
        let made = (trace, try? result.get(), result.failure)
        probe = made
        return made
    }

    static func days(_ seconds: Double) -> String {
        let d = seconds / 86_400
        return d >= 2 ? "\(Int(d)) days" : String(format: "%.0f hours", seconds / 3_600)
    }
}

extension Result {
    var failure: Failure? {
        if case .failure(let e) = self { return e }
        return nil
    }
}
