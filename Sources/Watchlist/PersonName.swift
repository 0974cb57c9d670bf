import Foundation

/// A person's name as entered for a name + date-of-birth search, with the folded key the
/// store indexes: compatibility forms (full-width, half-width) unified, spaces and the
/// middle dots of transliterated names removed, Latin letters upper-cased, and variant
/// Han characters (台/臺 and others below) folded to one form.
///
/// A name is Han characters and Latin letters (with Latin-1's accented ones), as the lists
/// and Taiwan's documents write names — romanised for residents from abroad — separated by
/// spaces, middle dots, hyphens, periods or apostrophes. docs/api/openapi.yaml states the
/// same as a pattern.
public struct PersonName: Sendable, Hashable, Codable {
    public let entered: String
    public let foldedKey: String

    public static let maxLength = 40

    /// Variant pairs written interchangeably in names; the second folds to the first.
    public static let variants: [(Character, Character)] = [
        ("台", "臺"), ("峰", "峯"), ("群", "羣"), ("裡", "裏"), ("污", "汙"), ("岳", "嶽"),
        ("着", "著"), ("線", "綫"), ("麵", "麪"), ("鉤", "鈎"), ("床", "牀"), ("雞", "鷄"),
        ("眾", "衆"), ("說", "説"), ("為", "爲"), ("冊", "册"), ("強", "强"), ("戶", "户"),
        ("兔", "兎"), ("温", "溫"), ("淨", "净"), ("敘", "敍"), ("奸", "姦"), ("秘", "祕"),
        ("鄉", "鄕"), ("衛", "衞"), ("麗", "丽"), ("啟", "啓"), ("峽", "峡"), ("凜", "凛"),
    ]

    private static let variantMap: [Unicode.Scalar: Unicode.Scalar] = {
        var map: [Unicode.Scalar: Unicode.Scalar] = [:]
        for (canonical, variant) in variants {
            map[variant.unicodeScalars.first!] = canonical.unicodeScalars.first!
        }
        return map
    }()

    /// - Throws: `InputError` for an empty, over-long or control-character name, or one with
    ///   digits or punctuation no name has.
    public init(parsing raw: String) throws {
        entered = raw
        foldedKey = try PersonName.fold(raw)
    }

    /// Han (CJK unified ideographs and extension A) and Latin letters, after NFKC.
    static func isNameLetter(_ v: UInt32) -> Bool {
        switch v {
        case 0x41...0x5A, 0x61...0x7A, 0xC0...0xD6, 0xD8...0xF6, 0xF8...0xFF, 0x3400...0x4DBF, 0x4E00...0x9FFF: true
        default: false
        }
    }

    /// The folded key of a name held in a list, or nil when the name could never be searched.
    public static func foldedForList(_ raw: String) -> String? {
        try? fold(raw)
    }

    static func fold(_ raw: String) throws -> String {
        if raw.unicodeScalars.count > maxLength * 2 {
            throw InputError(.tooLong, field: "name", "longer than \(maxLength) characters")
        }
        var out = String.UnicodeScalarView()
        var position = 0
        // NFKC only changes compatibility forms; names of CJK unified ideographs and plain
        // ASCII letters (nearly all) skip it.
        let plain = raw.unicodeScalars.allSatisfy { v in
            (0x4E00...0x9FFF).contains(v.value) || (0x3400...0x4DBF).contains(v.value)
                || (0x41...0x5A).contains(v.value) || (0x61...0x7A).contains(v.value) || v.value == 0x20
        }
        for scalar in (plain ? raw : raw.precomposedStringWithCompatibilityMapping).unicodeScalars {
            position += 1
            let v = scalar.value
            if TextNormalization.isControl(v) {
                throw InputError(.controlCharacter, field: "name", "control or invisible character at position \(position)")
            }
            if TextNormalization.isSeparator(v) || scalar.properties.isWhitespace || v == 0x2022 { continue }
            if v == 0x27 || v == 0x2019 { continue } // apostrophes in transliterated names
            if Self.isNameLetter(v) {
                if let canonical = variantMap[scalar] {
                    out.append(canonical)
                } else if v < 0x80 {
                    out.append(contentsOf: String(scalar).uppercased().unicodeScalars)
                } else {
                    out.append(scalar)
                }
                continue
            }
            throw InputError(.invalidCharacter, field: "name", "character at position \(position) does not occur in names")
        }
        if out.isEmpty { throw InputError(.empty, field: "name", "nothing entered") }
        if out.count > maxLength { throw InputError(.tooLong, field: "name", "longer than \(maxLength) characters") }
        return String(out)
    }
}
