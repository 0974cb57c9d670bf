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

    @Test("hundreds of generated requests: responses conform to openapi.yaml and the daemon keeps answering")
    func conformance() throws {
        let (scratch, state) = try DaemonTests.state()
        defer { scratch.remove() }
        let daemon = try DaemonProcess(in: scratch.url, stateDirectory: state, extra: "")
        try daemon.start()
        let door = try FaultProxy(toUnixSocket: daemon.socketPath)
        defer { door.stop() }
        let port = door.port
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
