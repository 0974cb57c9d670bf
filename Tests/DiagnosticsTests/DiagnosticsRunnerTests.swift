@testable import Diagnostics
import Foundation
import TestSupport
import Testing

/// The step runner: order, what needs what, and how a failure or a skip passes on — without
/// the network (DiagnosticsTests); the system tests put real faults under it.
@Suite("diag's runner")
struct DiagnosticsRunnerTests {
    @Test("every step a step needs runs before it")
    func order() {
        let names = Diagnostics.stepNames
        #expect(names.first == "config")
        for step in Diagnostics.steps {
            for need in step.needs {
                #expect(names.firstIndex(of: need)! < names.firstIndex(of: step.name)!, "\(step.name) needs \(need)")
            }
        }
        #expect(Set(names).count == names.count)
        #expect(Diagnostics.closure(of: "manifest-trust") == ["manifest-trust", "manifest", "client-certificate", "tls", "tcp", "dns",
                                                               "certificate", "trust-root", "databases", "config"])
    }

    @Test("a missing configuration fails config and skips every other step after it")
    func missingConfig() async throws {
        let report = await Diagnostics.run(.init(configPath: "/nonexistent/mpoliced.conf"))
        #expect(report.steps.first?.status == .fail)
        #expect(report.steps.first?.reason == "config.missing")
        #expect(report.steps.dropFirst().allSatisfy { $0.status == .skipped && $0.reason == "after-config" })
        #expect(report.steps.count == Diagnostics.stepNames.count)
        #expect(report.exitCode == 2)
        #expect(report.summary.firstProblem == "config")
    }

    @Test("without [sync] central the network steps are skipped as not configured, and the report still runs the local steps")
    func syncNotConfigured() async throws {
        let scratch = try Scratch("diag")
        defer { scratch.remove() }
        _ = try scratch.directory("state")
        let config = scratch.url.appendingPathComponent("mpoliced.conf")
        try """
            [terminal]
            unit = TPE-DA-01
            state_directory = \(scratch.url.appendingPathComponent("state").path)
            [api]
            socket = \(scratch.url.appendingPathComponent("api.sock").path)
            [gps]
            gpsd = off
            """.write(to: config, atomically: true, encoding: .utf8)
        let report = await Diagnostics.run(.init(configPath: config.path))
        func step(_ name: String) -> DiagnosticStep? { report.steps.first { $0.name == name } }
        #expect(step("config")?.reason == "sync.not-configured")
        for name in ["dns", "tcp", "tls", "client-certificate", "manifest", "clock"] {
            #expect(step(name)?.status == .skipped && step(name)?.reason == "sync.not-configured", "\(name)")
        }
        #expect(step("daemon")?.reason == "daemon.not-running")
        #expect(step("gpsd")?.reason == "gps.not-configured")
        #expect(step("lists")?.reason == "lists.missing")
        #expect(step("certificate")?.reason == "certificate.missing")
        #expect(report.daemonRunning == false)
    }
}

/// docs/diagnostics.md against the code: every reason code a step can report is documented.
@Suite("diag's reason codes are documented")
struct DiagnosticsDocumentationTests {
    static let repository = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()

    @Test("each literal reason code in Sources/Diagnostics appears in docs/diagnostics.md")
    func reasonCodesDocumented() throws {
        let sources = Self.repository.appendingPathComponent("Sources/Diagnostics")
        var codes: Set<String> = []
        let pattern = try Regex(#"Finding\.(?:fail|warn|notApplicable)\("([a-z0-9.-]+)""#)
        for file in try FileManager.default.contentsOfDirectory(at: sources, includingPropertiesForKeys: nil) where file.pathExtension == "swift" {
            for match in try String(contentsOf: file, encoding: .utf8).matches(of: pattern) {
                codes.insert(String(match.output[1].substring!))
            }
        }
        #expect(codes.count > 50, "the pattern still finds the codes: \(codes.count)")
        let doc = try String(contentsOf: Self.repository.appendingPathComponent("docs/diagnostics.md"), encoding: .utf8)
        let missing = codes.filter { !doc.contains("`\($0)`") }.sorted()
        #expect(missing.isEmpty, "reason codes not in docs/diagnostics.md: \(missing)")
    }
}
