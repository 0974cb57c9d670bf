import CCurlShim
import FieldWire
import Crypto
import Foundation

extension CurlTransport {
    /// What a download did.
    public struct Download: Sendable, Equatable {
        /// Bytes already on disk that were kept (Range resume); 0 for a fresh download.
        public var resumedFrom: Int64
        /// Bytes fetched in this call.
        public var fetched: Int64

        public init(resumedFrom: Int64, fetched: Int64) {
            self.resumedFrom = resumedFrom
            self.fetched = fetched
        }
    }

    /// Downloads `url` into `partial`, resuming from what a previous interrupted call left
    /// there (HTTP Range), accepting no byte past `expectedLength`, then checks the length
    /// and SHA-256. A file that verifies is complete; one that does not is removed, except a
    /// short one, which stays for the next resume.
    /// - Throws: `SyncFailure` `.tooLarge`, `.truncated`, `.hashMismatch`, `.tls`, `.network`.
    /// `progress` receives the bytes on disk as they grow; `abort` set ends the transfer
    /// (`.cancelled`) with what arrived kept for the resume.
    public func download(_ url: String, to partial: URL, expectedLength: Int64, expectedSHA256: String,
                         progress: (@Sendable (Int64) -> Void)? = nil, abort: AbortFlag? = nil) throws -> Download {
        let fm = FileManager.default
        var existing = (try? fm.attributesOfItem(atPath: partial.path)[.size] as? Int64) ?? 0
        if existing > expectedLength {
            try? fm.removeItem(at: partial)
            existing = 0
        }
        if !fm.fileExists(atPath: partial.path) {
            guard fm.createFile(atPath: partial.path, contents: nil, attributes: [.posixPermissions: 0o600]) else {
                throw SyncFailure(.network, "cannot create \(partial.path)")
            }
        }
        var fetched: Int64 = 0
        if existing < expectedLength {
            guard let handle = FileHandle(forUpdatingAtPath: partial.path) else {
                throw SyncFailure(.network, "cannot write \(partial.path)")
            }
            defer { try? handle.close() }
            let sink = FileSink(handle: handle, offset: existing, expectedLength: expectedLength, progress: progress)
            let status: Int
            do {
                status = try perform(url, resumeFrom: existing, sink: sink, abort: abort)
            } catch let failure as SyncFailure where failure.reason == .tooLarge {
                try? fm.removeItem(at: partial)
                throw failure
            }
            if sink.restartedFromZero { existing = 0 }
            fetched = sink.written
            guard status == 200 || status == 206 else {
                throw SyncFailure(.network, "\(url): HTTP \(status)")
            }
        }
        let size = (try? fm.attributesOfItem(atPath: partial.path)[.size] as? Int64) ?? 0
        guard size == expectedLength else {
            throw SyncFailure(.truncated, "\(url): \(size) of \(expectedLength) bytes")
        }
        guard try SHA256Hex.of(fileAt: partial) == expectedSHA256 else {
            try? fm.removeItem(at: partial)
            throw SyncFailure(.hashMismatch, "\(url): SHA-256 differs from the manifest")
        }
        return Download(resumedFrom: existing, fetched: fetched)
    }

}

/// Appends a download to a file; if the server ignores the Range and sends the whole file
/// (200), starts the file over. Only a 200 or 206 answer's body is written: an error page
/// (a proxy's 502, a CDN's 403) never lands in the file a resume continues from.
final class FileSink: @unchecked Sendable {
    let handle: FileHandle
    let resumeOffset: Int64
    let expectedLength: Int64
    var written: Int64 = 0
    var overflowed = false
    var restartedFromZero = false
    /// The current response is the file (200 or 206), not an error page.
    private var accepting = false
    private var position: Int64
    private let progress: (@Sendable (Int64) -> Void)?

    init(handle: FileHandle, offset: Int64, expectedLength: Int64, progress: (@Sendable (Int64) -> Void)?) {
        self.handle = handle
        self.progress = progress
        resumeOffset = offset
        self.expectedLength = expectedLength
        position = offset
        try? handle.seek(toOffset: UInt64(offset))
    }

    func status(_ code: Int) {
        accepting = code == 200 || code == 206
        if code == 200, resumeOffset > 0, !restartedFromZero {
            restartedFromZero = true
            position = 0
            try? handle.truncate(atOffset: 0)
        }
    }

    func body(_ bytes: UnsafeMutablePointer<CChar>, _ count: Int) -> Int {
        guard accepting else { return count }   // read and dropped
        if position + Int64(count) > expectedLength {
            overflowed = true
            return 0
        }
        do {
            try handle.write(contentsOf: Data(bytes: bytes, count: count))
        } catch {
            return 0
        }
        position += Int64(count)
        written += Int64(count)
        progress?(position)
        return count
    }
}
