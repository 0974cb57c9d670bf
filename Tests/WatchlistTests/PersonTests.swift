import Testing
@testable import Watchlist

@Suite("Person identifiers")
struct PersonIDTests {
    @Test("the reference numbers are valid", arguments: [
        ("A123456789", PersonID.Kind.nationalID), ("F912345678", .residentNew), ("FC12345674", .residentOld),
        ("a123456789", .nationalID), ("Ａ１２３４５６７８９", .nationalID), ("A 1234-56789", .nationalID),
    ])
    func valid(raw: String, kind: PersonID.Kind) throws {
        let id = try PersonID(parsing: raw)
        #expect(id.validity == .valid)
        #expect(id.kind == kind)
    }

    @Test("one wrong digit breaks the checksum", arguments: ["A123456788", "F912345679", "FC12345675", "B123456789"])
    func badChecksum(raw: String) throws {
        #expect(try PersonID(parsing: raw).validity == .badChecksum)
    }

    @Test("a second character outside 1/2, 8/9 and A–D is a bad shape", arguments: ["A323456789", "AE12345678", "1123456789"])
    func badShape(raw: String) throws {
        let id = try PersonID(parsing: raw)
        #expect(id.validity == .badShape)
        #expect(id.kind == nil)
    }

    @Test("neighbours are valid and one keystroke away")
    func neighbours() throws {
        let entered = try PersonID(parsing: "A123456788")
        let neighbours = entered.neighbours()
        let values = neighbours.map(\.value)
        #expect(values.contains("A123456789"))
        #expect(neighbours.first { $0.value == "A123456789" }?.change == .init(kind: .substitution, position: 10))
        #expect(values.allSatisfy(PersonID.isValid))
        for value in values {
            let diff = zip(value, entered.value).filter { $0 != $1 }.count
            #expect(diff == 1 || diff == 2)
        }
        let swapped = try PersonID(parsing: "A123465789")
        #expect(swapped.neighbours().contains { $0.value == "A123456789" && $0.change == .init(kind: .transposition, position: 6) })
    }

    @Test("refuses input that is not ten letters and digits", arguments: [
        ("A12345678", InputError.Code.wrongLength), ("", .empty), ("A12345678\u{0}9", .controlCharacter), ("A1234567*9", .invalidCharacter),
    ])
    func refuses(raw: String, code: InputError.Code) {
        #expect { try PersonID(parsing: raw) } throws: { ($0 as? InputError)?.code == code }
    }
}

@Suite("Names and dates")
struct NameAndDateTests {
    @Test("variant characters, widths and spacing fold to one key")
    func names() throws {
        #expect(try PersonName(parsing: "王臺生").foldedKey == PersonName(parsing: "王台生").foldedKey)
        #expect(try PersonName(parsing: "林 志明").foldedKey == "林志明")
        #expect(try PersonName(parsing: "阿布·達爾").foldedKey == "阿布達爾")
        #expect(try PersonName(parsing: "nguyen van an").foldedKey == "NGUYENVANAN")
        #expect(try PersonName(parsing: "ＮＧＵＹＥＮ").foldedKey == "NGUYEN")
        #expect(try PersonName(parsing: "高峯").foldedKey == PersonName(parsing: "高峰").foldedKey)
    }

    @Test("names with digits, markup or control characters are refused")
    func badNames() {
        #expect { try PersonName(parsing: "林志明1") } throws: { ($0 as? InputError)?.code == .invalidCharacter }
        #expect { try PersonName(parsing: "<script>") } throws: { ($0 as? InputError)?.code == .invalidCharacter }
        #expect { try PersonName(parsing: "林\u{1B}明") } throws: { ($0 as? InputError)?.code == .controlCharacter }
        #expect { try PersonName(parsing: " ") } throws: { ($0 as? InputError)?.code == .empty }
    }

    @Test("dates in ISO and ROC forms", arguments: [
        ("1988-03-12", "1988-03-12"), ("19880312", "1988-03-12"), ("1988/3/12", "1988-03-12"),
        ("民國77年3月12日", "1988-03-12"), ("R77-03-12", "1988-03-12"), ("２０００－０２－２９", "2000-02-29"),
    ])
    func dates(raw: String, iso: String) throws {
        #expect(try CalendarDate(parsing: raw).description == iso)
    }

    @Test("impossible dates are refused", arguments: ["1988-02-30", "1900-02-29", "1988-13-01", "tomorrow", "1988-03"])
    func badDates(raw: String) {
        #expect { try CalendarDate(parsing: raw) } throws: { ($0 as? InputError)?.code == .invalidDate }
    }
}

@Suite("Timestamps")
struct TimestampTests {
    @Test func iso8601() {
        #expect(Timestamp.iso8601(seconds: 0) == "1970-01-01T00:00:00Z")
        #expect(Timestamp.iso8601(seconds: 1_795_725_286) == "2026-11-26T20:34:46Z")
        #expect(Timestamp.iso8601(seconds: 951_782_400) == "2000-02-29T00:00:00Z")
        #expect(Timestamp.iso8601(milliseconds: 1_795_725_286_007) == "2026-11-26T20:34:46.007Z")
    }
}
