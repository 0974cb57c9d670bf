import FieldWire
import Foundation

/// The agent's state directory (default /var/lib/mpolice): `lists.db`, re-fetchable from
/// the center, and `journal.db`, which must never lose a record.
///
/// `lists.db` is a symbolic link to the current lists generation, `lists-<id>.db`. A
/// snapshot is loaded into a new generation file, which is then made current by renaming a
/// new link over the old one: one atomic step, and each generation keeps its own `-wal` and
/// `-shm` files, so connections to the old file finish undisturbed (docs/storage.md).
public struct StateDirectory: Sendable {
    public let url: URL
    /// The link to the current lists generation (read on every check: computed once).
    public let listsPath: String

    public init(path: String) {
        url = URL(fileURLWithPath: path, isDirectory: true)
        listsPath = url.appendingPathComponent(Self.listsLink).path
    }

    public var journalPath: String { url.appendingPathComponent("journal.db").path }
    /// Where the generator writes the bulk CSV data set.
    public var datasetURL: URL { url.appendingPathComponent("dataset", isDirectory: true) }

    static let listsLink = "lists.db"
    static let generationPrefix = "lists-"
    /// Held (flock) by whoever changes the lists: one writer at a time, across processes.
    var listsLockPath: String { url.appendingPathComponent("lists.lock").path }

    /// The current generation's file, or nil when there is no `lists.db` at all (a fresh
    /// directory).
    /// - Throws: `StoreError.unreadable` when `lists.db` is not a link to a generation, or
    ///   names one that does not exist.
    public func currentListsFile() throws -> URL? {
        var info = stat()
        guard lstat(listsPath, &info) == 0 else { return nil }
        guard let target = currentListsName(), !target.contains("/"), target.hasPrefix(Self.generationPrefix) else {
            throw StoreError(.unreadable, "\(listsPath) is not a link to a lists generation (lists-<id>.db); remove it and sync again")
        }
        let file = url.appendingPathComponent(target)
        guard stat(file.path, &info) == 0 else {
            throw StoreError(.unreadable, "\(listsPath) names \(target), which does not exist")
        }
        return file
    }

    /// The name `lists.db` links to (one readlink), or nil when it is no link.
    func currentListsName() -> String? {
        var buffer = [CChar](repeating: 0, count: 256)
        let n = readlink(listsPath, &buffer, buffer.count - 1)
        guard n > 0 else { return nil }
        return String(decoding: buffer.prefix(n).map { UInt8(bitPattern: $0) }, as: UTF8.self)
    }

    /// Whether `lists.db` links to the file named `name` (its UTF-8 bytes): one readlink into
    /// a stack buffer, no allocation — every check asks.
    func listsLinkNames(_ name: [UInt8]) -> Bool {
        withUnsafeTemporaryAllocation(of: CChar.self, capacity: 256) { buffer in
            let n = readlink(listsPath, buffer.baseAddress!, buffer.count)
            guard n == name.count else { return false }
            return name.withUnsafeBytes { memcmp($0.baseAddress!, buffer.baseAddress!, n) == 0 }
        }
    }

    /// A name for a new generation file (not created).
    func newListsFile() -> URL {
        url.appendingPathComponent("\(Self.generationPrefix)\(UUIDv7.make(milliseconds: Int64(Date().timeIntervalSince1970 * 1000))).db")
    }

    /// Makes `file` (in this directory, complete and synced) the current generation: a new
    /// link renamed over `lists.db`, then the directory synced.
    func activate(_ file: URL) throws {
        let temporary = url.appendingPathComponent("\(Self.listsLink).new").path
        unlink(temporary)
        guard symlink(file.lastPathComponent, temporary) == 0, rename(temporary, listsPath) == 0 else {
            throw StoreError(.database, "cannot switch \(listsPath) to \(file.lastPathComponent): \(String(cString: strerror(errno)))")
        }
        try Self.syncToDisk(url.path, directory: true)
    }

    /// Deletes a generation file with its -wal, -shm and -journal companions.
    func removeGeneration(_ file: URL) {
        for suffix in ["", "-wal", "-shm", "-journal"] { unlink(file.path + suffix) }
    }

    /// Deletes generation files other than `current`: left by a load that was interrupted,
    /// or by a swap interrupted before it cleaned up. Only the lists writer calls this.
    func removeStaleGenerations(keeping current: URL?) {
        let names = (try? FileManager.default.contentsOfDirectory(atPath: url.path)) ?? []
        for name in names where name.hasPrefix(Self.generationPrefix) {
            var base = name
            for suffix in ["-wal", "-shm", "-journal"] where base.hasSuffix(suffix) { base.removeLast(suffix.count) }
            if base != current?.lastPathComponent { unlink(url.appendingPathComponent(name).path) }
        }
        unlink(url.appendingPathComponent("\(Self.listsLink).new").path)
    }

    static func syncToDisk(_ path: String, directory: Bool = false) throws {
        let fd = open(path, directory ? O_RDONLY | O_DIRECTORY : O_RDONLY)
        guard fd >= 0 else { throw StoreError(.database, "cannot open \(path) to sync: \(String(cString: strerror(errno)))") }
        defer { close(fd) }
        guard fsync(fd) == 0 else { throw StoreError(.database, "cannot sync \(path): \(String(cString: strerror(errno)))") }
    }

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

extension StateDirectory {
    /// Held for the daemon's lifetime: one `mpoliced` per state directory.
    public final class DaemonClaim: Sendable {
        private let fd: Int32
        init(fd: Int32) { self.fd = fd }
        deinit { close(fd) }
    }

    /// Claims the directory for this daemon (flock on `mpoliced.lock`, released when the
    /// process ends, however it ends).
    /// - Throws: `StoreError.busy` when another daemon holds it.
    public func claimForDaemon() throws -> DaemonClaim {
        let path = url.appendingPathComponent("mpoliced.lock").path
        let fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC, 0o600)
        guard fd >= 0 else { throw StoreError(.unreadable, "cannot open \(path): \(String(cString: strerror(errno)))") }
        guard flock(fd, LOCK_EX | LOCK_NB) == 0 else {
            close(fd)
            throw StoreError(.busy, "another mpoliced is using the state directory \(url.path): stop it first (systemctl stop mpoliced)")
        }
        return DaemonClaim(fd: fd)
    }

    /// Makes this process work as the directory's owner when it is root and the directory
    /// belongs to another user (the daemon's): everything it then creates there — a lists
    /// generation, journal.db, downloads — is the daemon's, mode 0600 like the daemon's own
    /// files, and never root's (a root-owned file there would stop the daemon). Called by the
    /// commands that write into a state directory before they open anything.
    /// - Throws: `StoreError.unreadable` when the switch fails (the command then writes
    ///   nothing).
    public func actAsOwner() throws {
        umask(0o077)
        var info = stat()
        guard geteuid() == 0, stat(url.path, &info) == 0, info.st_uid != 0 else { return }
        let uid = info.st_uid
        var gid = info.st_gid
        var ok: Bool
        if let entry = getpwuid(uid) {
            gid = entry.pointee.pw_gid
            ok = initgroups(entry.pointee.pw_name, gid) == 0
        } else {
            ok = setgroups(0, nil) == 0
        }
        ok = ok && setgid(gid) == 0 && setuid(uid) == 0
        guard ok, getuid() == uid, geteuid() == uid else {
            throw StoreError(.unreadable, "cannot switch to the owner (uid \(uid)) of \(url.path): \(String(cString: strerror(errno))); refusing to write root-owned files the daemon could not use")
        }
    }
}
