import Crypto
import Foundation
import Watchlist

/// A list's content digest: the sum, modulo 2^256, of the SHA-256 of each record's
/// canonical encoding (docs/sync-protocol.md, "Content digest"). A sum does not depend on
/// record order and can be updated per change — subtract the old record, add the new — so a
/// 10,000-change delta onto a million-record list is checked without re-reading the list.
///
/// The digest proves that an apply produced exactly what the center holds; protection
/// against tampering comes from the signed manifest's per-file SHA-256, not from this sum.
public struct ListDigest: Sendable, Equatable, CustomStringConvertible {
    /// Big-endian 64-bit limbs: limbs[0] is the most significant.
    private var limbs: (UInt64, UInt64, UInt64, UInt64) = (0, 0, 0, 0)

    public init() {}

    /// Parses 64 lower-case hex digits.
    public init?(hex: String) {
        guard hex.utf8.count == 64 else { return nil }
        var parts: [UInt64] = []
        var index = hex.startIndex
        for _ in 0..<4 {
            let end = hex.index(index, offsetBy: 16)
            guard let value = UInt64(hex[index..<end], radix: 16) else { return nil }
            parts.append(value)
            index = end
        }
        limbs = (parts[0], parts[1], parts[2], parts[3])
    }

    public var description: String {
        [limbs.0, limbs.1, limbs.2, limbs.3].map { value in
            let digits = String(value, radix: 16)
            return String(repeating: "0", count: 16 - digits.count) + digits
        }.joined()
    }

    /// Adds a record given by its canonical fields (`Dataset.columns` order, nil for empty).
    public mutating func add(fields: [String?]) {
        var record = Record()
        for field in fields { record.append(field) }
        add(record)
    }

    public mutating func add(_ record: consuming Record) {
        add(record.hash())
    }

    /// Removes a record added before: adds the negation of its hash, ~h + 1 modulo 2^256.
    public mutating func remove(_ record: consuming Record) {
        let h = record.hash()
        add((~h.0, ~h.1, ~h.2, ~h.3))
        add((0, 0, 0, 1))
    }

    /// One record's canonical encoding, hashed as its fields are appended in
    /// `Dataset.columns` order: each field's UTF-8 bytes followed by 0x1F (unit separator);
    /// an absent value is an empty field. Fields can come as bytes, so a stored record is
    /// hashed straight from SQLite's buffer without a string made of each.
    public struct Record: ~Copyable {
        /// The encoding so far, hashed in one call at the end (a call per field costs more
        /// than the hashing of a record's few hundred bytes).
        private var encoding: [UInt8] = []

        public init() {
            encoding.reserveCapacity(256)
        }

        public mutating func append(_ field: String?) {
            if let field { encoding.append(contentsOf: field.utf8) }
            encoding.append(0x1F)
        }

        /// A field's UTF-8 bytes (empty for an absent value).
        public mutating func append(bytes: UnsafeRawBufferPointer) {
            encoding.append(contentsOf: bytes)
            encoding.append(0x1F)
        }

        consuming func hash() -> (UInt64, UInt64, UInt64, UInt64) {
            encoding.withUnsafeBytes { SHA256.hash(data: $0) }.withUnsafeBytes { raw in
                func limb(_ i: Int) -> UInt64 { UInt64(bigEndian: raw.loadUnaligned(fromByteOffset: i * 8, as: UInt64.self)) }
                return (limb(0), limb(1), limb(2), limb(3))
            }
        }
    }

    private mutating func add(_ h: (UInt64, UInt64, UInt64, UInt64)) {
        var carry: UInt64 = 0
        func step(_ a: UInt64, _ b: UInt64) -> UInt64 {
            let (s1, o1) = a.addingReportingOverflow(b)
            let (s2, o2) = s1.addingReportingOverflow(carry)
            carry = (o1 ? 1 : 0) + (o2 ? 1 : 0)
            return s2
        }
        limbs.3 = step(limbs.3, h.3)
        limbs.2 = step(limbs.2, h.2)
        limbs.1 = step(limbs.1, h.1)
        limbs.0 = step(limbs.0, h.0)
    }

    public static func == (a: ListDigest, b: ListDigest) -> Bool {
        a.limbs == b.limbs
    }
}
