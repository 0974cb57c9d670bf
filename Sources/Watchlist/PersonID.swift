/// A Taiwan personal identifier: national ID card number (國民身分證統一編號), resident
/// certificate number for foreigners in the 2021 format (新式統一證號), or in the old format
/// (舊式居留證統一證號).
///
/// All three are ten characters and end in a check digit:
/// - national ID: letter, 1 or 2, eight digits — A123456789
/// - new ARC: letter, 8 or 9, eight digits — F912345678
/// - old ARC: letter, letter A–D, eight digits — FC12345674
public struct PersonID: Sendable, Hashable, Codable {
    public enum Kind: String, Sendable, Codable {
        case nationalID = "national-id"
        case residentNew = "arc-2021"
        case residentOld = "arc-old"
    }

    /// How an entered identifier fared against the format rules.
    public enum Validity: String, Sendable, Codable {
        case valid
        /// The shape is right but the check digit is not: most likely a mistyped digit.
        case badChecksum = "bad-checksum"
        /// Ten letters and digits, but in no identifier's shape.
        case badShape = "bad-shape"
    }

    /// Ten upper-case characters.
    public let value: String
    /// The shape's kind; nil for `badShape`.
    public let kind: Kind?
    public let validity: Validity

    /// Parses an entered identifier. Wrong checksums and shapes are not errors: the check
    /// reports them and offers listed identifiers one character away.
    /// - Throws: `InputError` when the input is not ten letters and digits at all.
    public init(parsing raw: String) throws {
        let bytes = try TextNormalization.compactAlphanumeric(raw, field: "id", maxLength: 16)
        guard bytes.count == 10 else {
            throw InputError(.wrongLength, field: "id", "\(bytes.count) letters and digits; an ID or resident number has 10")
        }
        value = String(decoding: bytes, as: UTF8.self)
        kind = PersonID.kind(of: bytes)
        if kind == nil {
            validity = .badShape
        } else {
            validity = PersonID.checksumIsValid(bytes) ? .valid : .badChecksum
        }
    }

    // MARK: Rules

    /// Letter codes of the first character (A=10 … Z=33, with I=34, O=35 and W=32 out of order).
    static let letterCodes: [UInt8: Int] = {
        let letters = Array("ABCDEFGHJKLMNPQRSTUVXYWZIO".utf8)
        var codes: [UInt8: Int] = [:]
        for (i, letter) in letters.enumerated() { codes[letter] = 10 + i }
        return codes
    }()

    static func kind(of b: [UInt8]) -> Kind? {
        guard b.count == 10, b[0].isASCIIUpper, b[2...].allSatisfy(\.isASCIIDigit) else { return nil }
        switch b[1] {
        case UInt8(ascii: "1"), UInt8(ascii: "2"): return .nationalID
        case UInt8(ascii: "8"), UInt8(ascii: "9"): return .residentNew
        case UInt8(ascii: "A")...UInt8(ascii: "D"): return .residentOld
        default: return nil
        }
    }

    /// The weighted sum rule: the first letter's two-digit code weighs 1 and 9, the second
    /// character 8 (its digit, or for an old ARC the last digit of its letter code), the
    /// next seven digits 7…1, the check digit 1; the total is a multiple of ten.
    static func checksumIsValid(_ b: [UInt8]) -> Bool {
        guard let kind = kind(of: b), let first = letterCodes[b[0]] else { return false }
        var sum = first / 10 + (first % 10) * 9
        let second: Int = kind == .residentOld ? (letterCodes[b[1]]! % 10) : Int(b[1] - 48)
        sum += second * 8
        for i in 2...8 { sum += Int(b[i] - 48) * (9 - i) }
        sum += Int(b[9] - 48)
        return sum % 10 == 0
    }

    /// Whether a ten-character string is a valid identifier of any kind.
    public static func isValid(_ value: String) -> Bool {
        let b = Array(value.utf8)
        return checksumIsValid(b)
    }

    /// Valid identifiers one keystroke away from this one: a single character replaced,
    /// or two neighbouring characters swapped. Used to offer listed people as candidates
    /// when the entered identifier is invalid.
    public func neighbours() -> [(value: String, change: NeighbourChange)] {
        let b = Array(value.utf8)
        var result: [(String, NeighbourChange)] = []
        var seen: Set<String> = [value]
        func consider(_ candidate: [UInt8], _ change: NeighbourChange) {
            guard PersonID.checksumIsValid(candidate) else { return }
            let s = String(decoding: candidate, as: UTF8.self)
            if seen.insert(s).inserted { result.append((s, change)) }
        }
        let letters = Array("ABCDEFGHIJKLMNOPQRSTUVWXYZ".utf8)
        let digits = Array("0123456789".utf8)
        for i in 0..<10 {
            let alphabet: [UInt8] = i == 0 ? letters : (i == 1 ? digits + letters.prefix(4) : digits)
            for c in alphabet where c != b[i] {
                var candidate = b
                candidate[i] = c
                consider(candidate, NeighbourChange(kind: .substitution, position: i + 1))
            }
        }
        for i in 0..<9 where b[i] != b[i + 1] {
            var candidate = b
            candidate.swapAt(i, i + 1)
            consider(candidate, NeighbourChange(kind: .transposition, position: i + 1))
        }
        return result
    }

    /// How a candidate differs from the entered identifier.
    public struct NeighbourChange: Sendable, Equatable, Codable {
        public enum Kind: String, Sendable, Codable {
            case substitution
            case transposition
        }
        public var kind: Kind
        /// 1-based position of the changed character (the first of a swapped pair).
        public var position: Int

        /// How the listed ID differs, for the catalogue (`id.change.*`).
        public var notice: Notice {
            switch kind {
            case .substitution: Notice("id.change.substitution", ["position": String(position)])
            case .transposition: Notice("id.change.transposition", ["position": String(position), "next": String(position + 1)])
            }
        }
    }

    /// The normalised form of an identifier held in a list, or nil when it is not ten
    /// letters and digits. Lists may hold identifiers with bad checksums (old records).
    public static func normalisedForList(_ raw: String) -> String? {
        guard let bytes = try? TextNormalization.compactAlphanumeric(raw, field: "id", maxLength: 16),
              bytes.count == 10 else { return nil }
        return String(decoding: bytes, as: UTF8.self)
    }
}
