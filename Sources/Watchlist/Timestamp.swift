/// Fast ISO 8601 UTC formatting for the timestamps in every answer and record
/// (Foundation's formatters cost more than the lookup itself).
public enum Timestamp {
    /// "2026-11-26T20:34:46.123Z" for a Unix time in milliseconds.
    public static func iso8601(milliseconds ms: Int64) -> String {
        let seconds = ms >= 0 ? ms / 1000 : (ms - 999) / 1000
        return format(seconds: seconds, millis: Int(ms - seconds * 1000))
    }

    /// "2026-11-26T20:34:46Z" for a Unix time in seconds.
    public static func iso8601(seconds: Int64) -> String {
        format(seconds: seconds, millis: nil)
    }

    private static func format(seconds: Int64, millis: Int?) -> String {
        var days = seconds >= 0 ? seconds / 86_400 : (seconds - 86_399) / 86_400
        let secondOfDay = Int(seconds - days * 86_400)
        // Civil-from-days (Howard Hinnant's algorithm), proleptic Gregorian.
        days += 719_468
        let era = (days >= 0 ? days : days - 146_096) / 146_097
        let doe = days - era * 146_097
        let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365
        let doy = doe - (365 * yoe + yoe / 4 - yoe / 100)
        let mp = (5 * doy + 2) / 153
        let day = Int(doy - (153 * mp + 2) / 5 + 1)
        let month = Int(mp < 10 ? mp + 3 : mp - 9)
        let year = Int(yoe + era * 400) + (month <= 2 ? 1 : 0)

        var out = [UInt8]()
        out.reserveCapacity(24)
        func digits(_ n: Int, _ width: Int) {
            var divisor = 1
            for _ in 1..<width { divisor *= 10 }
            var n = n
            while divisor > 0 {
                out.append(UInt8(48 + (n / divisor) % 10))
                n %= divisor
                divisor /= 10
            }
        }
        digits(year, 4); out.append(UInt8(ascii: "-"))
        digits(month, 2); out.append(UInt8(ascii: "-"))
        digits(day, 2); out.append(UInt8(ascii: "T"))
        digits(secondOfDay / 3600, 2); out.append(UInt8(ascii: ":"))
        digits(secondOfDay / 60 % 60, 2); out.append(UInt8(ascii: ":"))
        digits(secondOfDay % 60, 2)
        if let millis {
            out.append(UInt8(ascii: "."))
            digits(millis, 3)
        }
        out.append(UInt8(ascii: "Z"))
        return String(decoding: out, as: UTF8.self)
    }
}
