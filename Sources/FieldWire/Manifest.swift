import Foundation
import Watchlist

/// The signed description of what the center publishes: per list its version, size and
/// content digest, the full snapshot and the deltas on offer. Every file is named with its
/// SHA-256 and exact length, so a terminal fetches no byte more than stated and checks every
/// byte it applies.
public struct Manifest: Codable, Sendable, Equatable {
    public struct File: Codable, Sendable, Equatable {
        /// Relative to the manifest's directory; letters, digits, `-`, `_`, `.` and `/` only.
        public var path: String
        /// Lower-case hex.
        public var sha256: String
        public var length: Int64

        public init(path: String, sha256: String, length: Int64) {
            (self.path, self.sha256, self.length) = (path, sha256, length)
        }
    }

    public struct Delta: Codable, Sendable, Equatable {
        public var fromVersion: Int64
        public var toVersion: Int64
        public var file: File

        public init(fromVersion: Int64, toVersion: Int64, file: File) {
            (self.fromVersion, self.toVersion, self.file) = (fromVersion, toVersion, file)
        }
    }

    public struct List: Codable, Sendable, Equatable {
        public var version: Int64
        public var recordCount: Int64
        /// SHA-256 over the list's records in record-id order (docs/sync-protocol.md).
        public var digest: String
        public var snapshot: File
        /// Consecutive deltas ending at `version`; older ones may have been pruned.
        public var deltas: [Delta]
        /// Catch-up deltas to `version` from the versions current some time ago (an hour, a
        /// day, a week): each applies to any version from its `fromVersion` on, so a terminal
        /// off for a night takes one file instead of the deltas since or the snapshot. Absent
        /// when there are none (and for terminals that predate them: they ignore the key).
        public var catchUps: [Delta]?
        /// `exceptions-only` when the list holds only invalid documents; absent: every record.
        public var mode: ListMode?

        public init(version: Int64, recordCount: Int64, digest: String, snapshot: File, deltas: [Delta], mode: ListMode = .full,
                    catchUps: [Delta] = []) {
            (self.version, self.recordCount, self.digest, self.snapshot, self.deltas) = (version, recordCount, digest, snapshot, deltas)
            self.mode = mode == .full ? nil : mode
            self.catchUps = catchUps.isEmpty ? nil : catchUps
        }
    }

    /// Increases with every publication; a terminal never accepts a lower one.
    public var sequence: Int64
    /// Unix seconds.
    public var issuedAt: Int64
    /// Unix seconds; past it the terminal keeps its lists but flags them stale.
    public var expiresAt: Int64
    /// Keyed by `ListKind.rawValue`.
    public var lists: [String: List]
    /// The unexpired bulletins at publication, each signed on its own (`Bulletin`): a terminal
    /// that missed their push gets them with the lists. Absent when there are none.
    public var bulletins: [SignedEnvelope]?

    public init(sequence: Int64, issuedAt: Int64, expiresAt: Int64, lists: [ListKind: List], bulletins: [SignedEnvelope]? = nil) {
        self.bulletins = bulletins
        self.sequence = sequence
        self.issuedAt = issuedAt
        self.expiresAt = expiresAt
        self.lists = Dictionary(uniqueKeysWithValues: lists.map { ($0.key.rawValue, $0.value) })
    }

    /// Where the manifest is published, relative to the center's base URL.
    public static let path = "manifest.json"

    /// The longest file a manifest may name (a national snapshot is far below this).
    public static let maxFileLength: Int64 = 4 << 30

    /// Structural checks a verified manifest must also pass before anything is fetched.
    public func validate() throws {
        func fail(_ why: String) -> SyncFailure { SyncFailure(.badFormat, "manifest \(sequence): \(why)") }
        guard sequence > 0, issuedAt > 0, expiresAt > issuedAt else { throw fail("sequence, issuedAt and expiresAt out of order") }
        for (name, list) in lists {
            guard let kind = ListKind(rawValue: name) else { throw fail("unknown list \(name)") }
            if list.mode == .exceptions, ListSchema.of(kind).document == nil { throw fail("\(name): only document lists hold exceptions only") }
            guard list.version > 0, list.recordCount >= 0, Self.isSHA256(list.digest) else { throw fail("\(name): bad version, count or digest") }
            var files = [list.snapshot]
            var expectedTo = list.version
            for delta in list.deltas.reversed() {
                guard delta.toVersion == expectedTo, delta.fromVersion == delta.toVersion - 1 else {
                    throw fail("\(name): deltas must be consecutive and end at version \(list.version)")
                }
                expectedTo = delta.fromVersion
                files.append(delta.file)
            }
            for catchUp in list.catchUps ?? [] {
                guard catchUp.toVersion == list.version, catchUp.fromVersion >= 1, catchUp.fromVersion < list.version else {
                    throw fail("\(name): a catch-up must end at version \(list.version) and start before it")
                }
                files.append(catchUp.file)
            }
            for file in files {
                guard Self.isSafePath(file.path) else { throw fail("\(name): unsafe path") }
                guard Self.isSHA256(file.sha256), (0...Self.maxFileLength).contains(file.length) else {
                    throw fail("\(name): \(file.path): bad hash or length")
                }
            }
        }
    }

    static func isSHA256(_ s: String) -> Bool {
        s.utf8.count == 64 && s.utf8.allSatisfy { ($0 >= 48 && $0 <= 57) || ($0 >= 97 && $0 <= 102) }
    }

    static func isSafePath(_ p: String) -> Bool {
        !p.isEmpty && p.utf8.count <= 200 && !p.hasPrefix("/") && !p.split(separator: "/").contains("..")
            && !p.contains("//")
            && p.utf8.allSatisfy { $0.isASCIIDigitOrLetter || $0 == 0x2D || $0 == 0x5F || $0 == 0x2E || $0 == 0x2F }
    }

    public func signed(by keys: [SigningKey]) throws -> SignedEnvelope {
        try SignedEnvelope(payloadType: SignedEnvelope.manifestType, payload: WireJSON.encode(self), signers: keys)
    }
}

extension UInt8 {
    fileprivate var isASCIIDigitOrLetter: Bool {
        (self >= 48 && self <= 57) || (self >= 65 && self <= 90) || (self >= 97 && self <= 122)
    }
}
