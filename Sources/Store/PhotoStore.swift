import FieldWire
import Foundation
import Synchronization
import Watchlist

/// The terminal's photo cache beside lists.db: `photos/<sha256>.jpg`, each file named by
/// the SHA-256 of its bytes, within a byte budget (`[photos] budget_mb`). A photo enters
/// only from a verified download (`admit`), and its bytes are checked against its name
/// again every time it is read (`photo`), so a file changed on disk is never served: it is
/// removed instead. Partial downloads wait beside it as `<sha256>.part`.
public final class PhotoStore: Sendable {
    public let directory: URL
    public let budgetBytes: Int64
    /// sha256 → bytes of every verified photo on disk.
    private let held: Mutex<[String: Int64]>

    /// Opens (creating) `photos/` in `state`; partial files are kept for their resume.
    public init(state: StateDirectory, budgetBytes: Int64) throws {
        directory = state.url.appendingPathComponent("photos", isDirectory: true)
        self.budgetBytes = budgetBytes
        held = Mutex([:])
        try prepare()
        var found: [String: Int64] = [:]
        for name in (try? FileManager.default.contentsOfDirectory(atPath: directory.path)) ?? [] where name.hasSuffix(".jpg") {
            let sha = String(name.dropLast(4))
            guard PhotoReference.isSHA256(sha) else { continue }
            found[sha] = (try? FileManager.default.attributesOfItem(atPath: directory.appendingPathComponent(name).path)[.size] as? Int64) ?? 0
        }
        held.withLock { $0 = found }
    }

    /// Creates `photos/` when it is not there (a lists wipe removes it).
    public func prepare() throws {
        do {
            try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true, attributes: [.posixPermissions: 0o700])
        } catch {
            throw StoreError(.unreadable, "cannot create \(directory.path): \(error.localizedDescription)")
        }
    }

    public func contains(_ sha256: String) -> Bool { held.withLock { $0[sha256] != nil } }

    public var count: Int { held.withLock { $0.count } }
    public var all: Set<String> { held.withLock { Set($0.keys) } }

    /// What `status` says of the cache.
    public var status: PhotoStatus {
        held.withLock { PhotoStatus(held: $0.count, bytes: $0.values.reduce(0, +), budgetBytes: budgetBytes) }
    }

    /// Where a download of `sha256` accumulates.
    public func partialURL(_ sha256: String) -> URL { directory.appendingPathComponent("\(sha256).part") }

    func fileURL(_ sha256: String) -> URL { directory.appendingPathComponent("\(sha256).jpg") }

    /// Takes a verified download (its SHA-256 checked against `sha256` by the caller, and
    /// again here) into the store.
    /// - Throws: `StoreError(.digestMismatch)` when the file's bytes are not `sha256`.
    public func admit(_ sha256: String, from partial: URL) throws {
        let data = try Data(contentsOf: partial)
        guard SHA256Hex.of(data) == sha256 else {
            try? FileManager.default.removeItem(at: partial)
            throw StoreError(.digestMismatch, "photo \(sha256.prefix(12))…: the bytes do not match the name")
        }
        guard rename(partial.path, fileURL(sha256).path) == 0 else {
            throw StoreError(.database, "cannot move the photo into place: \(String(cString: strerror(errno)))")
        }
        held.withLock { $0[sha256] = Int64(data.count) }
    }

    /// The photo's bytes, checked against its name; nil when it is not on the device. A file
    /// whose bytes no longer match is removed and reported as absent.
    public func photo(_ sha256: String) -> Data? {
        guard contains(sha256), let data = FileManager.default.contents(atPath: fileURL(sha256).path) else { return nil }
        guard SHA256Hex.of(data) == sha256 else {
            remove(sha256)
            return nil
        }
        return data
    }

    /// Forgets every photo: the lists were wiped (the files went with them).
    public func forgetAll() {
        held.withLock { $0.removeAll() }
    }

    public func remove(_ sha256: String) {
        unlink(fileURL(sha256).path)
        unlink(partialURL(sha256).path)
        held.withLock { _ = $0.removeValue(forKey: sha256) }
    }

    /// Keeps the photos of `plan` (in its order) that fit the budget and removes the rest:
    /// photos whose record was deleted, and the lowest-priority ones past the budget.
    /// `pinned` photos (fetched for a hit) held and still planned are kept past the budget,
    /// and their bytes count first. Partial downloads not in the kept part go too.
    /// - Returns: the planned photos that fit the budget (held or still to fetch), in order;
    ///   kept pinned photos are not among them.
    @discardableResult
    public func retain(plan: [PhotoReference], pinned: Set<String> = []) -> [PhotoReference] {
        let planned = Set(plan.map(\.sha256))
        let keptPinned = held.withLock { held in pinned.filter { held[$0] != nil && planned.contains($0) } }
        var fitting: [PhotoReference] = []
        var total: Int64 = held.withLock { held in keptPinned.reduce(0) { $0 + (held[$1] ?? 0) } }
        var seen = keptPinned
        for photo in plan where seen.insert(photo.sha256).inserted {
            guard total + Int64(photo.bytes) <= budgetBytes else { continue }
            total += Int64(photo.bytes)
            fitting.append(photo)
        }
        let keep = Set(fitting.map(\.sha256)).union(keptPinned)
        for sha in all where !keep.contains(sha) { remove(sha) }
        for name in (try? FileManager.default.contentsOfDirectory(atPath: directory.path)) ?? [] where name.hasSuffix(".part") {
            if !keep.contains(String(name.dropLast(5))) { unlink(directory.appendingPathComponent(name).path) }
        }
        return fitting
    }
}

/// The photo cache in `status`.
public struct PhotoStatus: Codable, Sendable, Equatable {
    /// Verified photos on the device, and their bytes.
    public var held: Int
    public var bytes: Int64
    /// `[photos] budget_mb`, in bytes.
    public var budgetBytes: Int64

    public init(held: Int, bytes: Int64, budgetBytes: Int64) {
        (self.held, self.bytes, self.budgetBytes) = (held, bytes, budgetBytes)
    }
}
