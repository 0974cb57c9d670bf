import FieldWire
import Foundation
import Watchlist

/// Publishes a data set as the next signed list version into a directory any static HTTPS
/// server can serve (docs/sync-protocol.md, "Published directory"): per changed list a new
/// snapshot and the delta from its previous version, then a new manifest, written last and
/// atomically so a terminal never sees a manifest naming files that are not there yet.
public struct Publisher {
    public struct Report: Sendable {
        public var manifest: Manifest
        /// Per list that changed: upserts and deletes in its new version (a first version's
        /// records are all upserts). Unchanged lists are absent.
        public var changes: [ListKind: (upserts: Int, deletes: Int)]
    }

    public static let manifestFile = Manifest.path

    public let directory: URL
    public let keysDirectory: URL

    public init(directory: URL, keysDirectory: URL) {
        self.directory = directory
        self.keysDirectory = keysDirectory
    }

    /// The manifest now published, if any (read back without verification: it is our own).
    public func currentManifest() throws -> Manifest? {
        guard let data = FileManager.default.contents(atPath: directory.appendingPathComponent(Self.manifestFile).path) else { return nil }
        let envelope = try SignedEnvelope.decode(data)
        guard let payload = Data(base64Encoded: envelope.payload) else { throw CentralError("\(Self.manifestFile): bad payload") }
        return try WireJSON.decode(Manifest.self, from: payload)
    }

    /// Copies the data set's photos that are not published yet (content-addressed: a name
    /// that exists holds the same bytes). Each file's name is checked against its content,
    /// and written before the manifest that names its record.
    func publishPhotos(from source: URL, progress: ((String) -> Void)?) throws {
        let files = (try? FileManager.default.contentsOfDirectory(atPath: source.path)) ?? []
        guard !files.isEmpty else { return }
        let target = directory.appendingPathComponent(PhotoReference.publishedDirectory, isDirectory: true)
        try FileManager.default.createDirectory(at: target, withIntermediateDirectories: true)
        var copied = 0
        for name in files.sorted() where name.hasSuffix(".jpg") {
            let destination = target.appendingPathComponent(name)
            guard !FileManager.default.fileExists(atPath: destination.path) else { continue }
            let data = try Data(contentsOf: source.appendingPathComponent(name))
            guard SHA256Hex.of(data) + ".jpg" == name else { throw CentralError("photos/\(name): the content does not match its name") }
            try data.write(to: destination, options: .atomic)
            copied += 1
            if copied % 1_000 == 0 { progress?("photos: \(copied) published") }
        }
    }

    /// Publishes the data set in `dataset` as the next version.
    /// - Parameters:
    ///   - keepDeltas: deltas kept per list; a terminal further behind takes the snapshot.
    ///   - center: the uplink database: its unexpired bulletins go into the manifest, and
    ///     its records (what confirmation requests are answered from) are brought to the
    ///     published lists.
    ///   - exceptionsOnly: document lists published with their invalid records only (the
    ///     fleet's terminals are small); the others are published whole.
    @discardableResult
    ///   - catchUpAges: seconds; per age, a catch-up delta from the version that was current
    ///     that long ago (when older than the previous version), and the deltas it is made
    ///     from kept for the longest (docs/sync-protocol.md, "Catch-up deltas").
    public func publish(dataset: URL, now: Int64, validFor: Int64, keepDeltas: Int, center: UplinkDatabase? = nil,
                        exceptionsOnly: Set<ListKind> = [], catchUpAges: [Int64] = Self.defaultCatchUpAges,
                        progress: ((String) -> Void)? = nil) throws -> Report {
        for list in exceptionsOnly where ListSchema.of(list).document == nil {
            throw CentralError("\(list.rawValue) is not a document list: only registrations and licences can be published as exceptions only")
        }
        let keys = try CentralKeys.load(from: keysDirectory)
        let previous = try currentManifest()
        var history = try readHistory()
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        var lists: [ListKind: Manifest.List] = [:]
        var changes: [ListKind: (upserts: Int, deletes: Int)] = [:]
        for list in ListKind.allCases where Dataset.holds(list, in: dataset) {
            progress?("\(list.rawValue): reading the data set")
            let schema = ListSchema.of(list)
            let mode: ListMode = exceptionsOnly.contains(list) ? .exceptions : .full
            var rows = try Self.sortedUnique(Dataset.readRows(list, from: dataset), list)
            if mode == .exceptions { rows = rows.filter(schema.isException) }
            var (published, change) = try publishList(list, rows: rows, mode: mode, before: previous?.lists[list.rawValue],
                                                      keepDeltas: keepDeltas, progress: progress)
            if change != nil {
                published.catchUps = try catchUps(list, to: published, rows: rows, history: &history, now: now, ages: catchUpAges, progress: progress)
                    .nilIfEmpty
            }
            lists[list] = published
            changes[list] = change
            // Hits are confirmed against the watch lists only.
            guard case .watchList = schema.role else { continue }
            if let center, try change != nil || center.activeRecordCount(list) != rows.count {
                progress?("\(list.rawValue): bringing the center's records to version \(published.version)")
                try center.keepRecords(list, rows: rows, version: published.version, now: now)
            }
        }
        try writeHistory(history)
        try copyRoots()
        try publishPhotos(from: DatasetGenerator.photoDirectory(dataset), progress: progress)
        // Every region's unexpired bulletins: each terminal keeps its own region's.
        let bulletins = try center?.bulletins(after: 0, region: nil, now: now).envelopes ?? []
        let manifest = Manifest(sequence: (previous?.sequence ?? 0) + 1, issuedAt: now, expiresAt: now + validFor, lists: lists,
                                bulletins: bulletins.isEmpty ? nil : bulletins)
        try manifest.validate()
        let manifestURL = directory.appendingPathComponent(Self.manifestFile)
        let previousTime = try? FileManager.default.attributesOfItem(atPath: manifestURL.path)[.modificationDate] as? Date
        _ = try write(WireJSON.encode(manifest.signed(by: [keys.manifestKey])), as: Self.manifestFile)
        // Static servers derive the ETag from modification time and length (nginx: both in
        // whole seconds). Two publications within one second could otherwise share an ETag,
        // and a terminal's conditional GET would miss the second: move the time on.
        if let previousTime, let written = try FileManager.default.attributesOfItem(atPath: manifestURL.path)[.modificationDate] as? Date,
           written.timeIntervalSince1970.rounded(.down) <= previousTime.timeIntervalSince1970.rounded(.down) {
            try FileManager.default.setAttributes([.modificationDate: Date(timeIntervalSince1970: previousTime.timeIntervalSince1970.rounded(.down) + 1)],
                                                  ofItemAtPath: manifestURL.path)
        }
        removeUnreferenced(manifest, history: history)
        return Report(manifest: manifest, changes: changes)
    }

    /// One list's next version: a first snapshot, the same version when nothing changed, or
    /// a delta from the version before and a new snapshot.
    /// - Returns: the list's manifest entry, and its upserts and deletes (nil: unchanged).
    private func publishList(_ list: ListKind, rows: [ListRow], mode: ListMode, before: Manifest.List?, keepDeltas: Int,
                             progress: ((String) -> Void)?) throws -> (Manifest.List, (upserts: Int, deletes: Int)?) {
        var digest = ListDigest()
        for row in rows { digest.add(fields: row.fields) }
        guard let before else {
            return (try writeSnapshot(list, version: 1, rows: rows, digest: digest, deltas: [], mode: mode), (rows.count, 0))
        }
        if before.digest == digest.description, before.recordCount == Int64(rows.count), (before.mode ?? .full) == mode {
            return (before, nil)
        }
        progress?("\(list.rawValue): comparing with version \(before.version)")
        let (_, old) = try ListFile.readSnapshot(list, body: Gzip.decompress(read(before.snapshot), maxBytes: Int(Int32.max)),
                                                 fileName: before.snapshot.path)
        var delta = ListFileBuilder(deltaOf: list, from: before.version)
        let counts = Self.diff(old: old, new: rows, into: &delta)
        let version = before.version + 1
        let deltaFile = try write(Gzip.compress(delta.bytes), as: "\(list.rawValue)/\(before.version)-\(version).delta.csv.gz")
        let deltas = Array((before.deltas + [Manifest.Delta(fromVersion: before.version, toVersion: version, file: deltaFile)])
            .suffix(max(0, keepDeltas)))
        return (try writeSnapshot(list, version: version, rows: rows, digest: digest, deltas: deltas, mode: mode), counts)
    }

    /// Rows by record id (byte order); a repeated id is refused.
    static func sortedUnique(_ rows: [ListRow], _ list: ListKind) throws -> [ListRow] {
        let sorted = rows.sorted { $0.recordId.utf8.lexicographicallyPrecedes($1.recordId.utf8) }
        for (a, b) in zip(sorted, sorted.dropFirst()) where a.recordId == b.recordId {
            throw CentralError("\(Dataset.fileName(list)): record id \(a.recordId) appears twice")
        }
        return sorted
    }

    /// Merges two id-sorted lists into delta operations.
    static func diff(old: [ListRow], new: [ListRow], into delta: inout ListFileBuilder) -> (upserts: Int, deletes: Int) {
        var i = 0, j = 0, upserts = 0, deletes = 0
        while i < old.count || j < new.count {
            if j == new.count || (i < old.count && old[i].recordId.utf8.lexicographicallyPrecedes(new[j].recordId.utf8)) {
                delta.append(.delete, old[i])
                deletes += 1
                i += 1
            } else if i == old.count || new[j].recordId.utf8.lexicographicallyPrecedes(old[i].recordId.utf8) {
                delta.append(.upsert, new[j])
                upserts += 1
                j += 1
            } else {
                if old[i].fields != new[j].fields {
                    delta.append(.upsert, new[j])
                    upserts += 1
                }
                i += 1
                j += 1
            }
        }
        return (upserts, deletes)
    }

    private func writeSnapshot(_ list: ListKind, version: Int64, rows: [ListRow], digest: ListDigest,
                               deltas: [Manifest.Delta], mode: ListMode) throws -> Manifest.List {
        var snapshot = ListFileBuilder(snapshotOf: list, version: version)
        for row in rows { snapshot.append(row) }
        let file = try write(Gzip.compress(snapshot.bytes), as: "\(list.rawValue)/\(version).snapshot.csv.gz")
        return Manifest.List(version: version, recordCount: Int64(rows.count), digest: digest.description, snapshot: file, deltas: deltas,
                             mode: mode)
    }

    func read(_ file: Manifest.File) throws -> Data {
        guard let data = FileManager.default.contents(atPath: directory.appendingPathComponent(file.path).path) else {
            throw CentralError("published file \(file.path) is missing")
        }
        return data
    }

    /// Writes a published file atomically, world-readable (a static server serves it).
    func write(_ data: Data, as path: String) throws -> Manifest.File {
        let url = directory.appendingPathComponent(path)
        try FileManager.default.createDirectory(at: url.deletingLastPathComponent(), withIntermediateDirectories: true,
                                                attributes: [.posixPermissions: 0o755])
        try data.write(to: url, options: .atomic)
        try FileManager.default.setAttributes([.posixPermissions: 0o644], ofItemAtPath: url.path)
        return Manifest.File(path: path, sha256: SHA256Hex.of(data), length: Int64(data.count))
    }

    /// Rotated roots from the key directory, for terminals to walk forward.
    private func copyRoots() throws {
        let source = keysDirectory.appendingPathComponent(CentralKeys.rootsDirectory)
        guard let names = try? FileManager.default.contentsOfDirectory(atPath: source.path) else { return }
        for name in names where name.hasSuffix(".root.json") {
            _ = try write(Data(contentsOf: source.appendingPathComponent(name)), as: "\(CentralKeys.rootsDirectory)/\(name)")
        }
    }

    /// Deletes list files the new manifest no longer names (pruned deltas, old snapshots,
    /// old catch-ups), but the deltas the history keeps to make catch-ups from.
    private func removeUnreferenced(_ manifest: Manifest, history: PublicationHistory) {
        var keep = Set(history.lists.values.flatMap { $0.compactMap(\.delta) })
        for list in manifest.lists.values {
            keep.insert(list.snapshot.path)
            for delta in list.deltas + (list.catchUps ?? []) { keep.insert(delta.file.path) }
        }
        for list in ListKind.allCases {
            let dir = directory.appendingPathComponent(list.rawValue)
            for name in (try? FileManager.default.contentsOfDirectory(atPath: dir.path)) ?? [] where !keep.contains("\(list.rawValue)/\(name)") {
                try? FileManager.default.removeItem(at: dir.appendingPathComponent(name))
            }
        }
    }
}
