import FieldWire
import Foundation

/// A wipe in progress (`wipe-pending.json` in the state directory): written durably before
/// the first byte is removed, removed after the last. A daemon that finds it at start
/// completes the wipe before it serves anything (docs/operations.md, "A lost terminal").
public struct WipeMark: Codable, Sendable, Equatable {
    public var kind: TerminalOrder.Kind
    public var orderSequence: Int64
    /// Also erase the state partition's LUKS key slots (`wipe-all` with `eraseKeySlots`).
    public var eraseKeySlots: Bool
    /// Unix milliseconds.
    public var startedAt: Int64
    /// The order's envelope (empty for the dead-man timer's wipe): a completed wipe
    /// records its order under it.
    public var envelopeSHA256: String
    /// Where the order came from (`poll`, `file`, `api`, `dead-man`).
    public var source: String
    /// `wipe-all`: whether the acknowledgement reached the center before the journal and
    /// the device key went (nil until the attempt is over).
    public var acknowledged: Bool?

    public init(kind: TerminalOrder.Kind, orderSequence: Int64, eraseKeySlots: Bool, startedAt: Int64, envelopeSHA256: String, source: String,
                acknowledged: Bool? = nil) {
        (self.kind, self.orderSequence, self.eraseKeySlots, self.startedAt) = (kind, orderSequence, eraseKeySlots, startedAt)
        (self.envelopeSHA256, self.source, self.acknowledged) = (envelopeSHA256, source, acknowledged)
    }
}

/// What a completed `wipe-all` leaves (`wiped.json`): the terminal has no journal, no
/// device key, no lists — a technician re-provisions it (docs/operations.md).
public struct WipedRecord: Codable, Sendable, Equatable {
    public var orderSequence: Int64
    /// ISO 8601.
    public var completedAt: String
    /// Whether the center acknowledged the order before the device key went; false means
    /// the acknowledgement was undeliverable.
    public var acknowledged: Bool
    /// Whether the LUKS key slots were handed to the erase helper.
    public var keySlotsErasureRequested: Bool

    public init(orderSequence: Int64, completedAt: String, acknowledged: Bool, keySlotsErasureRequested: Bool) {
        (self.orderSequence, self.completedAt, self.acknowledged, self.keySlotsErasureRequested) = (orderSequence, completedAt, acknowledged, keySlotsErasureRequested)
    }
}

/// What `wipe-all` asks of the erase helper.
public struct EraseRequest: Codable, Sendable, Equatable {
    public var orderSequence: Int64
    public var eraseKeySlots: Bool
}

extension StateDirectory {
    static let wipeMarkFile = "wipe-pending.json"
    static let wipedFile = "wiped.json"
    /// The request the LUKS erase helper unit waits for (`mpolice-erase-keys.path`).
    public static let eraseRequestFile = "erase-key-slots.request"

    var eraseRequestPath: String { url.appendingPathComponent(Self.eraseRequestFile).path }

    /// The wipe in progress, if any.
    /// - Throws: `StoreError.unreadable` for a mark that cannot be read: the caller treats
    ///   it as the widest wipe it could be.
    public func wipeMark() throws -> WipeMark? {
        try readJSON(WipeMark.self, Self.wipeMarkFile)
    }

    /// Writes the mark durably (file and directory synced) before any wiping.
    public func writeWipeMark(_ mark: WipeMark) throws {
        try writeDurably(WireJSON.encode(mark), as: Self.wipeMarkFile)
    }

    public func removeWipeMark() throws {
        unlink(url.appendingPathComponent(Self.wipeMarkFile).path)
        try Self.syncToDisk(url.path, directory: true)
    }

    /// What a completed `wipe-all` left, if it happened.
    public func wipedRecord() throws -> WipedRecord? {
        try readJSON(WipedRecord.self, Self.wipedFile)
    }

    public func writeWipedRecord(_ record: WipedRecord) throws {
        try writeDurably(WireJSON.encode(record), as: Self.wipedFile)
    }

    /// Hands the rest of a `wipe-all` to the erase helper (`mpolice-erase.path`, a root unit
    /// watching for this file): it removes the device key and certificate the hardened
    /// daemon cannot, and with `eraseKeySlots` erases the LUKS key slots of
    /// `security.luks_device` — a device it reads from the configuration, never from here.
    public func requestKeySlotErasure(orderSequence: Int64, eraseKeySlots: Bool) throws {
        try writeDurably(WireJSON.encode(EraseRequest(orderSequence: orderSequence, eraseKeySlots: eraseKeySlots)), as: Self.eraseRequestFile)
    }

    /// The erase helper's request, if one is waiting.
    public func eraseRequest() throws -> EraseRequest? {
        try readJSON(EraseRequest.self, Self.eraseRequestFile)
    }

    public func removeEraseRequest() {
        unlink(eraseRequestPath)
    }

    /// Removes every lists generation, the `lists.db` link, partial downloads (`sync/`),
    /// cached photos (`photos/`) and a data set left by the generator (`dataset/`), each file
    /// overwritten with zeros first. Idempotent: a wipe
    /// interrupted anywhere is completed by running it again.
    public func wipeListsFiles() throws {
        let names = (try? FileManager.default.contentsOfDirectory(atPath: url.path)) ?? []
        // The link first: from here on no process opens the lists.
        unlink(listsPath)
        unlink(url.appendingPathComponent("\(Self.listsLink).new").path)
        try Self.syncToDisk(url.path, directory: true)
        for name in names.sorted() where name.hasPrefix(Self.generationPrefix) {
            try Self.overwriteAndRemove(url.appendingPathComponent(name).path)
        }
        for directory in ["sync", "photos", "dataset"] {
            let dir = url.appendingPathComponent(directory)
            for name in (try? FileManager.default.contentsOfDirectory(atPath: dir.path)) ?? [] {
                try Self.overwriteAndRemove(dir.appendingPathComponent(name).path)
            }
            rmdir(dir.path)
        }
        try Self.syncToDisk(url.path, directory: true)
    }

    /// Removes journal.db and its companions, overwritten with zeros first.
    public func wipeJournalFiles() throws {
        for suffix in ["", "-wal", "-shm", "-journal"] { try Self.overwriteAndRemove(journalPath + suffix) }
        try Self.syncToDisk(url.path, directory: true)
    }

    /// Overwrites a regular file with zeros (synced), then unlinks it. On flash storage the
    /// old blocks may survive the overwrite; LUKS key erasure is what makes them unreadable.
    public static func overwriteAndRemove(_ path: String) throws {
        var info = stat()
        guard lstat(path, &info) == 0 else { return }
        if (info.st_mode & S_IFMT) == S_IFREG, info.st_size > 0 {
            let fd = open(path, O_WRONLY | O_CLOEXEC | O_NOFOLLOW)
            if fd >= 0 {
                defer { close(fd) }
                let chunk = [UInt8](repeating: 0, count: 1 << 20)
                var left = Int(info.st_size)
                while left > 0 {
                    let n = chunk.withUnsafeBytes { write(fd, $0.baseAddress!, min(left, chunk.count)) }
                    guard n > 0 else { break }
                    left -= n
                }
                fsync(fd)
            }
        }
        guard unlink(path) == 0 || errno == ENOENT else {
            throw StoreError(.database, "cannot remove \(path): \(String(cString: strerror(errno)))")
        }
    }

    private func readJSON<T: Decodable>(_ type: T.Type, _ name: String) throws -> T? {
        let path = url.appendingPathComponent(name).path
        guard let data = FileManager.default.contents(atPath: path) else { return nil }
        do {
            return try WireJSON.decode(type, from: data)
        } catch {
            throw StoreError(.unreadable, "\(path) cannot be read: \(error)")
        }
    }

    private func writeDurably(_ data: Data, as name: String) throws {
        let target = url.appendingPathComponent(name).path
        let temporary = target + ".new"
        let fd = open(temporary, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0o600)
        guard fd >= 0 else { throw StoreError(.database, "cannot write \(temporary): \(String(cString: strerror(errno)))") }
        let written = data.withUnsafeBytes { write(fd, $0.baseAddress!, $0.count) }
        let synced = fsync(fd) == 0
        close(fd)
        guard written == data.count, synced, rename(temporary, target) == 0 else {
            unlink(temporary)
            throw StoreError(.database, "cannot write \(target): \(String(cString: strerror(errno)))")
        }
        try Self.syncToDisk(url.path, directory: true)
    }
}

extension ListsStore {
    /// Stops every lookup (`reason` is what checks are refused with) and removes the lists'
    /// files: the lists part of a wipe. Waits for a sync that is applying to let go of the
    /// writer lock.
    public func wipe(reason: String) throws {
        seal(true)
        current.withLock { $0 = Current(generation: nil, unavailable: reason) }
        var waited = 0
        while true {
            do {
                try Self.withWriterLock(directory) {
                    // No lookup may follow the link to a file being wiped.
                    unlink(directory.listsPath)
                    current.withLock { $0 = Current(generation: nil, unavailable: reason) }
                    try directory.wipeListsFiles()
                }
                return
            } catch let error as StoreError where error.code == .busy && waited < 600 {
                waited += 1
                usleep(100_000)
            }
        }
    }

    /// Refuses (`true`) or allows again every lists update (see `sealed`).
    public func seal(_ sealed: Bool) {
        self.sealed.withLock { $0 = sealed }
    }
}
