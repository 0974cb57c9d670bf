import Crypto
import Foundation

/// A signed document: the payload bytes exactly as signed (base64), their type, and the
/// signatures. The signature covers DSSE's pre-authentication encoding of type and payload,
/// so no JSON canonicalisation is needed and a payload cannot be replayed as another type.
public struct SignedEnvelope: Codable, Sendable, Equatable {
    public struct Signature: Codable, Sendable, Equatable {
        public var keyid: String
        /// Ed25519 signature, base64.
        public var sig: String
    }

    public var payloadType: String
    /// The payload, base64.
    public var payload: String
    public var signatures: [Signature]

    public static let rootType = "application/vnd.mpolice.root+json"
    public static let manifestType = "application/vnd.mpolice.manifest+json"
    public static let orderType = "application/vnd.mpolice.order+json"

    /// Signs `payload` with each key.
    public init(payloadType: String, payload: Data, signers: [SigningKey]) throws {
        self.payloadType = payloadType
        self.payload = payload.base64EncodedString()
        let message = Self.preAuthenticationEncoding(payloadType, payload)
        signatures = try signers.map { Signature(keyid: $0.keyID, sig: try $0.sign(message).base64EncodedString()) }
    }

    /// "DSSEv1 <len(type)> <type> <len(payload)> <payload>".
    static func preAuthenticationEncoding(_ type: String, _ payload: Data) -> Data {
        var data = Data("DSSEv1 \(type.utf8.count) \(type) \(payload.count) ".utf8)
        data.append(payload)
        return data
    }

    /// Decodes an envelope from the bytes a server sent.
    public static func decode(_ data: Data, maxLength: Int = 1 << 20) throws -> SignedEnvelope {
        guard data.count <= maxLength else { throw SyncFailure(.tooLarge, "signed document over \(maxLength) bytes") }
        do {
            return try WireJSON.decode(SignedEnvelope.self, from: data)
        } catch {
            throw SyncFailure(.badFormat, "not a signed document: \(error)")
        }
    }

    /// The payload if at least `threshold` distinct keys among `keys` signed it.
    public func verifiedPayload(type: String, keys: [String: Curve25519.Signing.PublicKey], threshold: Int) throws -> Data {
        guard payloadType == type else {
            throw SyncFailure(.badFormat, "payload type \(payloadType), expected \(type)")
        }
        guard let bytes = Data(base64Encoded: payload) else { throw SyncFailure(.badFormat, "payload is not base64") }
        let valid = validSigners(among: keys, payload: bytes)
        guard threshold > 0, valid.count >= threshold else {
            throw SyncFailure(.badSignature, "\(valid.count) valid signature(s) by trusted keys, \(threshold) required")
        }
        return bytes
    }

    /// The key ids among `keys` whose signature over this envelope holds.
    public func validSigners(among keys: [String: Curve25519.Signing.PublicKey]) -> Set<String> {
        guard let bytes = Data(base64Encoded: payload) else { return [] }
        return validSigners(among: keys, payload: bytes)
    }

    private func validSigners(among keys: [String: Curve25519.Signing.PublicKey], payload bytes: Data) -> Set<String> {
        let message = Self.preAuthenticationEncoding(payloadType, bytes)
        var valid: Set<String> = []
        for signature in signatures {
            guard let key = keys[signature.keyid], let sig = Data(base64Encoded: signature.sig),
                  key.isValidSignature(sig, for: message) else { continue }
            valid.insert(signature.keyid)
        }
        return valid
    }
}

/// An Ed25519 private key with its key id (hex of the first 16 bytes of the SHA-256 of the
/// raw public key).
public struct SigningKey: Sendable {
    public let privateKey: Curve25519.Signing.PrivateKey

    public init() { privateKey = Curve25519.Signing.PrivateKey() }

    public init(rawRepresentation: Data) throws {
        do {
            privateKey = try Curve25519.Signing.PrivateKey(rawRepresentation: rawRepresentation)
        } catch {
            throw SyncFailure(.badFormat, "not an Ed25519 private key")
        }
    }

    public var publicKey: Curve25519.Signing.PublicKey { privateKey.publicKey }
    public var keyID: String { Self.keyID(publicKey) }

    func sign(_ message: Data) throws -> Data { try privateKey.signature(for: message) }

    public static func keyID(_ key: Curve25519.Signing.PublicKey) -> String {
        SHA256.hash(data: key.rawRepresentation).prefix(16).map { String(format: "%02x", $0) }.joined()
    }
}
