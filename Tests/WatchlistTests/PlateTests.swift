import Testing
@testable import Watchlist

@Suite("Plates")
struct PlateTests {
    @Test("normalises full-width, case, spaces, hyphens and dots", arguments: [
        ("abc-1235", "ABC1235"), ("ＡＢＣ－１２３５", "ABC1235"), (" abc 1235 ", "ABC1235"), ("A.B.C.1235", "ABC1235"),
        ("ab\u{3000}1234", "AB1234"), ("abc–1235", "ABC1235"),
    ])
    func normalises(raw: String, compact: String) throws {
        #expect(try Plate(parsing: raw).compact == compact)
    }

    @Test("recognises the Taiwan layouts", arguments: [
        ("ABC-1235", PlateFormat.current), ("AB-1234", .legacyLettersFirst), ("1234-AB", .legacyDigitsFirst),
        ("ABC-123", .motorcycleLettersFirst), ("123-ABC", .motorcycleDigitsFirst),
    ])
    func recognises(raw: String, format: PlateFormat) throws {
        let plate = try Plate(parsing: raw)
        #expect(plate.format == format)
        #expect(plate.display == raw)
    }

    @Test("current layout never issues I, O or 4")
    func currentExclusions() throws {
        #expect(try Plate(parsing: "ABC-1234").format == nil)
        #expect(try Plate(parsing: "AOC-1235").format == nil)
        #expect(try Plate(parsing: "AIC-1235").format == nil)
    }

    @Test("a plate with a digit in a letter slot fits a layout only as a misread")
    func confusableReading() throws {
        let plate = try Plate(parsing: "8LT-8023")
        #expect(plate.format == nil)
        #expect(plate.possibleFormats == [.current])
        let unknown = try Plate(parsing: "X7X7X7X")
        #expect(unknown.format == nil)
        #expect(unknown.possibleFormats.isEmpty)
    }

    @Test("folds every confusable group to one key")
    func folding() {
        #expect(Confusables.foldedKey("0ODQ") == "0000")
        #expect(Confusables.foldedKey("1I2Z5S6G8B") == "1122556688")
        #expect(Confusables.foldedKey("ACE7") == "ACE7")
        #expect(Confusables.areConfusable(UInt8(ascii: "8"), UInt8(ascii: "B")))
        #expect(!Confusables.areConfusable(UInt8(ascii: "8"), UInt8(ascii: "3")))
        #expect(!Confusables.areConfusable(UInt8(ascii: "B"), UInt8(ascii: "B")))
    }

    @Test("a digit where the listed layout has a letter is a likely misread")
    func comparisonLikely() throws {
        let c = PlateComparison(entered: try Plate(parsing: "8LT-8023"), listedCompact: "BLT8023")
        #expect(c.differences == [.init(position: 1, entered: "8", listed: "B", slot: "letter", impossibleForLayout: true)])
        #expect(c.strength == .likelyMisread)
        #expect(c.reason(in: .english).message.contains("position 1: entered 8, listed B (letter position, 8 cannot stand there)"))
        #expect(c.reason(in: .traditionalChinese) == CodedMessage(code: "plate.confusable", message: "僅 OCR 易混淆字元不同：第 1 碼：輸入 8，列管 B（英文字母位置，不可能是 8）"))
    }

    @Test("a valid character in its slot is only a possible misread")
    func comparisonPossible() throws {
        // D and Q are both letters a current plate may carry: could be another vehicle.
        let c = PlateComparison(entered: try Plate(parsing: "ADC-1235"), listedCompact: "AQC1235")
        #expect(c.strength == .possibleMisread)
        #expect(c.differences.map(\.position) == [2])
        // O is never issued on current plates, so O for D is a misread.
        let o = PlateComparison(entered: try Plate(parsing: "AOC-1235"), listedCompact: "ADC1235")
        #expect(o.strength == .likelyMisread)
    }

    @Test("refuses bad entries with a specific code", arguments: [
        ("", InputError.Code.empty), ("   ", .empty), ("--", .empty), ("ABC", .wrongLength), ("ABCDE12345", .wrongLength), ("ABCDEFG1234567", .tooLong),
        ("ABC\u{7}1234", .controlCharacter), ("ABC'; DROP TABLE stolen_vehicle;--", .invalidCharacter),
        ("ABC-12\u{200B}35", .controlCharacter), ("車ABC-1234", .invalidCharacter),
        (String(repeating: "-", count: 100), .tooLong),
    ])
    func refuses(raw: String, code: InputError.Code) {
        #expect {
            try Plate(parsing: raw)
        } throws: { error in
            (error as? InputError)?.code == code && (error as? InputError)?.field == "plate"
        }
    }
}

@Suite("Vehicle identifiers")
struct VehicleIdentifierTests {
    @Test func vin() throws {
        #expect(try VIN(parsing: "rfbsa1a25mb104471").value == "RFBSA1A25MB104471")
        #expect(throws: InputError.self) { try VIN(parsing: "RFBSA1A25MB10447") }
        #expect { try VIN(parsing: "RFBSA1A25MB1O4471") } throws: { ($0 as? InputError)?.code == .wrongShape }
    }

    @Test func engineNumber() throws {
        #expect(try EngineNumber(parsing: "g3k6e-1234567").value == "G3K6E1234567")
        #expect { try EngineNumber(parsing: "AB1") } throws: { ($0 as? InputError)?.code == .wrongLength }
    }
}
