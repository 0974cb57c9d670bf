import Foundation

/// A strict RFC 4180 reader for the data set files: comma-separated, fields optionally in
/// double quotes (with "" for a quote), LF or CRLF line ends, UTF-8. Reads the file into
/// memory once; yields one row at a time.
public struct CSVReader: Sendable {
    private let bytes: [UInt8]
    private var offset = 0
    /// 1-based line number of the row last returned (for error messages).
    public private(set) var line = 0
    private var nextLine = 1
    public let fileName: String

    public init(contentsOf url: URL) throws {
        do {
            bytes = [UInt8](try Data(contentsOf: url))
        } catch {
            throw DatasetError("cannot read \(url.lastPathComponent): \(error.localizedDescription)")
        }
        fileName = url.lastPathComponent
    }

    public init(bytes: [UInt8], fileName: String) {
        self.bytes = bytes
        self.fileName = fileName
    }

    /// The next row's fields, or nil at the end of the file.
    public mutating func nextRow() throws -> [String]? {
        guard offset < bytes.count else { return nil }
        line = nextLine
        var fields: [String] = []
        fields.reserveCapacity(12)
        let quote = UInt8(ascii: "\""), comma = UInt8(ascii: ","), lf = UInt8(ascii: "\n"), cr = UInt8(ascii: "\r")
        while true {
            if offset < bytes.count, bytes[offset] == quote {
                offset += 1
                var field: [UInt8] = []
                while true {
                    guard offset < bytes.count else {
                        throw DatasetError("\(fileName):\(line): unterminated quoted field")
                    }
                    let b = bytes[offset]
                    if b == quote {
                        if offset + 1 < bytes.count, bytes[offset + 1] == quote {
                            field.append(quote)
                            offset += 2
                            continue
                        }
                        offset += 1
                        break
                    }
                    if b == lf { nextLine += 1 }
                    field.append(b)
                    offset += 1
                }
                fields.append(try Self.decode(field[...], fileName, line))
            } else {
                let start = offset
                while offset < bytes.count, bytes[offset] != comma, bytes[offset] != lf, bytes[offset] != cr {
                    if bytes[offset] == quote {
                        throw DatasetError("\(fileName):\(line): quote inside an unquoted field \(fields.count + 1)")
                    }
                    offset += 1
                }
                fields.append(try Self.decode(bytes[start..<offset], fileName, line))
            }
            guard offset < bytes.count else { break }
            let b = bytes[offset]
            offset += 1
            if b == comma { continue }
            if b == cr {
                guard offset < bytes.count, bytes[offset] == lf else {
                    throw DatasetError("\(fileName):\(line): carriage return without line feed")
                }
                offset += 1
            } else if b != lf {
                throw DatasetError("\(fileName):\(line): text after a closing quote in field \(fields.count)")
            }
            break
        }
        nextLine += 1
        return fields
    }

    private static func decode(_ slice: ArraySlice<UInt8>, _ fileName: String, _ line: Int) throws -> String {
        // Decoding repairs invalid UTF-8 (U+FFFD for each bad sequence), so the bytes come out
        // the same exactly when they were valid: one memcmp instead of the generic validating
        // initialiser, which was a quarter of a delta's parse.
        let decoded: String? = slice.withUnsafeBufferPointer { bytes in
            var text = String(decoding: bytes, as: UTF8.self)
            let same = text.withUTF8 { $0.count == bytes.count && (bytes.isEmpty || memcmp($0.baseAddress!, bytes.baseAddress!, bytes.count) == 0) }
            return same ? text : nil
        }
        guard let decoded else { throw DatasetError("\(fileName):\(line): not valid UTF-8") }
        return decoded
    }
}

/// Writes RFC 4180 rows, quoting only the fields that need it.
struct CSVWriter {
    private var buffer: [UInt8] = []
    private let handle: FileHandle

    init(url: URL) throws {
        guard FileManager.default.createFile(atPath: url.path, contents: nil),
              let handle = FileHandle(forWritingAtPath: url.path) else {
            throw DatasetError("cannot write \(url.path)")
        }
        self.handle = handle
        buffer.reserveCapacity(1 << 20)
    }

    mutating func write(_ fields: [String]) throws {
        Self.encode(fields, into: &buffer)
        if buffer.count >= 1 << 20 { try flush() }
    }

    /// Appends one RFC 4180 row (LF-terminated) to `buffer`.
    static func encode(_ fields: [String], into buffer: inout [UInt8]) {
        for (i, field) in fields.enumerated() {
            if i > 0 { buffer.append(UInt8(ascii: ",")) }
            let utf8 = field.utf8
            if utf8.contains(where: { $0 == UInt8(ascii: ",") || $0 == UInt8(ascii: "\"") || $0 == UInt8(ascii: "\n") || $0 == UInt8(ascii: "\r") }) {
                buffer.append(UInt8(ascii: "\""))
                for b in utf8 {
                    if b == UInt8(ascii: "\"") { buffer.append(b) }
                    buffer.append(b)
                }
                buffer.append(UInt8(ascii: "\""))
            } else {
                buffer.append(contentsOf: utf8)
            }
        }
        buffer.append(UInt8(ascii: "\n"))
    }

    mutating func close() throws {
        try flush()
        try handle.close()
    }

    private mutating func flush() throws {
        try handle.write(contentsOf: buffer)
        buffer.removeAll(keepingCapacity: true)
    }
}
