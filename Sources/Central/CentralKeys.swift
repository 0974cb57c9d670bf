import FieldSync
import Foundation

/// The center's signing keys in a key directory: `root.key` and `manifest.key` (raw Ed25519
/// private keys, base64, mode 0600) and `root.json`, the self-signed root version 1 that
/// terminals are provisioned with (public keys only).
public struct CentralKeys {
    public static let rootKeyFile = "root.key"
    public static let manifestKeyFile = "manifest.key"
    public static let rootFile = "root.json"

    public let rootKey: SigningKey
    public let manifestKey: SigningKey

    /// Creates new keys and root.json in `directory`. Refuses to overwrite existing keys:
    /// losing a root key means re-provisioning every terminal.
    @discardableResult
    public static func initialise(in directory: URL, now: Int64, validFor: Int64) throws -> CentralKeys {
        let fm = FileManager.default
        for name in [rootKeyFile, manifestKeyFile, rootFile] where fm.fileExists(atPath: directory.appendingPathComponent(name).path) {
            throw CentralError("\(directory.appendingPathComponent(name).path) exists; keys are never overwritten (move them away first)")
        }
        try fm.createDirectory(at: directory, withIntermediateDirectories: true, attributes: [.posixPermissions: 0o700])
        let keys = CentralKeys(rootKey: SigningKey(), manifestKey: SigningKey())
        try writeSecret(keys.rootKey, to: directory.appendingPathComponent(rootKeyFile))
        try writeSecret(keys.manifestKey, to: directory.appendingPathComponent(manifestKeyFile))
        let root = RootMetadata(version: 1, expires: now + validFor, rootKeys: [keys.rootKey.publicKey], rootThreshold: 1,
                                manifestKeys: [keys.manifestKey.publicKey], manifestThreshold: 1)
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.prettyPrinted, .sortedKeys]
        try encoder.encode(root.signed(by: [keys.rootKey])).write(to: directory.appendingPathComponent(rootFile), options: .atomic)
        return keys
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
        return CentralKeys(rootKey: try read(rootKeyFile), manifestKey: try read(manifestKeyFile))
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
