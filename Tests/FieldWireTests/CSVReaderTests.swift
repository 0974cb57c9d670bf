import FieldWire
import Foundation
import Testing

/// The data set and list-file reader: RFC 4180 fields, and only valid UTF-8 in them.
@Suite("CSV reader")
struct CSVReaderTests {
    private func rows(_ bytes: [UInt8]) throws -> [[String]] {
        var reader = CSVReader(bytes: bytes, fileName: "t.csv")
        var rows: [[String]] = []
        while let row = try reader.nextRow() { rows.append(row) }
        return rows
    }

    @Test("quoted and unquoted fields, an escaped quote, an empty field, CJK text and CRLF read as written")
    func fields() throws {
        let text = "a,\"b,\"\"c\"\"\",,銀色 車\r\nx,y,z,\"多\nline\"\n"
        #expect(try rows(Array(text.utf8)) == [["a", "b,\"c\"", "", "銀色 車"], ["x", "y", "z", "多\nline"]])
    }

    @Test("invalid UTF-8 in a field is refused with its line, not repaired", arguments: [
        [0xFF] as [UInt8],                 // never valid
        [0xC3, 0x28],                      // a lead byte without its continuation
        [0xE0, 0x80, 0x80],                // an overlong encoding
        [0xED, 0xA0, 0x80],                // a UTF-16 surrogate
        [0xE9, 0x8A],                      // a CJK character cut short at the field's end
    ])
    func invalidUTF8(_ bad: [UInt8]) throws {
        var bytes = Array("ok,fine\n".utf8)
        bytes += Array("x,".utf8) + bad + Array("y\n".utf8)
        do {
            _ = try rows(bytes)
            Issue.record("invalid UTF-8 was read")
        } catch let error as DatasetError {
            #expect("\(error)".contains("t.csv:2: not valid UTF-8"), "\(error)")
        }
    }

    @Test("U+FFFD written as such is valid text and kept")
    func replacementCharacterItself() throws {
        #expect(try rows(Array("a,\u{FFFD}b\n".utf8)) == [["a", "\u{FFFD}b"]])
    }
}
