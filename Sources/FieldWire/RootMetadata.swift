import Crypto
import Foundation

/// The root of trust: which keys may sign roots and manifests, how many must, until when.
/// The device ships with one trusted root; a new root must be signed by a threshold of the
/// old root's root keys and of its own (TUF's rotation rule), with the next version number.
public struct RootMetadata: Codable, Sendable, Equatable {
    public struct Role: Codable, Sendable, Equatable {
        public var keyids: [String]
        public var threshold: Int

        public init(keyids: [String], threshold: Int) {
            self.keyids = keyids
            self.threshold = threshold
        }
    }

    public var version: Int64
    /// Unix seconds.
    public var expires: Int64
    /// Key id → raw Ed25519 public key, base64.
    public var keys: [String: String]
    public var root: Role
    public var manifest: Role
    /// Who may sign lock and wipe orders (docs/sync-protocol.md, "Orders"). A root without
    /// it makes every order refused (`order.no-role`).
    public var orders: Role?
    /// Set by a center that must undo a manifest sequence pushed too high (a compromised
    /// manifest key publishing sequence 10^12): a terminal that rotates to this root trusts
    /// manifests from this sequence on again. Signed by the old root's keys like the rest
    /// of the root, so only the holders of the root keys can lower the floor.
    public var resetManifestSequence: Int64?

    public init(version: Int64, expires: Int64, rootKeys: [Curve25519.Signing.PublicKey], rootThreshold: Int,
                manifestKeys: [Curve25519.Signing.PublicKey], manifestThreshold: Int,
                orderKeys: [Curve25519.Signing.PublicKey] = [], orderThreshold: Int = 1) {
        self.version = version
        self.expires = expires
        var keys: [String: String] = [:]
        for key in rootKeys + manifestKeys + orderKeys { keys[SigningKey.keyID(key)] = key.rawRepresentation.base64EncodedString() }
        self.keys = keys
        root = Role(keyids: rootKeys.map(SigningKey.keyID), threshold: rootThreshold)
        manifest = Role(keyids: manifestKeys.map(SigningKey.keyID), threshold: manifestThreshold)
        orders = orderKeys.isEmpty ? nil : Role(keyids: orderKeys.map(SigningKey.keyID), threshold: orderThreshold)
    }

    /// The public keys of a role.
    public func publicKeys(_ role: Role) throws -> [String: Curve25519.Signing.PublicKey] {
        var result: [String: Curve25519.Signing.PublicKey] = [:]
        for id in role.keyids {
            guard let b64 = keys[id], let raw = Data(base64Encoded: b64),
                  let key = try? Curve25519.Signing.PublicKey(rawRepresentation: raw), SigningKey.keyID(key) == id else {
                throw SyncFailure(.badFormat, "root \(version): key \(id) missing or not an Ed25519 key with that id")
            }
            result[id] = key
        }
        return result
    }

    /// How a document of one role (orders, bulletins) is signed, as its verifier tells apart
    /// a forgery from a document signed by a key of the wrong role.
    public enum RoleSignature: Sendable, Equatable {
        /// By at least the role's threshold of its keys.
        case valid
        /// Not by enough of the role's keys, but validly by a key of another role of this root.
        case otherRole
        /// By none of this root's keys that matter.
        case invalid
    }

    /// Whether `envelope` is signed by `role`'s keys, or else by another role's.
    /// - Throws: `SyncFailure` when the role's keys cannot be read.
    public func signature(of envelope: SignedEnvelope, by role: Role) throws -> RoleSignature {
        if envelope.validSigners(among: try publicKeys(role)).count >= max(1, role.threshold) { return .valid }
        var others: [String: Curve25519.Signing.PublicKey] = [:]
        for other in [root, manifest] + (orders.map { [$0] } ?? []) where other != role {
            others.merge((try? publicKeys(other)) ?? [:]) { a, _ in a }
        }
        return envelope.validSigners(among: others).isEmpty ? .invalid : .otherRole
    }

    /// Checks the structure a verifier relies on.
    public func validate() throws {
        guard version > 0 else { throw SyncFailure(.badFormat, "root version must be positive") }
        for (name, role) in [("root", root), ("manifest", manifest)] + (orders.map { [("orders", $0)] } ?? []) {
            guard role.threshold >= 1, role.threshold <= role.keyids.count, Set(role.keyids).count == role.keyids.count else {
                throw SyncFailure(.badFormat, "root \(version): \(name) role needs 1…\(role.keyids.count) distinct keys")
            }
        }
        _ = try publicKeys(root)
        _ = try publicKeys(manifest)
        if let orders { _ = try publicKeys(orders) }
    }

    /// The root in a self-signed envelope — one the device is provisioned with, or the
    /// center's own root.json — after checking its structure and its own signatures.
    public static func selfSigned(_ envelope: SignedEnvelope) throws -> RootMetadata {
        let root = try decode(envelope)
        try root.validate()   // before its keys are used to check its own signature
        _ = try envelope.verifiedPayload(type: SignedEnvelope.rootType, keys: root.publicKeys(root.root), threshold: root.root.threshold)
        return root
    }

    /// The root an envelope carries, unverified.
    public static func decode(_ envelope: SignedEnvelope) throws -> RootMetadata {
        guard envelope.payloadType == SignedEnvelope.rootType, let bytes = Data(base64Encoded: envelope.payload) else {
            throw SyncFailure(.badFormat, "not a root document")
        }
        do {
            return try WireJSON.decode(RootMetadata.self, from: bytes)
        } catch {
            throw SyncFailure(.badFormat, "root: \(error)")
        }
    }

    public func signed(by keys: [SigningKey]) throws -> SignedEnvelope {
        try SignedEnvelope(payloadType: SignedEnvelope.rootType, payload: WireJSON.encode(self), signers: keys)
    }
}
