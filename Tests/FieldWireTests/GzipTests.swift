@testable import FieldWire
import Foundation
import Testing

@Suite("gzip")
struct GzipTests {
    static let text = Data((0..<200_000).map { UInt8(truncatingIfNeeded: ($0 * 7919) % 251) })

    @Test("round trip, with input fed to zlib in slices (as a file over 4 GiB is)")
    func slices() throws {
        let compressed = Gzip.compress(Self.text)
        #expect(try Gzip.decompress(compressed, maxBytes: 1 << 20) == Self.text)
        for slice in [1, 7, 1_000] {
            #expect(try Gzip.decompress(compressed, maxBytes: 1 << 20, sliceBytes: slice) == Self.text)
        }
        #expect(try Gzip.decompress(Gzip.compress(Data()), maxBytes: 10) == Data())
    }

    @Test("past the ceiling, truncated, trailing bytes and garbage are refused with reasons")
    func refusals() {
        let compressed = Gzip.compress(Self.text)
        #expect { try Gzip.decompress(compressed, maxBytes: 1_000) } throws: { ($0 as? SyncFailure)?.reason == .tooLarge }
        #expect { try Gzip.decompress(compressed.prefix(compressed.count / 2), maxBytes: 1 << 20) } throws: {
            ($0 as? SyncFailure)?.reason == .badFormat
        }
        #expect { try Gzip.decompress(compressed + Data([1, 2, 3]), maxBytes: 1 << 20, sliceBytes: 5) } throws: {
            ($0 as? SyncFailure)?.reason == .badFormat
        }
        #expect { try Gzip.decompress(Data("not gzip at all".utf8), maxBytes: 1 << 20) } throws: { ($0 as? SyncFailure)?.reason == .badFormat }
    }
}
