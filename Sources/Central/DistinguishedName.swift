/// An X.509 subject as nginx passes it (`$ssl_client_s_dn`, RFC 4514: `CN=unit-X,O=NPA`),
/// parsed for real: commas and plus signs inside a value are escaped (`\,` or `\2C`), a
/// relative name can hold several attributes (`CN=a+OU=b`), and attribute types are
/// case-insensitive. Splitting on commas would let `CN=unit-A\,O=x` pass for unit A.
struct DistinguishedName: Equatable {
    /// Every attribute, in the order written: (type upper-cased, value unescaped).
    let attributes: [(type: String, value: String)]

    static func == (a: DistinguishedName, b: DistinguishedName) -> Bool {
        a.attributes.map(\.type) == b.attributes.map(\.type) && a.attributes.map(\.value) == b.attributes.map(\.value)
    }

    /// - Returns: nil for text that is not a distinguished name (an attribute without `=`,
    ///   an escape cut short, bad hex).
    init?(_ text: String) {
        var attributes: [(String, String)] = []
        var type = "", value: [UInt8] = []
        var inValue = false
        var bytes = Array(text.utf8)[...]
        func hex(_ c: UInt8) -> UInt8? {
            switch c {
            case 0x30...0x39: c - 0x30
            case 0x41...0x46: c - 0x41 + 10
            case 0x61...0x66: c - 0x61 + 10
            default: nil
            }
        }
        func finish() -> Bool {
            guard inValue, !type.isEmpty, let text = String(validating: value, as: UTF8.self) else { return false }
            attributes.append((type.trimmingSpaces().uppercased(), text))
            type = ""
            value = []
            inValue = false
            return true
        }
        while let c = bytes.popFirst() {
            if !inValue {
                if c == UInt8(ascii: "=") { inValue = true } else { type.unicodeScalars.append(Unicode.Scalar(c)) }
                continue
            }
            switch c {
            case UInt8(ascii: "\\"):
                guard let next = bytes.popFirst() else { return nil }
                if let high = hex(next) {
                    guard let second = bytes.popFirst(), let low = hex(second) else { return nil }
                    value.append(high << 4 | low)
                } else {
                    value.append(next)
                }
            case UInt8(ascii: ","), UInt8(ascii: "+"):
                guard finish() else { return nil }
            default:
                value.append(c)
            }
        }
        guard finish() else { return nil }
        self.attributes = attributes
    }

    /// The values of every attribute of `type` (upper-case).
    func values(_ type: String) -> [String] {
        attributes.filter { $0.type == type }.map(\.value)
    }
}

extension String {
    fileprivate func trimmingSpaces() -> String {
        var s = Substring(self)
        while s.first == " " { s = s.dropFirst() }
        while s.last == " " { s = s.dropLast() }
        return String(s)
    }
}
