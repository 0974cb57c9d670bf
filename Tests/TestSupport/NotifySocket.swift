import Foundation

/// A Unix datagram socket standing in for systemd's notification socket: collects what the
/// daemon sends (READY=1, STATUS=, WATCHDOG=1, STOPPING=1).
public final class NotifySocket: @unchecked Sendable {
    public let path: String
    private let fd: Int32
    private let lock = NSLock()
    private var messages: [(text: String, at: ContinuousClock.Instant)] = []
    private var open = true

    public init(path: String) throws {
        self.path = path
        fd = socket(AF_UNIX, Int32(SOCK_DGRAM.rawValue), 0)
        var address = sockaddr_un()
        address.sun_family = sa_family_t(AF_UNIX)
        withUnsafeMutableBytes(of: &address.sun_path) { $0.copyBytes(from: Array(path.utf8)) }
        let bound = withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(fd, $0, socklen_t(MemoryLayout<sockaddr_un>.size)) == 0 }
        }
        guard bound else { throw CocoaError(.fileWriteUnknown) }
        var tv = timeval(tv_sec: 0, tv_usec: 200_000)
        setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, socklen_t(MemoryLayout<timeval>.size))
        let thread = Thread { [self] in
            var buffer = [UInt8](repeating: 0, count: 4096)
            while lock.withLock({ open }) {
                let n = recv(fd, &buffer, buffer.count, 0)
                if n > 0 {
                    let text = String(decoding: buffer[0..<n], as: UTF8.self)
                    let at = ContinuousClock.now
                    lock.withLock { messages.append((text, at)) }
                }
            }
        }
        thread.start()
    }

    public var received: [String] { lock.withLock { messages.map(\.text) } }

    /// When each message containing `text` arrived (monotonic clock).
    public func arrivals(of text: String) -> [ContinuousClock.Instant] {
        lock.withLock { messages.filter { $0.text.contains(text) }.map(\.at) }
    }

    /// Waits until some message contains `text`.
    public func wait(for text: String, timeout: Double) -> Bool {
        let deadline = Date().addingTimeInterval(timeout)
        while Date() < deadline {
            if received.contains(where: { $0.contains(text) }) { return true }
            usleep(20_000)
        }
        return false
    }

    public func count(_ text: String) -> Int { received.filter { $0.contains(text) }.count }

    public func close() {
        lock.withLock { open = false }
        usleep(250_000)
        Glibc.close(fd)
        unlink(path)
    }
}

