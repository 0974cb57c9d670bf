import Central
import FieldWire
import Foundation
import TestSupport
import Testing

/// schemathesis (PyPI, installed by `make setup` into .build/pytools) generates requests from
/// docs/api/openapi.yaml — valid and invalid — against the real daemon, through a loopback
/// TCP door the test opens onto the daemon's Unix socket (the daemon itself has no TCP
/// listener), and checks every response against the document: no 5xx, only documented
/// statuses, content types and bodies.
@Suite("Local API against its OpenAPI document", .serialized)
struct SchemathesisTests {
    static let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
    static let schemathesis = ProcessInfo.processInfo.environment["MPOLICE_SCHEMATHESIS"]
        ?? root.appendingPathComponent(".build/pytools/bin/schemathesis").path
    static let validator = root.appendingPathComponent(".build/pytools/bin/openapi-spec-validator").path

    @Test("docs/api/openapi.yaml is a valid OpenAPI document (openapi-spec-validator, pinned by make setup)")
    func documentValidates() throws {
        let run = try Programs.system(Self.validator, [Self.root.appendingPathComponent("docs/api/openapi.yaml").path])
        #expect(run.status == 0, "\(run.stdout.suffix(2000))\(run.stderr.suffix(2000))")
        #expect(run.stdout.contains(": OK"))
    }

    /// Every check the pinned schemathesis offers that fits a local API without auth or
    /// resources to create: conformance of statuses, types, headers and bodies; schema-valid
    /// requests accepted and schema-invalid ones refused; methods not in the document
    /// answered 405 with a correct Allow.
    static let checks = ["not_a_server_error", "status_code_conformance", "content_type_conformance", "response_headers_conformance",
                         "response_schema_conformance", "positive_data_acceptance", "negative_data_rejection", "unsupported_method",
                         "allow_header_conformance"]

    @Test("hundreds of generated requests: responses conform to openapi.yaml and the daemon keeps answering")
    func conformance() throws {
        // A trust root with an orders role: generated orders are judged (and refused), not unverifiable.
        let keys = FileManager.default.temporaryDirectory.appendingPathComponent("st-keys-\(UUID().uuidString)")
        defer { try? FileManager.default.removeItem(at: keys) }
        try CentralKeys.initialise(in: keys, now: Int64(Date().timeIntervalSince1970), validFor: 86_400)
        let (scratch, daemon) = try DaemonProcess.started(extra: "[sync]\ntrust_root = \(keys.appendingPathComponent(CentralKeys.rootFile).path)\n")
        defer { scratch.remove() }
        let door = try FaultProxy(toUnixSocket: daemon.socketPath)
        defer { door.stop() }
        let port = door.port
        #expect(try daemon.client.signIn().status == 201)
        let document = Self.root.appendingPathComponent("docs/api/openapi.yaml")
        let junit = scratch.url.appendingPathComponent("schemathesis.xml")
        let run = try Programs.system(Self.schemathesis, [
            "run", document.path, "--url", "http://127.0.0.1:\(port)",
            "--exclude-path", "/v1/events", "--max-examples", "40", "--seed", "2026", "--no-color",
            "--checks", Self.checks.joined(separator: ","), "--report", "junit", "--report-junit-path", junit.path,
        ])
        let summary = run.stdout.split(separator: "\n").first { $0.contains(" generated, ") } ?? ""
        print("schemathesis: \(summary)")
        #expect(run.status == 0, "\(run.stdout.suffix(3000))\(run.stderr.suffix(2000))")
        // The report's own counts: every generated case passed, and every operation of the
        // document (but the event stream) was exercised.
        let numbers = summary.split(separator: " ").compactMap { Int($0.trimmingCharacters(in: .punctuationCharacters)) }
        #expect(numbers.count >= 2 && numbers[0] == numbers[1] && numbers[0] > 0, "\(summary)")
        let report = try String(contentsOf: junit, encoding: .utf8)
        var operations: [String] = [], path = ""
        for line in try String(contentsOf: document, encoding: .utf8).split(separator: "\n") {
            if line.hasPrefix("  /v1/") { path = String(line.dropFirst(2).dropLast()) }
            for method in ["get", "post", "delete"] where line == "    \(method):" && path != "/v1/events" {
                operations.append("\(method.uppercased()) \(path)")
            }
        }
        #expect(operations.count == 33)
        for operation in operations { #expect(report.contains(operation), "\(operation) was not exercised") }
        #expect(!report.contains("<failure") && !report.contains("<error"))
        #expect(try daemon.client.json("GET", "/v1/health").status == 200, "the daemon still answers")
        #expect(daemon.stop().status == 0)
        #expect(!daemon.log.contains("critical"))
    }
}
