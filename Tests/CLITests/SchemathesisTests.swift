import Foundation
import TestSupport
import Testing

/// schemathesis (PyPI, installed by `make setup` into .build/pytools) generates requests from
/// docs/api/openapi.yaml — valid and invalid — against the real daemon on its test-only
/// loopback listener, and checks every response against the document: no 5xx, only
/// documented statuses, content types and bodies.
@Suite("Local API against its OpenAPI document", .serialized)
struct SchemathesisTests {
    static let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
    static let schemathesis = ProcessInfo.processInfo.environment["MPOLICE_SCHEMATHESIS"]
        ?? root.appendingPathComponent(".build/pytools/bin/schemathesis").path

    @Test("hundreds of generated requests: responses conform to openapi.yaml and the daemon keeps answering")
    func conformance() throws {
        let (scratch, state) = try DaemonTests.state()
        defer { scratch.remove() }
        let port = try LoopbackPort.free()
        let daemon = try DaemonProcess(in: scratch.url, stateDirectory: state, extra: "")
        let config = scratch.url.appendingPathComponent("mpoliced.conf")
        try String(contentsOf: config, encoding: .utf8).replacingOccurrences(of: "allowed_groups =", with: "allowed_groups =\ntcp_listen = 127.0.0.1:\(port)")
            .write(to: config, atomically: true, encoding: .utf8)
        try daemon.start()
        #expect(try daemon.client.json("POST", "/v1/session", ["officerId": "OF-1"]).status == 201)
        let run = try Programs.system(Self.schemathesis, [
            "run", Self.root.appendingPathComponent("docs/api/openapi.yaml").path, "--url", "http://127.0.0.1:\(port)",
            "--exclude-path", "/v1/events", "--max-examples", "40", "--seed", "2026", "--no-color",
            "--checks", "not_a_server_error,status_code_conformance,content_type_conformance,response_schema_conformance",
        ])
        let summary = run.stdout.split(separator: "\n").first { $0.contains(" generated, ") } ?? ""
        print("schemathesis: \(summary)")
        #expect(run.status == 0, "\(run.stdout.suffix(3000))\(run.stderr.suffix(2000))")
        let passed = summary.split(separator: " ").first.flatMap { Int($0) } ?? 0
        #expect(passed >= 300, "\(summary)")
        #expect(try daemon.client.json("GET", "/v1/health").status == 200, "the daemon still answers")
        #expect(daemon.stop().status == 0)
        #expect(!daemon.log.contains("critical"))
    }
}
