import CZlibShim
import Foundation

/// gzip (RFC 1952) through the system's zlib: list files and uplink batches travel
/// compressed, and every inflate has a ceiling so that a small file cannot expand without
/// bound. zlib counts bytes in 32-bit fields: input is fed in slices well below that, so a
/// file of any size is handled (or refused by its ceiling), never trapped on.
public enum Gzip {
    /// The most input handed to zlib in one call.
    static let sliceBytes = 1 << 30

    /// Compresses `data` into one gzip member.
    public static func compress(_ data: Data, level: Int32 = 6) -> Data {
        var stream = z_stream()
        guard mp_gzip_deflate_init(&stream, level) == Z_OK else { fatalError("zlib deflateInit2 failed (out of memory)") }
        defer { deflateEnd(&stream) }
        var output = Data()
        output.reserveCapacity(data.count / 4 + 64)
        var buffer = [UInt8](repeating: 0, count: 1 << 18)
        data.withUnsafeBytes { (input: UnsafeRawBufferPointer) in
            var offset = 0
            while true {
                let slice = min(sliceBytes, input.count - offset)
                stream.next_in = UnsafeMutablePointer(mutating: input.bindMemory(to: Bytef.self).baseAddress.map { $0 + offset })
                stream.avail_in = uInt(slice)
                offset += slice
                let flush = offset == input.count ? Z_FINISH : Z_NO_FLUSH
                var status: Int32 = Z_OK
                repeat {
                    let produced = buffer.withUnsafeMutableBufferPointer { out -> Int in
                        stream.next_out = out.baseAddress
                        stream.avail_out = uInt(out.count)
                        status = deflate(&stream, flush)
                        return out.count - Int(stream.avail_out)
                    }
                    output.append(contentsOf: buffer[0..<produced])
                } while stream.avail_out == 0 || (flush == Z_FINISH && status != Z_STREAM_END)
                precondition(status != Z_STREAM_ERROR, "deflate stream error")
                if flush == Z_FINISH { return }
            }
        }
        return output
    }

    /// Inflates one gzip member.
    /// - Throws: `SyncFailure` `.tooLarge` past `maxBytes` of output, `.badFormat` for anything
    ///   that is not a complete, valid gzip stream (including trailing bytes).
    public static func decompress(_ data: Data, maxBytes: Int) throws -> Data {
        try decompress(data, maxBytes: maxBytes, sliceBytes: sliceBytes)
    }

    static func decompress(_ data: Data, maxBytes: Int, sliceBytes: Int) throws -> Data {
        var stream = z_stream()
        guard mp_gzip_inflate_init(&stream) == Z_OK else { fatalError("zlib inflateInit2 failed (out of memory)") }
        defer { inflateEnd(&stream) }
        var output = Data()
        output.reserveCapacity(min(maxBytes, data.count * 4))
        let chunk = 1 << 20
        var buffer = [UInt8](repeating: 0, count: chunk)
        try data.withUnsafeBytes { (input: UnsafeRawBufferPointer) in
            let base = input.bindMemory(to: Bytef.self).baseAddress
            var offset = 0
            func refill() {
                guard stream.avail_in == 0, offset < input.count else { return }
                let slice = min(sliceBytes, input.count - offset)
                stream.next_in = UnsafeMutablePointer(mutating: base.map { $0 + offset })
                stream.avail_in = uInt(slice)
                offset += slice
            }
            refill()
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
                    guard stream.avail_in == 0, offset == input.count else {
                        throw SyncFailure(.badFormat, "bytes after the end of the gzip stream")
                    }
                    return
                case Z_OK:
                    refill()
                case Z_BUF_ERROR where stream.avail_in == 0:
                    guard offset < input.count else { throw SyncFailure(.badFormat, "gzip stream ends early") }
                    refill()
                default:
                    throw SyncFailure(.badFormat, "not a valid gzip stream (zlib \(status))")
                }
            }
        }
        return output
    }
}
