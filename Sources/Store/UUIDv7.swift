/// Time-ordered identifiers (RFC 9562 version 7) for check records and, later, outbox
/// items: sortable by creation time, unique without coordination.
public enum UUIDv7 {
    public static func make(milliseconds: Int64) -> String {
        var rng = SystemRandomNumberGenerator()
        var bytes = [UInt8](repeating: 0, count: 16)
        let ms = UInt64(max(0, milliseconds))
        for i in 0..<6 { bytes[i] = UInt8(truncatingIfNeeded: ms >> (40 - 8 * UInt64(i))) }
        let random = rng.next() as UInt64
        let random2 = rng.next() as UInt64
        for i in 0..<8 { bytes[8 + i] = UInt8(truncatingIfNeeded: random >> (8 * UInt64(i))) }
        bytes[6] = 0x70 | UInt8(truncatingIfNeeded: random2 & 0x0F)
        bytes[7] = UInt8(truncatingIfNeeded: random2 >> 8)
        bytes[8] = 0x80 | (bytes[8] & 0x3F)
        let hex = Array("0123456789abcdef".utf8)
        var out: [UInt8] = []
        out.reserveCapacity(36)
        for (i, b) in bytes.enumerated() {
            if i == 4 || i == 6 || i == 8 || i == 10 { out.append(UInt8(ascii: "-")) }
            out.append(hex[Int(b >> 4)])
            out.append(hex[Int(b & 0xF)])
        }
        return String(decoding: out, as: UTF8.self)
    }
}
