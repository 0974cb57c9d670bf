import Foundation

/// The agent's state directory (default /var/lib/mpolice): `lists.db`, re-fetchable from
/// the center, and `journal.db`, which must never lose a record.
public struct StateDirectory: Sendable {
    public let url: URL

    public init(path: String) {
        url = URL(fileURLWithPath: path, isDirectory: true)
    }

    public var listsPath: String { url.appendingPathComponent("lists.db").path }
    public var journalPath: String { url.appendingPathComponent("journal.db").path }
    /// Where the generator writes the bulk CSV data set.
    public var datasetURL: URL { url.appendingPathComponent("dataset", isDirectory: true) }

    /// Creates the directory (mode 0750) when missing.
    public func create() throws {
        do {
            try FileManager.default.createDirectory(at: url, withIntermediateDirectories: true,
                                                    attributes: [.posixPermissions: 0o750])
        } catch {
            throw StoreError(.unreadable, "cannot create state directory \(url.path): \(error.localizedDescription)")
        }
    }

    /// Throws `notFound` unless the directory holds a lists database.
    public func requireLists() throws {
        var isDirectory: ObjCBool = false
        guard FileManager.default.fileExists(atPath: url.path, isDirectory: &isDirectory), isDirectory.boolValue else {
            throw StoreError(.notFound, "state directory \(url.path) does not exist")
        }
        guard FileManager.default.fileExists(atPath: listsPath) else {
            throw StoreError(.notFound, "no lists database in \(url.path) (expected lists.db; generate one with `mpolice-central generate --out \(url.path)`)")
        }
    }
}
