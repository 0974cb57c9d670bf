/// The characters OCR readers and hurried officers mix up on plates:
/// 0/O/D/Q, 1/I, 2/Z, 5/S, 6/G, 8/B.
///
/// Every character of a group folds to the group's digit, so two plates that differ only
/// by confusables share one *folded key*; the store indexes that key, which makes the
/// near-match search a single index lookup.
public enum Confusables {
    /// The groups, digit first.
    public static let groups: [[Character]] = [
        ["0", "O", "D", "Q"], ["1", "I"], ["2", "Z"], ["5", "S"], ["6", "G"], ["8", "B"],
    ]

    private static let foldTable: [UInt8] = {
        var table = (0..<256).map { UInt8($0) }
        for group in groups {
            let digit = group[0].asciiValue!
            for member in group { table[Int(member.asciiValue!)] = digit }
        }
        return table
    }()

    @inline(__always)
    static func fold(_ c: UInt8) -> UInt8 { foldTable[Int(c)] }

    /// The folded key of a compact identifier (upper-case ASCII letters and digits).
    public static func foldedKey(_ compact: some StringProtocol) -> String {
        String(decoding: compact.utf8.map { fold($0) }, as: UTF8.self)
    }

    static func foldedKey(_ compact: [UInt8]) -> String {
        String(decoding: compact.map { fold($0) }, as: UTF8.self)
    }

    /// Whether `a` and `b` are different characters of one group.
    public static func areConfusable(_ a: UInt8, _ b: UInt8) -> Bool {
        a != b && fold(a) == fold(b)
    }

    /// Whether `c` has a member of its group of the other kind (a letter for a digit, a
    /// digit for a letter) — what a slot of the wrong kind needs to be an OCR misread.
    static func hasCounterpart(_ c: UInt8, asLetter: Bool) -> Bool {
        for group in groups where group.contains(where: { $0.asciiValue == c }) {
            return group.contains { member in
                let m = member.asciiValue!
                return asLetter ? m.isASCIIUpper : m.isASCIIDigit
            }
        }
        return false
    }
}
