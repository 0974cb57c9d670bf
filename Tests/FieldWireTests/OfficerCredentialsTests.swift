import FieldWire
import Foundation
import TestSupport
import Testing

/// The roster's credential formats against independent oracles: Python's hashlib.scrypt
/// (OpenSSL) for the PIN verifier, RFC 6238's own test vectors and `oathtool` for TOTP.
@Suite("Officer credentials")
struct OfficerCredentialsTests {
    @Test("a verifier opens with its PIN only, and says so in constant form: scrypt$logN$r$p$salt$hash")
    func verifierRoundTrip() throws {
        let (verifier, _) = try PINVerifier.make(pin: "424242", cost: .init(logN: 14, r: 8, p: 1))
        let text = verifier.description
        #expect(text.hasPrefix("scrypt$14$8$1$"))
        let parsed = try PINVerifier(parsing: text)
        #expect(parsed == verifier)
        #expect(parsed.verify(pin: "424242") != nil)
        #expect(parsed.verify(pin: "424243") == nil)
        #expect(parsed.verify(pin: "") == nil)
    }

    @Test("the verifier's hash is scrypt(PIN, salt, N, r, p) as Python's hashlib computes it")
    func verifierMatchesPython() throws {
        let salt = Array("0123456789abcdef".utf8)
        let (verifier, _) = try PINVerifier.make(pin: "700007", salt: salt, cost: .init(logN: 14, r: 8, p: 1))
        let script = """
            import hashlib, base64
            print(base64.b64encode(hashlib.scrypt(b"700007", salt=b"0123456789abcdef", n=2**14, r=8, p=1, maxmem=64*1024*1024, dklen=64)[:32]).decode())
            """
        let python = try Programs.system("/usr/bin/python3", ["-c", script])
        #expect(python.status == 0, "\(python.stderr)")
        #expect(python.stdout.trimmingCharacters(in: .whitespacesAndNewlines) == Data(verifier.hash).base64EncodedString())
    }

    @Test("malformed verifiers and costs outside the accepted range are refused with the reason", arguments: [
        "bcrypt$14$8$1$AAAAAAAAAAAAAAAAAAAAAA==$AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA=",
        "scrypt$10$8$1$AAAAAAAAAAAAAAAAAAAAAA==$AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA=",
        "scrypt$25$8$1$AAAAAAAAAAAAAAAAAAAAAA==$AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA=",
        "scrypt$15$8$1$AAAA$AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA=",
        "scrypt$15$8$1$AAAAAAAAAAAAAAAAAAAAAA==",
        "",
    ])
    func badVerifiers(text: String) {
        #expect(throws: CredentialError.self) { try PINVerifier(parsing: text) }
    }

    @Test("PINs are 6 to 12 digits")
    func pinFormat() throws {
        try PIN.validate("123456")
        try PIN.validate("123456789012")
        for bad in ["12345", "1234567890123", "12345a", "", "１２３４５６"] {
            #expect(throws: CredentialError.self, "\(bad)") { try PIN.validate(bad) }
        }
    }

    @Test("a sealed TOTP secret opens with the PIN's key for its officer only")
    func sealedSecret() throws {
        let (_, key) = try PINVerifier.make(pin: "700007", cost: .init(logN: 14, r: 8, p: 1))
        let (_, otherKey) = try PINVerifier.make(pin: "700008", cost: .init(logN: 14, r: 8, p: 1))
        let secret = Array("12345678901234567890".utf8)
        let sealed = try SealedTOTPSecret.seal(secret, officerId: "OF-0007", key: key)
        #expect(SealedTOTPSecret.isWellFormed(sealed))
        #expect(try SealedTOTPSecret.open(sealed, officerId: "OF-0007", key: key) == secret)
        #expect(throws: CredentialError.self) { try SealedTOTPSecret.open(sealed, officerId: "OF-0008", key: key) }
        #expect(throws: CredentialError.self) { try SealedTOTPSecret.open(sealed, officerId: "OF-0007", key: otherKey) }
    }

    @Test("TOTP: RFC 6238 appendix B's SHA-1 vectors, as 6 digits")
    func rfcVectors() {
        let secret = Array("12345678901234567890".utf8)
        // The RFC's 8-digit codes, last six digits.
        for (time, code) in [(59, "287082"), (1_111_111_109, "081804"), (1_111_111_111, "050471"), (1_234_567_890, "005924"),
                             (2_000_000_000, "279037"), (20_000_000_000, "353130")] as [(Int64, String)] {
            #expect(TOTP.code(secret: secret, step: TOTP.step(at: time)) == code, "T=\(time)")
        }
    }

    @Test("TOTP: the code oathtool gives now, and one step either side, match; two steps away does not")
    func oathtoolOracle() throws {
        let base32 = "JBSWY3DPEHPK3PXP"
        let secret = try #require(Base32.decode(base32))
        #expect(Base32.encode(secret) == base32)
        let now = Int64(Date().timeIntervalSince1970)
        func oathtool(_ seconds: Int64) throws -> String {
            let run = try Programs.system("/usr/bin/oathtool", ["--totp", "-b", base32, "-N", "@\(seconds)"])
            #expect(run.status == 0, "\(run.stderr)")
            return run.stdout.trimmingCharacters(in: .whitespacesAndNewlines)
        }
        let step = TOTP.step(at: now)
        #expect(TOTP.matchingStep(try oathtool(now), secret: secret, at: now) == step)
        #expect(TOTP.matchingStep(try oathtool(now - 30), secret: secret, at: now) == step - 1)
        #expect(TOTP.matchingStep(try oathtool(now + 30), secret: secret, at: now) == step + 1)
        let far = try oathtool(now - 90)
        if try ![now - 30, now, now + 30].map(oathtool).contains(far) {
            #expect(TOTP.matchingStep(far, secret: secret, at: now) == nil)
        }
        #expect(TOTP.matchingStep("12345", secret: secret, at: now) == nil)
        #expect(TOTP.matchingStep("abcdef", secret: secret, at: now) == nil)
    }
}
