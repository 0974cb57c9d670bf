import Crypto
import _CryptoExtras
import Foundation

/// What diagnostics and the health report need from the device's X.509 certificate: its
/// validity, its subject's CN and its public key, read from PEM with a small DER walk (no key
/// material is printed anywhere).
public struct DeviceCertificate: Sendable {
    public var notBefore: Date
    public var notAfter: Date
    public var commonName: String?
    /// The SubjectPublicKeyInfo, DER, as it stands in the certificate.
    public var publicKeyInfo: [UInt8]

    public struct Unreadable: Error, CustomStringConvertible {
        public var description: String
    }

    public init(pem: String) throws {
        let der = try Self.firstBlock(pem, label: "CERTIFICATE")
        var file = DER(der)
        var certificate = try file.enter(0x30)
        var tbs = try certificate.enter(0x30)
        if tbs.peekTag == 0xA0 { _ = try tbs.element() }      // [0] version
        _ = try tbs.element()                                  // serialNumber
        _ = try tbs.element()                                  // signature algorithm
        _ = try tbs.element()                                  // issuer
        var validity = try tbs.enter(0x30)
        notBefore = try Self.time(validity.element())
        notAfter = try Self.time(validity.element())
        let subject = try tbs.element()
        commonName = Self.commonName(subject.content)
        publicKeyInfo = try tbs.element().whole
    }

    /// The DER bytes of the first PEM block with `label`.
    static func firstBlock(_ pem: String, label: String) throws -> [UInt8] {
        guard let begin = pem.range(of: "-----BEGIN \(label)-----"),
              let end = pem.range(of: "-----END \(label)-----", range: begin.upperBound..<pem.endIndex),
              let data = Data(base64Encoded: String(pem[begin.upperBound..<end.lowerBound]).filter { !$0.isWhitespace }) else {
            throw Unreadable(description: "no PEM \(label) block")
        }
        return Array(data)
    }

    /// The public key of a PEM private key (EC P-256/P-384/P-521 or RSA), as
    /// SubjectPublicKeyInfo DER; nil for a key type this cannot read.
    public static func publicKeyInfo(ofPrivateKey pem: String) -> [UInt8]? {
        if let k = try? P256.Signing.PrivateKey(pemRepresentation: pem) { return Array(k.publicKey.derRepresentation) }
        if let k = try? P384.Signing.PrivateKey(pemRepresentation: pem) { return Array(k.publicKey.derRepresentation) }
        if let k = try? P521.Signing.PrivateKey(pemRepresentation: pem) { return Array(k.publicKey.derRepresentation) }
        if let k = try? _RSA.Signing.PrivateKey(pemRepresentation: pem) { return Array(k.publicKey.derRepresentation) }
        return nil
    }

    private static func time(_ element: DER.Element) throws -> Date {
        let text = String(decoding: element.content, as: UTF8.self)
        let formatter = DateFormatter()
        formatter.locale = Locale(identifier: "en_US_POSIX")
        formatter.timeZone = TimeZone(identifier: "UTC")
        // UTCTime (0x17) YYMMDDHHMMSSZ, GeneralizedTime (0x18) YYYYMMDDHHMMSSZ.
        formatter.dateFormat = element.tag == 0x17 ? "yyMMddHHmmss'Z'" : "yyyyMMddHHmmss'Z'"
        guard let date = formatter.date(from: text) else { throw Unreadable(description: "unreadable validity time \(text)") }
        return date
    }

    /// The CN in a Name (SEQUENCE OF SET OF AttributeTypeAndValue).
    private static func commonName(_ name: ArraySlice<UInt8>) -> String? {
        var rdns = DER(Array(name))
        while let rdn = try? rdns.element() {
            var set = DER(Array(rdn.content))
            while let attribute = try? set.element() {
                var pair = DER(Array(attribute.content))
                guard let oid = try? pair.element(), let value = try? pair.element() else { continue }
                if Array(oid.content) == [0x55, 0x04, 0x03] { return String(decoding: value.content, as: UTF8.self) }
            }
        }
        return nil
    }
}

/// A forward-only reader of DER elements.
struct DER {
    struct Element {
        var tag: UInt8
        var content: ArraySlice<UInt8>
        /// Tag, length and content.
        var whole: [UInt8]
    }

    private let bytes: [UInt8]
    private var offset = 0

    init(_ bytes: [UInt8]) { self.bytes = bytes }

    var peekTag: UInt8? { offset < bytes.count ? bytes[offset] : nil }

    mutating func element() throws -> Element {
        let start = offset
        guard offset + 2 <= bytes.count else { throw DeviceCertificate.Unreadable(description: "DER ends early") }
        let tag = bytes[offset]
        var length = Int(bytes[offset + 1])
        offset += 2
        if length & 0x80 != 0 {
            let count = length & 0x7F
            guard count <= 4, offset + count <= bytes.count else { throw DeviceCertificate.Unreadable(description: "bad DER length") }
            length = bytes[offset..<offset + count].reduce(0) { $0 << 8 | Int($1) }
            offset += count
        }
        guard offset + length <= bytes.count else { throw DeviceCertificate.Unreadable(description: "DER element longer than its data") }
        let content = bytes[offset..<offset + length]
        offset += length
        return Element(tag: tag, content: content, whole: Array(bytes[start..<offset]))
    }

    /// The next element, which must have `tag`, as a reader of its content.
    mutating func enter(_ tag: UInt8) throws -> DER {
        let e = try element()
        guard e.tag == tag else { throw DeviceCertificate.Unreadable(description: "unexpected DER tag \(e.tag)") }
        return DER(Array(e.content))
    }
}
