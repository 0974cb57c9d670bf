import FieldWire
import Foundation

/// The center's signing keys in a key directory: `root.key`, `manifest.key` and `orders.key`
/// (raw Ed25519 private keys, base64, mode 0600) and `root.json`, the self-signed root
/// version 1 that terminals are provisioned with (public keys only). The orders key signs
/// lock and wipe orders: a role of its own, so a leaked manifest key cannot wipe a fleet.
public struct CentralKeys {
    public static let rootKeyFile = "root.key"
    public static let manifestKeyFile = "manifest.key"
    public static let ordersKeyFile = "orders.key"
    public static let rootFile = "root.json"

    public let rootKey: SigningKey
    public let manifestKey: SigningKey
    public let ordersKey: SigningKey

    /// Creates new keys and root.json in `directory`. Refuses to overwrite existing keys:
    /// losing a root key means re-provisioning every terminal.
    @discardableResult
    public static func initialise(in directory: URL, now: Int64, validFor: Int64) throws -> CentralKeys {
        let fm = FileManager.default
        for name in [rootKeyFile, manifestKeyFile, ordersKeyFile, rootFile] where fm.fileExists(atPath: directory.appendingPathComponent(name).path) {
            throw CentralError("\(directory.appendingPathComponent(name).path) exists; keys are never overwritten (move them away first)")
        }
        try fm.createDirectory(at: directory, withIntermediateDirectories: true, attributes: [.posixPermissions: 0o700])
        let keys = CentralKeys(rootKey: SigningKey(), manifestKey: SigningKey(), ordersKey: SigningKey())
        try writeSecret(keys.rootKey, to: directory.appendingPathComponent(rootKeyFile))
        try writeSecret(keys.manifestKey, to: directory.appendingPathComponent(manifestKeyFile))
        try writeSecret(keys.ordersKey, to: directory.appendingPathComponent(ordersKeyFile))
        let root = RootMetadata(version: 1, expires: now + validFor, rootKeys: [keys.rootKey.publicKey], rootThreshold: 1,
                                manifestKeys: [keys.manifestKey.publicKey], manifestThreshold: 1,
                                orderKeys: [keys.ordersKey.publicKey])
        try WireJSON.encode(root.signed(by: [keys.rootKey])).write(to: directory.appendingPathComponent(rootFile), options: .atomic)
        return keys
    }

    /// Where rotated roots are kept, `roots/<version>.root.json`, for `publish` to serve.
    public static let rootsDirectory = "roots"

    /// Rotates every key: a new root version listing new root, manifest and orders keys, signed by
    /// the old root key (so terminals accept it) and the new one. The old keys move to
    /// `retired/`; `root.json` becomes the new root (for terminals provisioned from now on).
    /// - Returns: the new root's version.
    @discardableResult
    /// With `resetManifestSequence`, terminals that rotate to the new root trust manifests
    /// from that sequence on again (undoing a sequence a compromised manifest key pushed up).
    public static func rotate(in directory: URL, now: Int64, validFor: Int64, resetManifestSequence: Int64? = nil) throws -> Int64 {
        let fm = FileManager.default
        let old = try load(from: directory)
        let rootURL = directory.appendingPathComponent(rootFile)
        guard let data = fm.contents(atPath: rootURL.path),
              let current = try? RootMetadata.selfSigned(SignedEnvelope.decode(data)) else {
            throw CentralError("cannot read \(rootURL.path) as a signed root")
        }
        let version = current.version + 1
        let next = CentralKeys(rootKey: SigningKey(), manifestKey: SigningKey(), ordersKey: SigningKey())
        var root = RootMetadata(version: version, expires: now + validFor, rootKeys: [next.rootKey.publicKey], rootThreshold: 1,
                                manifestKeys: [next.manifestKey.publicKey], manifestThreshold: 1,
                                orderKeys: [next.ordersKey.publicKey])
        root.resetManifestSequence = resetManifestSequence
        let envelope = try WireJSON.encode(root.signed(by: [old.rootKey, next.rootKey]))
        let roots = directory.appendingPathComponent(rootsDirectory, isDirectory: true)
        let retired = directory.appendingPathComponent("retired", isDirectory: true)
        for dir in [roots, retired] { try fm.createDirectory(at: dir, withIntermediateDirectories: true, attributes: [.posixPermissions: 0o700]) }
        try envelope.write(to: roots.appendingPathComponent("\(version).root.json"), options: .atomic)
        try writeSecret(old.rootKey, to: retired.appendingPathComponent("root-\(version - 1).key"))
        try writeSecret(old.manifestKey, to: retired.appendingPathComponent("manifest-\(version - 1).key"))
        try writeSecret(old.ordersKey, to: retired.appendingPathComponent("orders-\(version - 1).key"))
        for name in [rootKeyFile, manifestKeyFile, ordersKeyFile] { try fm.removeItem(at: directory.appendingPathComponent(name)) }
        try writeSecret(next.rootKey, to: directory.appendingPathComponent(rootKeyFile))
        try writeSecret(next.manifestKey, to: directory.appendingPathComponent(manifestKeyFile))
        try writeSecret(next.ordersKey, to: directory.appendingPathComponent(ordersKeyFile))
        try envelope.write(to: rootURL, options: .atomic)
        return version
    }

    /// Loads the keys from `directory`.
    public static func load(from directory: URL) throws -> CentralKeys {
        func read(_ name: String) throws -> SigningKey {
            let url = directory.appendingPathComponent(name)
            guard let text = try? String(contentsOf: url, encoding: .utf8),
                  let raw = Data(base64Encoded: text.trimmingCharacters(in: .whitespacesAndNewlines)) else {
                throw CentralError("cannot read \(url.path) (run `mpolice-central keys init` first)")
            }
            return try SigningKey(rawRepresentation: raw)
        }
        return CentralKeys(rootKey: try read(rootKeyFile), manifestKey: try read(manifestKeyFile), ordersKey: try read(ordersKeyFile))
    }

    private static func writeSecret(_ key: SigningKey, to url: URL) throws {
        let text = key.privateKey.rawRepresentation.base64EncodedString() + "\n"
        guard FileManager.default.createFile(atPath: url.path, contents: Data(text.utf8), attributes: [.posixPermissions: 0o600]) else {
            throw CentralError("cannot write \(url.path)")
        }
    }
}

/// A failure of the reference central's commands.
public struct CentralError: Error, CustomStringConvertible {
    public let description: String
    public init(_ description: String) { self.description = description }
}
