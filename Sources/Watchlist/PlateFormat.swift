/// The Taiwan licence-plate layouts the agent recognises.
///
/// Each layout is a sequence of letter (`L`) and digit (`D`) slots with one separator.
/// Plates are stored and compared in compact form (no separator); `display` puts the
/// hyphen back where the layout has it.
public enum PlateFormat: String, Sendable, Codable, CaseIterable {
    /// ABC-1234: cars since 2012 and ordinary motorcycles since 2014. I and O are not
    /// issued as letters, 4 is not issued as a digit.
    case current = "current"
    /// AB-1234: cars before 2012.
    case legacyLettersFirst = "legacy-letters-first"
    /// 1234-AB: cars before 2012.
    case legacyDigitsFirst = "legacy-digits-first"
    /// ABC-123: motorcycles (2008–2014 issue).
    case motorcycleLettersFirst = "motorcycle-letters-first"
    /// 123-ABC: motorcycles (before 2008).
    case motorcycleDigitsFirst = "motorcycle-digits-first"

    /// Slot pattern, `L` for a letter, `D` for a digit; the hyphen sits at `separatorIndex`.
    public var pattern: String {
        switch self {
        case .current: "LLLDDDD"
        case .legacyLettersFirst: "LLDDDD"
        case .legacyDigitsFirst: "DDDDLL"
        case .motorcycleLettersFirst: "LLLDDD"
        case .motorcycleDigitsFirst: "DDDLLL"
        }
    }

    var separatorIndex: Int {
        switch self {
        case .current, .motorcycleLettersFirst: 3
        case .legacyLettersFirst: 2
        case .legacyDigitsFirst: 4
        case .motorcycleDigitsFirst: 3
        }
    }

    @inline(__always)
    func slotIsLetter(_ index: Int) -> Bool {
        switch self {
        case .current, .motorcycleLettersFirst: index < 3
        case .legacyLettersFirst: index < 2
        case .legacyDigitsFirst: index >= 4
        case .motorcycleDigitsFirst: index >= 3
        }
    }

    var length: Int {
        switch self {
        case .current: 7
        case .legacyLettersFirst, .legacyDigitsFirst, .motorcycleLettersFirst, .motorcycleDigitsFirst: 6
        }
    }

    /// Whether `compact` fits this layout exactly, including the letters and digits the
    /// layout never issues.
    func matches(_ compact: [UInt8]) -> Bool {
        guard compact.count == length else { return false }
        for (i, c) in compact.enumerated() {
            if slotIsLetter(i) {
                guard c.isASCIIUpper else { return false }
                if self == .current && (c == UInt8(ascii: "I") || c == UInt8(ascii: "O")) { return false }
            } else {
                guard c.isASCIIDigit else { return false }
                if self == .current && c == UInt8(ascii: "4") { return false }
            }
        }
        return true
    }

    /// The layout `compact` fits, if any.
    public static func recognise(_ compact: [UInt8]) -> PlateFormat? {
        allCases.first { $0.matches(compact) }
    }

    /// Layouts `compact` would fit if each confusable character were read as its
    /// counterpart of the other kind (a digit in a letter slot, a letter in a digit slot).
    static func confusableReadings(_ compact: [UInt8]) -> [PlateFormat] {
        allCases.filter { format in
            guard compact.count == format.length else { return false }
            for (i, c) in compact.enumerated() {
                let wantLetter = format.slotIsLetter(i)
                if wantLetter ? c.isASCIIUpper : c.isASCIIDigit { continue }
                // Wrong kind for the slot: only acceptable if OCR could have swapped it.
                guard Confusables.hasCounterpart(c, asLetter: wantLetter) else { return false }
            }
            return true
        }
    }
}
