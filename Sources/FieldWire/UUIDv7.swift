#if canImport(Glibc)
import Glibc
#endif
import Synchronization

/// Time-ordered identifiers (RFC 9562 version 7) for check records and outbox items:
/// sortable by creation time, unique without coordination.
///
/// The 74 random bits come from the system's CSPRNG (getrandom) for every id: an id is an
/// idempotency key at the center, and one unit must not be able to predict — and so claim —
/// another unit's next ids. The CSPRNG is read 4 KiB at a time (one syscall per 256
/// ids instead of two per id: on the check path the syscalls cost more than the lookup).
public enum UUIDv7 {
    public static func make(milliseconds: Int64) -> String {
        let ms = UInt64(max(0, milliseconds)) & 0xFFFF_FFFF_FFFF
        let (r1, r2) = SecureRandomPool.shared.next128()
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

    /// Lower-case 8-4-4-4-12 hex with version 7.
    public static func isValid(_ s: String) -> Bool {
        let u = Array(s.utf8)
        guard u.count == 36 else { return false }
        for (i, c) in u.enumerated() {
            if [8, 13, 18, 23].contains(i) {
                guard c == UInt8(ascii: "-") else { return false }
            } else if !((c >= 0x30 && c <= 0x39) || (c >= 0x61 && c <= 0x66)) {
                return false
            }
        }
        return u[14] == UInt8(ascii: "7")
    }
}

/// Bytes from the system's CSPRNG, fetched in blocks and handed out once each.
final class SecureRandomPool: Sendable {
    static let shared = SecureRandomPool()
    private static let blockWords = 512

    private let state = Mutex<(words: [UInt64], next: Int)>(([], 0))

    func next128() -> (UInt64, UInt64) {
        state.withLock { state in
            if state.next + 2 > state.words.count {
                var block = [UInt64](repeating: 0, count: Self.blockWords)
                block.withUnsafeMutableBytes { bytes in
                    // /dev/urandom is getrandom's device: the same CSPRNG, never blocking once
                    // the kernel is seeded (long before the daemon starts).
                    let fd = open("/dev/urandom", O_RDONLY | O_CLOEXEC)
                    precondition(fd >= 0, "cannot open /dev/urandom: \(errno)")
                    defer { close(fd) }
                    var filled = 0
                    while filled < bytes.count {
                        let n = read(fd, bytes.baseAddress! + filled, bytes.count - filled)
                        precondition(n > 0 || errno == EINTR, "cannot read /dev/urandom: \(errno)")
                        if n > 0 { filled += n }
                    }
                }
                state = (block, 0)
            }
            defer { state.next += 2 }
            return (state.words[state.next], state.words[state.next + 1])
        }
    }
}
