import Crypto
import Foundation
import Watchlist
import _CryptoExtras

/// The PIN verifier an officer-roster record carries (docs/sync-protocol.md, "The officer
/// roster"): `scrypt$<log2 N>$<r>$<p>$<salt>$<hash>`, salt and hash in base64.
///
/// scrypt (RFC 7914) from swift-crypto's BoringSSL, which the package already links for
/// signatures: memory-hard, so a stolen roster costs an attacker memory as well as time per
/// guess. The derivation gives 64 bytes: the first 32 are compared with `hash` in constant
/// time, the last 32 are the key that seals the officer's TOTP secret — the secret opens only
/// with the right PIN, on whichever terminal.
public struct PINVerifier: Sendable, Equatable, CustomStringConvertible {
    public struct Cost: Sendable, Equatable {
        public var logN: Int
        public var r: Int
        public var p: Int

        /// N = 2^15, r = 8, p = 1: 32 MiB and about 100 ms per derivation on the reference
        /// machine (`make bench`: `signin_p99_ms`, goal ≤ 300 ms).
        public static let standard = Cost(logN: 15, r: 8, p: 1)
        /// What a terminal accepts: not cheaper than 16 MiB, not more than 256 MiB.
        public static let accepted: (logN: ClosedRange<Int>, r: ClosedRange<Int>, p: ClosedRange<Int>) = (14...18, 8...16, 1...2)

        public init(logN: Int, r: Int, p: Int) { (self.logN, self.r, self.p) = (logN, r, p) }
    }

    public let cost: Cost
    public let salt: [UInt8]
    public let hash: [UInt8]

    public static let saltBytes = 16
    static let hashBytes = 32

    /// - Throws: `CredentialError.verifier` for anything but a well-formed verifier within
    ///   the accepted cost.
    public init(parsing text: String) throws(CredentialError) {
        let parts = text.split(separator: "$", omittingEmptySubsequences: false)
        guard parts.count == 6, parts[0] == "scrypt" else {
            throw CredentialError(.verifier, "PIN verifier: expected scrypt$logN$r$p$salt$hash")
        }
        guard let logN = Int(parts[1]), let r = Int(parts[2]), let p = Int(parts[3]),
              Cost.accepted.logN.contains(logN), Cost.accepted.r.contains(r), Cost.accepted.p.contains(p) else {
            throw CredentialError(.verifier, "PIN verifier: cost outside logN \(Cost.accepted.logN), r \(Cost.accepted.r), p \(Cost.accepted.p)")
        }
        guard let salt = Data(base64Encoded: String(parts[4])), salt.count == Self.saltBytes,
              let hash = Data(base64Encoded: String(parts[5])), hash.count == Self.hashBytes else {
            throw CredentialError(.verifier, "PIN verifier: salt must be \(Self.saltBytes) bytes and hash \(Self.hashBytes), base64")
        }
        (cost, self.salt, self.hash) = (Cost(logN: logN, r: r, p: p), Array(salt), Array(hash))
    }

    private init(cost: Cost, salt: [UInt8], hash: [UInt8]) {
        (self.cost, self.salt, self.hash) = (cost, salt, hash)
    }

    public var description: String {
        "scrypt$\(cost.logN)$\(cost.r)$\(cost.p)$\(Data(salt).base64EncodedString())$\(Data(hash).base64EncodedString())"
    }

    /// The key a verified PIN gives: it opens the officer's sealed second factor.
    public struct SealingKey: Sendable {
        let key: SymmetricKey
    }

    /// A verifier for `pin` with a fresh random salt (or `salt`), and the key that seals the
    /// officer's second factor.
    public static func make(pin: String, salt: [UInt8]? = nil, cost: Cost = .standard) throws -> (verifier: PINVerifier, sealingKey: SealingKey) {
        var generator = SystemRandomNumberGenerator()
        let salt = salt ?? (0..<saltBytes).map { _ in UInt8.random(in: 0...255, using: &generator) }
        let derived = try derive(pin: pin, salt: salt, cost: cost)
        return (PINVerifier(cost: cost, salt: salt, hash: Array(derived.prefix(hashBytes))), SealingKey(key: SymmetricKey(data: derived.suffix(32))))
    }

    /// The sealing key when `pin` is the officer's PIN; nil when it is not.
    public func verify(pin: String) -> SealingKey? {
        guard let derived = try? Self.derive(pin: pin, salt: salt, cost: cost) else { return nil }
        // Constant time: every byte is compared whatever the first difference.
        var difference: UInt8 = 0
        for (a, b) in zip(derived.prefix(Self.hashBytes), hash) { difference |= a ^ b }
        return difference == 0 ? SealingKey(key: SymmetricKey(data: derived.suffix(32))) : nil
    }

    private static func derive(pin: String, salt: [UInt8], cost: Cost) throws -> [UInt8] {
        let key = try KDF.Scrypt.deriveKey(from: Array(pin.utf8), salt: salt, outputByteCount: 64,
                                           rounds: 1 << cost.logN, blockSize: cost.r, parallelism: cost.p)
        return key.withUnsafeBytes { Array($0) }
    }
}

/// Officers' PINs: 6 to 12 digits.
public enum PIN {
    public static func validate(_ pin: String) throws(CredentialError) {
        guard (6...12).contains(pin.utf8.count), pin.utf8.allSatisfy({ $0 >= 0x30 && $0 <= 0x39 }) else {
            throw CredentialError(.pinFormat, "a PIN is 6 to 12 digits")
        }
    }
}

/// A TOTP secret sealed for the roster: `totp:` and base64 of AES-GCM (nonce, ciphertext,
/// tag) under the key the officer's PIN derives, with the officer id as authenticated data
/// (a sealed secret copied to another officer's record does not open).
public enum SealedTOTPSecret {
    public static let prefix = "totp:"

    /// - Parameter nonce: 12 bytes, for reproducible demo data only (a fresh random nonce
    ///   otherwise; a key seals one secret).
    public static func seal(_ secret: [UInt8], officerId: String, key: PINVerifier.SealingKey, nonce: [UInt8]? = nil) throws -> String {
        let box = try AES.GCM.seal(secret, using: key.key, nonce: try nonce.map { try AES.GCM.Nonce(data: $0) },
                                   authenticating: Array(officerId.utf8))
        return prefix + box.combined!.base64EncodedString()
    }

    /// - Throws: `CredentialError.secondFactor` when it is not a sealed secret or does not
    ///   open with `key` for `officerId`.
    public static func open(_ text: String, officerId: String, key: PINVerifier.SealingKey) throws(CredentialError) -> [UInt8] {
        guard text.hasPrefix(prefix), let data = Data(base64Encoded: String(text.dropFirst(prefix.count))),
              let box = try? AES.GCM.SealedBox(combined: data),
              let secret = try? AES.GCM.open(box, using: key.key, authenticating: Array(officerId.utf8)) else {
            throw CredentialError(.secondFactor, "the officer's TOTP secret does not open")
        }
        return Array(secret)
    }

    /// Whether `text` has the sealed form (checked when a roster row is loaded).
    public static func isWellFormed(_ text: String) -> Bool {
        guard text.hasPrefix(prefix), let data = Data(base64Encoded: String(text.dropFirst(prefix.count))) else { return false }
        return data.count > 12 + 16
    }
}

/// RFC 6238 time-based one-time codes: HMAC-SHA1, 30-second steps, 6 digits — what officers'
/// authenticator apps and `oathtool --totp` produce.
public enum TOTP {
    public static let stepSeconds: Int64 = 30
    public static let digits = 6

    public static func step(at unixSeconds: Int64) -> Int64 { unixSeconds / stepSeconds }

    public static func code(secret: [UInt8], step: Int64) -> String {
        var counter = UInt64(bitPattern: step).bigEndian
        let message = withUnsafeBytes(of: &counter) { Array($0) }
        let mac = Array(HMAC<Insecure.SHA1>.authenticationCode(for: message, using: SymmetricKey(data: secret)))
        let offset = Int(mac[mac.count - 1] & 0x0F)
        let binary = (UInt32(mac[offset] & 0x7F) << 24) | (UInt32(mac[offset + 1]) << 16) | (UInt32(mac[offset + 2]) << 8) | UInt32(mac[offset + 3])
        let text = String(binary % 1_000_000)
        return String(repeating: "0", count: digits - text.count) + text
    }

    /// The step whose code `code` is, within `window` steps either side of `unixSeconds`
    /// (clock drift between the terminal and the officer's token); nil when none.
    public static func matchingStep(_ code: String, secret: [UInt8], at unixSeconds: Int64, window: Int64 = 1) -> Int64? {
        guard code.utf8.count == digits, code.utf8.allSatisfy({ $0 >= 0x30 && $0 <= 0x39 }) else { return nil }
        let now = step(at: unixSeconds)
        var found: Int64?
        // Every candidate is computed, so the time taken does not say which one matched.
        for candidate in (now - window)...(now + window) where self.code(secret: secret, step: candidate) == code {
            found = found ?? candidate
        }
        return found
    }
}

/// RFC 4648 base32, the form authenticator apps and `oathtool -b` take secrets in.
public enum Base32 {
    static let alphabet = Array("ABCDEFGHIJKLMNOPQRSTUVWXYZ234567".utf8)

    public static func encode(_ bytes: [UInt8]) -> String {
        var out: [UInt8] = [], buffer = 0, bits = 0
        for byte in bytes {
            buffer = buffer << 8 | Int(byte)
            bits += 8
            while bits >= 5 {
                out.append(alphabet[(buffer >> (bits - 5)) & 31])
                bits -= 5
            }
        }
        if bits > 0 { out.append(alphabet[(buffer << (5 - bits)) & 31]) }
        return String(decoding: out, as: UTF8.self)
    }

    /// Upper or lower case, padding and spaces ignored; nil for any other character.
    public static func decode(_ text: String) -> [UInt8]? {
        var out: [UInt8] = [], buffer = 0, bits = 0
        for c in text.uppercased().utf8 where c != UInt8(ascii: "=") && c != UInt8(ascii: " ") {
            guard let value = alphabet.firstIndex(of: c) else { return nil }
            buffer = (buffer << 5 | value) & 0xFFFF
            bits += 5
            if bits >= 8 {
                out.append(UInt8((buffer >> (bits - 8)) & 0xFF))
                bits -= 8
            }
        }
        return out
    }
}

/// A credential that cannot be used, with a stable code.
public typealias CredentialError = CodedError<CredentialErrorCode>

public enum CredentialErrorCode: String, Sendable {
    case verifier = "credential.verifier"
    case pinFormat = "credential.pin-format"
    case secondFactor = "credential.second-factor"
}
