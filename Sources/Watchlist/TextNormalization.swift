/// Character-level clean-up shared by every identifier parser: full-width forms to ASCII,
/// lower to upper case, separators dropped, anything else refused with a specific error.
enum TextNormalization {
    /// The longest raw input any parser looks at; longer is refused before any work.
    static let maxRawLength = 64

    /// Full-width ASCII variants (U+FF01…U+FF5E) and the ideographic space fold to ASCII.
    @inline(__always)
    static func foldWidth(_ v: UInt32) -> UInt32 {
        if v >= 0xFF01 && v <= 0xFF5E { return v - 0xFEE0 }
        if v == 0x3000 { return 0x20 }
        return v
    }

    @inline(__always)
    static func isControl(_ v: UInt32) -> Bool {
        v < 0x20 || v == 0x7F || (v >= 0x80 && v < 0xA0) || v == 0x200B || v == 0x200E || v == 0x200F
            || v == 0xFEFF || (v >= 0x202A && v <= 0x202E) || (v >= 0x2066 && v <= 0x2069)
    }

    /// Separators an officer or an OCR reader may put inside an identifier.
    @inline(__always)
    static func isSeparator(_ v: UInt32) -> Bool {
        switch v {
        case 0x20, 0x2D, 0x2E, 0x5F, 0xB7, 0x2010, 0x2011, 0x2012, 0x2013, 0x2014, 0x2212, 0x30FB, 0x2027:
            return true
        default:
            return false
        }
    }

    /// Upper-case ASCII letters and digits of `raw`, separators removed.
    /// - Throws: `InputError` naming the first offending character's position (1-based).
    static func compactAlphanumeric(_ raw: String, field: String, maxLength: Int) throws -> [UInt8] {
        var out: [UInt8] = []
        out.reserveCapacity(16)
        var position = 0
        var sawAny = false
        for scalar in raw.unicodeScalars {
            position += 1
            if position > maxRawLength {
                throw InputError(.tooLong, field: field, "longer than \(maxRawLength) characters")
            }
            let v = foldWidth(scalar.value)
            if isControl(v) {
                throw InputError(.controlCharacter, field: field, "control or invisible character at position \(position)")
            }
            if isSeparator(v) { continue }
            sawAny = true
            switch v {
            case 0x30...0x39, 0x41...0x5A: out.append(UInt8(v))
            case 0x61...0x7A: out.append(UInt8(v - 0x20))
            default:
                throw InputError(.invalidCharacter, field: field, "character at position \(position) is not a letter or digit")
            }
            if out.count > maxLength {
                throw InputError(.tooLong, field: field, "more than \(maxLength) letters and digits")
            }
        }
        if out.isEmpty {
            throw InputError(.empty, field: field, sawAny ? "no letters or digits" : "nothing entered")
        }
        return out
    }
}

extension UInt8 {
    @inline(__always) var isASCIIDigit: Bool { self >= 0x30 && self <= 0x39 }
    @inline(__always) var isASCIIUpper: Bool { self >= 0x41 && self <= 0x5A }
}
