import Synchronization

/// Time-ordered identifiers (RFC 9562 version 7) for check records and, later, outbox
/// items: sortable by creation time, unique without coordination.
///
/// The 74 random bits come from a SplitMix64 stream seeded once from the system generator:
/// unique and unpredictable enough for ids, without a getrandom(2) call per check.
public enum UUIDv7 {
    private static let state: Atomic<UInt64> = {
        var system = SystemRandomNumberGenerator()
        return Atomic<UInt64>(system.next())
    }()

    private static func random() -> UInt64 {
        var z = state.wrappingAdd(0x9E37_79B9_7F4A_7C15, ordering: .relaxed).newValue
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }

    public static func make(milliseconds: Int64) -> String {
        let ms = UInt64(max(0, milliseconds)) & 0xFFFF_FFFF_FFFF
        let r1 = random(), r2 = random()
        // 48-bit time, version 7, 12 random bits, variant 10, 62 random bits.
        let high = ms << 16 | 0x7000 | (r1 & 0x0FFF)
        let low = 0x8000_0000_0000_0000 | (r2 & 0x3FFF_FFFF_FFFF_FFFF)
        let hex = Array("0123456789abcdef".utf8)
        var out = [UInt8](repeating: UInt8(ascii: "-"), count: 36)
        var o = 0
        for word in [high, low] {
            for nibble in 0..<16 {
                if o == 8 || o == 13 || o == 18 || o == 23 { o += 1 }
                out[o] = hex[Int((word >> (60 - 4 * UInt64(nibble))) & 0xF)]
                o += 1
            }
        }
        return String(decoding: out, as: UTF8.self)
    }
}
