import ArgumentParser
import Diagnostics
import FieldWire
import Foundation
import LocalAPIClient
import TerminalConfiguration

struct DiagCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "diag",
        abstract: "Find out why a terminal is not syncing: every step from the configuration to the disk.",
        discussion: """
            Steps, in order: \(Diagnostics.stepNames.joined(separator: ", ")).
            Each is ok, warn, fail, or skipped (an earlier step it needs failed, or it does not
            apply), with its time, what it found and what to do. Works with the daemon stopped
            (reads the configuration and databases read-only, makes its own connections) and
            running (asks it too). Prints no key material, plates, IDs or names. Exit 0 all ok,
            1 warnings, 2 failures. docs/diagnostics.md describes the steps, reason codes and
            the --json schema. With --upload the running daemon also queues a health report
            for the center's fleet view (`mpolice-central fleet`); it is printed after the
            steps, and a daemon that cannot take it is a failure (exit 2).
            """)

    @Option(help: ArgumentHelp("The daemon's configuration file.", valueName: "path"))
    var config: String = ProcessInfo.processInfo.environment["MPOLICE_CONFIG"] ?? "/etc/mpolice/mpoliced.conf"

    @Option(help: ArgumentHelp("The daemon's socket (default: the configured api.socket).", valueName: "path"))
    var socket: String?

    @Option(help: ArgumentHelp("Run this step only (the steps it needs run first, unreported).", valueName: "name"))
    var step: String?

    @Option(help: "Seconds to wait for a GPS fix.")
    var gpsWait: Double = 3

    @Flag(help: "Print the report as JSON (docs/diagnostics.md).")
    var json = false

    @Flag(help: "Also have the daemon send a health report to the center now (its fleet view).")
    var upload = false

    func validate() throws {
        if let step, !Diagnostics.stepNames.contains(step) {
            throw ValidationError("--step must be one of: \(Diagnostics.stepNames.joined(separator: ", "))")
        }
        guard (0...60).contains(gpsWait) else { throw ValidationError("--gps-wait must be 0 to 60 seconds") }
    }

    func run() async throws {
        let report = await Diagnostics.run(.init(configPath: config, socketPath: socket, gpsWait: gpsWait), only: step)
        let uploaded: Result<HealthReport, any Error>? = upload ? Result { try sendHealthReport() } : nil
        if json {
            var object = try JSONSerialization.jsonObject(with: WireJSON.encode(report)) as? [String: Any] ?? [:]
            switch uploaded {
            case .success(let health): object["healthReport"] = try JSONSerialization.jsonObject(with: WireJSON.encode(health))
            case .failure(let error): object["healthReportError"] = "\(error)"
            case nil: break
            }
            print(String(decoding: try JSONSerialization.data(withJSONObject: object, options: [.sortedKeys]), as: UTF8.self))
        } else {
            print(Self.text(report, colour: isatty(STDOUT_FILENO) == 1 && ProcessInfo.processInfo.environment["NO_COLOR"] == nil))
            switch uploaded {
            case .success(let health):
                print("health report \(health.reportId) queued for the center (outbox \(health.outboxDepth) items ahead of it)")
            case .failure(let error): print("health report NOT sent: \(error)")
            case nil: break
            }
        }
        if case .failure = uploaded { throw ExitCode(2) }
        if report.exitCode != 0 { throw ExitCode(report.exitCode) }
    }

    /// Asks the daemon to queue a health report now.
    private func sendHealthReport() throws -> HealthReport {
        let path = socket ?? (try? AgentConfiguration.load(path: config))?.api.socket ?? AgentConfiguration.API.defaultSocket
        return try APIClient(socketPath: path).call("POST", "/v1/health-report", as: HealthReport.self)
    }

    static func text(_ report: DiagnosticReport, colour: Bool) -> String {
        func paint(_ text: String, _ code: String) -> String { colour ? "\u{1B}[\(code)m\(text)\u{1B}[0m" : text }
        let width = report.steps.map(\.name.count).max() ?? 10
        var lines = ["mpolicectl diag — unit \(report.unit ?? "?"), \(report.configPath), daemon \(report.daemonRunning ? "running" : "not answering"), \(report.generatedAt)"]
        for step in report.steps {
            let label: String
            switch step.status {
            case .ok: label = paint("ok  ", "32")
            case .warn: label = paint("WARN", "33")
            case .fail: label = paint("FAIL", "31;1")
            case .skipped: label = paint("skip", "2")
            }
            let time = step.status == .skipped ? "" : "\(step.milliseconds) ms"
            lines.append("  \(label)  \(step.name.padding(toLength: width, withPad: " ", startingAt: 0))  \(time.leftPadded(7))  \(step.detail)"
                         + (step.reason.map { step.status == .ok ? "" : " [\($0)]" } ?? ""))
            if let hint = step.hint, step.status == .warn || step.status == .fail {
                lines.append("        \(String(repeating: " ", count: width))           → \(hint)")
            }
        }
        let s = report.summary
        var summary = "summary: \(s.ok) ok, \(s.warn) warnings, \(s.fail) failures, \(s.skipped) skipped"
        if let first = s.firstProblem { summary += " — look first at: \(first)" }
        lines.append(paint(summary, s.fail > 0 ? "31;1" : s.warn > 0 ? "33" : "32"))
        return lines.joined(separator: "\n")
    }
}

extension String {
    func leftPadded(_ width: Int) -> String { count >= width ? self : String(repeating: " ", count: width - count) + self }
}
