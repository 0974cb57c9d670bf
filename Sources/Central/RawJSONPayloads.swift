/// The raw text of each item's `payload` in an uplink batch, in item order, found by a
/// structural walk of the bytes (strings, escapes and nesting honoured, nothing decoded).
/// The center stores payloads exactly as the terminal sent them: re-serialising each one
/// through Foundation cost more than all the rest of ingesting a batch.
enum RawJSONPayloads {
    /// Each item's payload as text (nil for an item without one); nil for a malformed body.
    static func payloads(_ bytes: [UInt8]) -> [String?]? {
        var scanner = Scanner(bytes: bytes)
        guard scanner.expect(UInt8(ascii: "{")) else { return nil }
        var result: [String?]?
        while let key = scanner.nextKey() {
            if key == "items" {
                guard let items = scanner.items() else { return nil }
                result = items
            } else if !scanner.skipValue() {
                return nil
            }
        }
        return result
    }

    private struct Scanner {
        let bytes: [UInt8]
        var i = 0

        mutating func skipSpace() {
            while i < bytes.count, [0x20, 0x09, 0x0A, 0x0D].contains(bytes[i]) { i += 1 }
        }

        mutating func expect(_ byte: UInt8) -> Bool {
            skipSpace()
            guard i < bytes.count, bytes[i] == byte else { return false }
            i += 1
            return true
        }

        /// The next key of the object being read (after its `:`), or nil at its end.
        mutating func nextKey() -> String? {
            skipSpace()
            if i < bytes.count, bytes[i] == UInt8(ascii: ",") { i += 1; skipSpace() }
            guard i < bytes.count, bytes[i] == UInt8(ascii: "\"") else {
                if i < bytes.count, bytes[i] == UInt8(ascii: "}") { i += 1 }
                return nil
            }
            i += 1
            let start = i
            guard skipString() else { return nil }
            let key = String(decoding: bytes[start..<(i - 1)], as: UTF8.self)
            return expect(UInt8(ascii: ":")) ? key : nil
        }

        /// Reads the `items` array: each element's `payload` text.
        mutating func items() -> [String?]? {
            guard expect(UInt8(ascii: "[")) else { return nil }
            var payloads: [String?] = []
            skipSpace()
            if i < bytes.count, bytes[i] == UInt8(ascii: "]") { i += 1; return payloads }
            while true {
                guard expect(UInt8(ascii: "{")) else { return nil }
                var payload: String?
                while let key = nextKey() {
                    skipSpace()
                    let start = i
                    guard skipValue() else { return nil }
                    if key == "payload" { payload = String(decoding: bytes[start..<i], as: UTF8.self) }
                }
                payloads.append(payload)
                skipSpace()
                guard i < bytes.count else { return nil }
                if bytes[i] == UInt8(ascii: ",") { i += 1; continue }
                if bytes[i] == UInt8(ascii: "]") { i += 1; return payloads }
                return nil
            }
        }

        /// Past one value of any kind.
        mutating func skipValue() -> Bool {
            skipSpace()
            guard i < bytes.count else { return false }
            switch bytes[i] {
            case UInt8(ascii: "\""): i += 1; return skipString()
            case UInt8(ascii: "{"), UInt8(ascii: "["):
                var depth = 0
                while i < bytes.count {
                    switch bytes[i] {
                    case UInt8(ascii: "\""): i += 1; guard skipString() else { return false }; continue
                    case UInt8(ascii: "{"), UInt8(ascii: "["): depth += 1
                    case UInt8(ascii: "}"), UInt8(ascii: "]"):
                        depth -= 1
                        if depth == 0 { i += 1; return true }
                    default: break
                    }
                    i += 1
                }
                return false
            default:
                // A number or literal: up to the next delimiter.
                let start = i
                while i < bytes.count, ![UInt8(ascii: ","), UInt8(ascii: "}"), UInt8(ascii: "]"), 0x20, 0x09, 0x0A, 0x0D].contains(bytes[i]) { i += 1 }
                return i > start
            }
        }

        /// Past a string whose opening quote was consumed (`i` after its closing quote).
        mutating func skipString() -> Bool {
            while i < bytes.count {
                switch bytes[i] {
                case UInt8(ascii: "\\"): i += 2
                case UInt8(ascii: "\""): i += 1; return true
                default: i += 1
                }
            }
            return false
        }
    }
}
