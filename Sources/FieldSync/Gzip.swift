import CZlibShim
import Foundation

/// gzip (RFC 1952) through the system's zlib: list files are published compressed, and the
/// terminal inflates them with a ceiling so that a small file cannot expand without bound.
public enum Gzip {
    /// Compresses `data` into one gzip member.
    public static func compress(_ data: Data, level: Int32 = 6) -> Data {
        var stream = z_stream()
        guard mp_gzip_deflate_init(&stream, level) == Z_OK else { fatalError("zlib deflateInit2 failed (out of memory)") }
        defer { deflateEnd(&stream) }
        var output = Data(count: Int(deflateBound(&stream, uLong(data.count))) + 64)
        let written = data.withUnsafeBytes { (input: UnsafeRawBufferPointer) -> Int in
            output.withUnsafeMutableBytes { (out: UnsafeMutableRawBufferPointer) -> Int in
                stream.next_in = UnsafeMutablePointer(mutating: input.bindMemory(to: Bytef.self).baseAddress)
                stream.avail_in = uInt(input.count)
                stream.next_out = out.bindMemory(to: Bytef.self).baseAddress
                stream.avail_out = uInt(out.count)
                let status = deflate(&stream, Z_FINISH)
                precondition(status == Z_STREAM_END, "deflate into a deflateBound buffer must finish")
                return out.count - Int(stream.avail_out)
            }
        }
        output.count = written
        return output
    }

    /// Inflates one gzip member.
    /// - Throws: `SyncFailure` `.tooLarge` past `maxBytes` of output, `.badFormat` for anything
    ///   that is not a complete, valid gzip stream (including trailing bytes).
    public static func decompress(_ data: Data, maxBytes: Int) throws -> Data {
        var stream = z_stream()
        guard mp_gzip_inflate_init(&stream) == Z_OK else { fatalError("zlib inflateInit2 failed (out of memory)") }
        defer { inflateEnd(&stream) }
        var output = Data()
        output.reserveCapacity(min(maxBytes, data.count * 4))
        let chunk = 1 << 20
        var buffer = [UInt8](repeating: 0, count: chunk)
        try data.withUnsafeBytes { (input: UnsafeRawBufferPointer) in
            stream.next_in = UnsafeMutablePointer(mutating: input.bindMemory(to: Bytef.self).baseAddress)
            stream.avail_in = uInt(input.count)
            while true {
                let (status, produced) = buffer.withUnsafeMutableBufferPointer { out -> (Int32, Int) in
                    stream.next_out = out.baseAddress
                    stream.avail_out = uInt(chunk)
                    let status = inflate(&stream, Z_NO_FLUSH)
                    return (status, chunk - Int(stream.avail_out))
                }
                guard output.count + produced <= maxBytes else {
                    throw SyncFailure(.tooLarge, "compressed file inflates past \(maxBytes) bytes")
                }
                output.append(contentsOf: buffer[0..<produced])
                switch status {
                case Z_STREAM_END:
                    guard stream.avail_in == 0 else { throw SyncFailure(.badFormat, "bytes after the end of the gzip stream") }
                    return
                case Z_OK:
                    continue
                case Z_BUF_ERROR where stream.avail_in == 0:
                    throw SyncFailure(.badFormat, "gzip stream ends early")
                default:
                    throw SyncFailure(.badFormat, "not a valid gzip stream (zlib \(status))")
                }
            }
        }
        return output
    }
}
