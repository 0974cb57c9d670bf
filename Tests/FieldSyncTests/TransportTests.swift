import FieldSync
import FieldWire
import Foundation
import TestSupport
import Testing

/// CurlTransport against a real nginx with TLS and client-certificate verification.
@Suite("HTTPS transport against nginx with mutual TLS", .serialized)
struct TransportTests {
    let dir: URL
    let pki: TestPKI

    init() throws {
        dir = FileManager.default.temporaryDirectory.appendingPathComponent("mtls-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        pki = try TestPKI(in: dir)
    }

    func transport(clientCertificate: Bool = true, pin: String? = nil) -> CurlTransport {
        CurlTransport(.init(caFile: pki.path("ca.crt"),
                            clientCertificate: clientCertificate ? pki.path("device.crt") : nil,
                            clientKey: clientCertificate ? pki.path("device.key") : nil,
                            pinnedPublicKey: pin, connectTimeout: 5, totalTimeout: 20))
    }

    func reason(_ body: () throws -> Void) -> SyncFailure.Reason? {
        do { try body(); return nil } catch { return (error as? SyncFailure)?.reason }
    }

    @Test("fetches over HTTP/2 with the device certificate; a repeated GET with the ETag is 304")
    func fetchAndConditional() throws {
        defer { try? FileManager.default.removeItem(at: dir) }
        let nginx = try NginxTLS(pki: pki)
        defer { nginx.stop() }
        let body = Data((0..<10_000).map { UInt8($0 % 251) })
        try nginx.serve(body, as: "manifest.json")
        let url = "https://127.0.0.1:\(nginx.port)/manifest.json"
        let first = try transport().get(url, maxBytes: 1 << 20)
        #expect(first.status == 200)
        #expect(first.body == body)
        #expect(first.httpVersion == "2")
        let etag = try #require(first.etag)
        let second = try transport().get(url, maxBytes: 1 << 20, ifNoneMatch: etag)
        #expect(second.notModified)
        #expect(second.body.isEmpty)
    }

    @Test("a body longer than allowed is cut off: too-large")
    func byteCap() throws {
        defer { try? FileManager.default.removeItem(at: dir) }
        let nginx = try NginxTLS(pki: pki)
        defer { nginx.stop() }
        try nginx.serve(Data(count: 200_000), as: "big.bin")
        #expect(reason { _ = try transport().get("https://127.0.0.1:\(nginx.port)/big.bin", maxBytes: 1_000) } == .tooLarge)
    }

    @Test("a server certificate from another CA is a tls failure")
    func rogueServer() throws {
        defer { try? FileManager.default.removeItem(at: dir) }
        let nginx = try NginxTLS(pki: pki, serverName: "rogue-server")
        defer { nginx.stop() }
        try nginx.serve(Data("x".utf8), as: "manifest.json")
        #expect(reason { _ = try transport().get("https://127.0.0.1:\(nginx.port)/manifest.json", maxBytes: 1_000) } == .tls)
    }

    @Test("without a client certificate nginx refuses to serve")
    func noClientCertificate() throws {
        defer { try? FileManager.default.removeItem(at: dir) }
        let nginx = try NginxTLS(pki: pki)
        defer { nginx.stop() }
        try nginx.serve(Data("secret".utf8), as: "manifest.json")
        let response = try transport(clientCertificate: false).get("https://127.0.0.1:\(nginx.port)/manifest.json", maxBytes: 10_000)
        #expect(response.status == 400)
        #expect(response.body != Data("secret".utf8))
    }

    @Test("a wrong public-key pin is a tls failure; nothing listening is a network failure")
    func pinAndNetwork() throws {
        defer { try? FileManager.default.removeItem(at: dir) }
        let nginx = try NginxTLS(pki: pki)
        defer { nginx.stop() }
        try nginx.serve(Data("x".utf8), as: "m")
        let wrongPin = "sha256//" + Data(count: 32).base64EncodedString()
        #expect(reason { _ = try transport(pin: wrongPin).get("https://127.0.0.1:\(nginx.port)/m", maxBytes: 100) } == .tls)
        let closed = try LoopbackPort.free()
        #expect(reason { _ = try transport().get("https://127.0.0.1:\(closed)/m", maxBytes: 100) } == .network)
    }

    @Test("an interrupted download resumes by Range; length and SHA-256 are checked")
    func resume() throws {
        defer { try? FileManager.default.removeItem(at: dir) }
        let nginx = try NginxTLS(pki: pki)
        defer { nginx.stop() }
        let content = Data((0..<300_000).map { UInt8(($0 * 7) % 256) })
        try nginx.serve(content, as: "snapshot.csv.gz")
        let partial = dir.appendingPathComponent("snapshot.partial")
        try content.prefix(100_000).write(to: partial)
        let hash = try SHA256Hex.of(fileAt: { let u = dir.appendingPathComponent("full"); try content.write(to: u); return u }())
        let url = "https://127.0.0.1:\(nginx.port)/snapshot.csv.gz"
        let result = try transport().download(url, to: partial, expectedLength: 300_000, expectedSHA256: hash)
        #expect(result == .init(resumedFrom: 100_000, fetched: 200_000))
        #expect(try Data(contentsOf: partial) == content)
        // Already complete: nothing is fetched again.
        #expect(try transport().download(url, to: partial, expectedLength: 300_000, expectedSHA256: hash).fetched == 0)
    }

    @Test("a file longer, shorter or other than the manifest says is refused with its reason")
    func downloadAttacks() throws {
        defer { try? FileManager.default.removeItem(at: dir) }
        let nginx = try NginxTLS(pki: pki)
        defer { nginx.stop() }
        let content = Data(repeating: 0x41, count: 50_000)
        try nginx.serve(content, as: "d.gz")
        let url = "https://127.0.0.1:\(nginx.port)/d.gz"
        let good = try SHA256Hex.of(fileAt: { let u = dir.appendingPathComponent("good"); try content.write(to: u); return u }())
        let partial = dir.appendingPathComponent("d.partial")
        // Server sends more than stated: cut off, nothing kept.
        #expect(reason { _ = try transport().download(url, to: partial, expectedLength: 40_000, expectedSHA256: good) } == .tooLarge)
        #expect(!FileManager.default.fileExists(atPath: partial.path))
        // Server sends less than stated: truncated, the part kept for a later resume.
        #expect(reason { _ = try transport().download(url, to: partial, expectedLength: 60_000, expectedSHA256: good) } == .truncated)
        #expect((try? Data(contentsOf: partial).count) == 50_000)
        try? FileManager.default.removeItem(at: partial)
        // Right length, wrong bytes: hash mismatch, nothing kept.
        let other = String(repeating: "0", count: 64)
        #expect(reason { _ = try transport().download(url, to: partial, expectedLength: 50_000, expectedSHA256: other) } == .hashMismatch)
        #expect(!FileManager.default.fileExists(atPath: partial.path))
    }
}
