/// A date of birth or other calendar day, without time or zone: what lists hold and what
/// officers enter. Stored and printed as ISO 8601 "YYYY-MM-DD".
public struct CalendarDate: Sendable, Hashable, Comparable, Codable, CustomStringConvertible {
    public let year: Int
    public let month: Int
    public let day: Int

    public init?(year: Int, month: Int, day: Int) {
        guard (1...9999).contains(year), (1...12).contains(month),
              (1...CalendarDate.daysIn(month: month, year: year)).contains(day) else { return nil }
        self.year = year
        self.month = month
        self.day = day
    }

    /// Accepts "YYYY-MM-DD", "YYYY/MM/DD", "YYYYMMDD" (full-width digits too), and the
    /// Republic of China calendar as written on Taiwan documents: "民國75年3月12日" or
    /// "R75-03-12" (ROC year + 1911 = Gregorian year).
    /// - Throws: `InputError(.invalidDate)` naming what is wrong.
    public init(parsing raw: String, field: String = "dateOfBirth") throws {
        // Fast path: the ISO form lists and most entries use.
        if raw.utf8.count == 10, let date = CalendarDate(isoBytes: Array(raw.utf8)) {
            self = date
            return
        }
        var text = String(String.UnicodeScalarView(raw.unicodeScalars.map {
            Unicode.Scalar(TextNormalization.foldWidth($0.value)) ?? $0
        })).trimmingSpaces()
        guard !text.isEmpty else { throw InputError(.empty, field: field, "nothing entered") }
        guard text.unicodeScalars.count <= 20 else { throw InputError(.tooLong, field: field, "longer than 20 characters") }
        if text.unicodeScalars.contains(where: { TextNormalization.isControl($0.value) }) {
            throw InputError(.controlCharacter, field: field, "control or invisible character")
        }
        var roc = false
        if text.hasPrefix("民國") {
            roc = true
            text = String(text.dropFirst(2))
        } else if text.hasPrefix("R") || text.hasPrefix("r") {
            roc = true
            text = String(text.dropFirst())
        }
        let numbers = text.split(whereSeparator: { !$0.isASCII || !$0.isNumber }).map(String.init)
        var parts: [Int]
        if numbers.count == 1, !roc, numbers[0].count == 8 {
            let s = numbers[0]
            parts = [Int(s.prefix(4))!, Int(s.dropFirst(4).prefix(2))!, Int(s.suffix(2))!]
        } else if numbers.count == 3, numbers.allSatisfy({ $0.count <= 4 }) {
            parts = numbers.map { Int($0)! }
        } else {
            throw InputError(.invalidDate, field: field, "expected YYYY-MM-DD (or 民國YY年MM月DD日)")
        }
        if roc { parts[0] += 1911 }
        guard let date = CalendarDate(year: parts[0], month: parts[1], day: parts[2]) else {
            throw InputError(.invalidDate, field: field, "no such day")
        }
        self = date
    }

    /// "YYYY-MM-DD" in ASCII, or nil.
    private init?(isoBytes b: [UInt8]) {
        guard b[4] == UInt8(ascii: "-"), b[7] == UInt8(ascii: "-") else { return nil }
        func number(_ range: Range<Int>) -> Int? {
            var n = 0
            for i in range {
                guard b[i].isASCIIDigit else { return nil }
                n = n * 10 + Int(b[i] - 48)
            }
            return n
        }
        guard let y = number(0..<4), let m = number(5..<7), let d = number(8..<10) else { return nil }
        self.init(year: y, month: m, day: d)
    }

    /// Days in `month` of `year` (Gregorian).
    public static func daysIn(month: Int, year: Int) -> Int {
        switch month {
        case 2: (year % 4 == 0 && year % 100 != 0) || year % 400 == 0 ? 29 : 28
        case 4, 6, 9, 11: 30
        default: 31
        }
    }

    public var description: String {
        func pad(_ n: Int, _ width: Int) -> String {
            let s = String(n)
            return String(repeating: "0", count: max(0, width - s.count)) + s
        }
        return "\(pad(year, 4))-\(pad(month, 2))-\(pad(day, 2))"
    }

    public static func < (a: CalendarDate, b: CalendarDate) -> Bool {
        (a.year, a.month, a.day) < (b.year, b.month, b.day)
    }

    public init(from decoder: any Decoder) throws {
        let text = try decoder.singleValueContainer().decode(String.self)
        try self.init(parsing: text)
    }

    public func encode(to encoder: any Encoder) throws {
        var container = encoder.singleValueContainer()
        try container.encode(description)
    }
}

extension String {
    func trimmingSpaces() -> String {
        var s = Substring(self)
        while let f = s.first, f.isWhitespace { s = s.dropFirst() }
        while let l = s.last, l.isWhitespace { s = s.dropLast() }
        return String(s)
    }
}
