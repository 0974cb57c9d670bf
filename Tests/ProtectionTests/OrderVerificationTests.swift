import Crypto
import FieldWire
import Foundation
import Testing

/// `TerminalOrder.verify`: each refusal has its own code, checked in the documented order.
@Suite struct OrderVerificationTests {
    let rootKey = SigningKey(), manifestKey = SigningKey(), ordersKey = SigningKey()
    let now: Int64 = 1_800_000_000
    var root: RootMetadata {
        RootMetadata(version: 1, expires: now + 86_400, rootKeys: [rootKey.publicKey], rootThreshold: 1,
                     manifestKeys: [manifestKey.publicKey], manifestThreshold: 1, orderKeys: [ordersKey.publicKey])
    }
    let me = TerminalOrder.Recipient(unit: "TPE-DA-01", certificateSHA256: String(repeating: "ab", count: 32), lastSequence: 4)

    func order(_ kind: TerminalOrder.Kind = .lock, unit: String = "TPE-DA-01", certificate: String? = nil, sequence: Int64 = 5,
               expiresIn: Int64 = 3_600) -> TerminalOrder {
        TerminalOrder(kind: kind, unit: unit, certificateSHA256: certificate, sequence: sequence, issuedAt: now - 60, expiresAt: now + expiresIn)
    }

    func code(_ envelope: SignedEnvelope, root: RootMetadata? = nil) -> String? {
        do {
            _ = try TerminalOrder.verify(envelope, root: root ?? self.root, recipient: me, now: now)
            return nil
        } catch let refusal as OrderRefusal {
            return refusal.code.rawValue
        } catch {
            return "\(error)"
        }
    }

    @Test("an order signed by the orders key, for this unit and certificate, newer and unexpired, is accepted")
    func accepted() throws {
        let good = order(.wipeAll, certificate: String(repeating: "AB", count: 32))
        let verified = try TerminalOrder.verify(good.signed(by: [ordersKey]), root: root, recipient: me, now: now)
        #expect(verified == good)
    }

    @Test("forged, wrong role, no role, other unit, other certificate, replayed, expired: each its own code")
    func refusals() throws {
        #expect(code(try order().signed(by: [SigningKey()])) == "order.bad-signature")
        #expect(code(try order().signed(by: [manifestKey])) == "order.wrong-role")
        #expect(code(try order().signed(by: [rootKey])) == "order.wrong-role")
        var roleless = root
        roleless.orders = nil
        #expect(code(try order().signed(by: [ordersKey]), root: roleless) == "order.no-role")
        #expect(code(try order(unit: "KHH-ZY-07").signed(by: [ordersKey])) == "order.other-unit")
        #expect(code(try order(certificate: String(repeating: "cd", count: 32)).signed(by: [ordersKey])) == "order.other-certificate")
        #expect(code(try order(sequence: 4).signed(by: [ordersKey])) == "order.replayed")
        #expect(code(try order(sequence: 1).signed(by: [ordersKey])) == "order.replayed")
        #expect(code(try order(expiresIn: -1).signed(by: [ordersKey])) == "order.expired")
        // Another document type signed by the orders key is not an order.
        let manifest = try SignedEnvelope(payloadType: SignedEnvelope.manifestType, payload: Data("{}".utf8), signers: [ordersKey])
        #expect(code(manifest) == "order.bad-format")
    }

    @Test("a payload altered after signing is a bad signature, not an order for what it now says")
    func tampered() throws {
        var envelope = try order(.lock).signed(by: [ordersKey])
        envelope.payload = try WireJSON.encode(order(.wipeAll)).base64EncodedString()
        #expect(code(envelope) == "order.bad-signature")
    }

    @Test("the certificate fingerprint is the SHA-256 of the PEM's DER, as openssl prints it")
    func fingerprint() throws {
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("fp-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: dir) }
        let key = dir.appendingPathComponent("k.pem").path, cert = dir.appendingPathComponent("c.pem").path
        #expect(shell("openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -keyout \(key) -out \(cert) -days 1 -subj /CN=unit-TPE-DA-01 2>/dev/null") != nil)
        let oracle = shell("openssl x509 -in \(cert) -outform der | sha256sum")?.split(separator: " ").first.map(String.init)
        let pem = try #require(FileManager.default.contents(atPath: cert))
        #expect(CertificateFingerprint.sha256(pem: pem) == oracle)
        #expect(CertificateFingerprint.sha256(pem: Data("not a certificate".utf8)) == nil)
    }

    private func shell(_ command: String) -> String? {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/bin/sh")
        process.arguments = ["-c", command]
        let pipe = Pipe()
        process.standardOutput = pipe
        guard (try? process.run()) != nil else { return nil }
        let out = pipe.fileHandleForReading.readDataToEndOfFile()
        process.waitUntilExit()
        return process.terminationStatus == 0 ? String(decoding: out, as: UTF8.self) : nil
    }
}
