import Foundation
import Synchronization

/// A TCP proxy on loopback that the test owns, between a client and a real server, to make
/// the link fail the ways a patrol car's link does: down (every connection cut, new ones
/// closed at once), slow (each chunk held back), or lossy (connections cut at random
/// points mid-transfer). TLS passes through untouched: the client still talks to nginx.
/// Its target may also be a Unix socket: a TCP door to the daemon's API for tools that only
/// speak TCP (schemathesis), going through the daemon's real socket and peer check.
public final class FaultProxy: @unchecked Sendable {
    public enum Mode: Sendable, Equatable {
        case pass
        case down
        /// Each chunk waits this long, in each direction.
        case delay(milliseconds: Int)
        /// Each chunk cuts its connection with this probability.
        case lossy(Double)
        /// Toward plain HTTP: each response from the server (a chunk that starts
        /// "HTTP/1.1 ") is dropped with this probability, the connection cut — the server has
        /// done its work, the client never hears of it.
        case dropAnswers(Double)
        /// The whole link (every connection, both directions together) carries at most this
        /// many bytes a second: a weak cell.
        case throttle(bytesPerSecond: Int)
    }

    public let port: Int
    private let target: Target

    enum Target {
        case tcp(Int)
        case unix(String)
    }
    private let listener: Int32
    private let state = Mutex<(mode: Mode, connections: Set<Int32>, stopped: Bool)>((.pass, [], false))
    /// Connections cut by a fault (for the test's own assertions that faults happened).
    public let cuts = Atomic<Int>(0)
    /// Connections closed at once because the link was down.
    public let refused = Atomic<Int>(0)
    /// Toward plain HTTP: the request line of each request the client sent (a chunk that
    /// starts with a method), so a test can wait until a request is on its way.
    private let requestLines = Mutex<[String]>([])
    /// Throttled: when the link is next free (seconds since the reference date), shared by all.
    private let linkFreeAt = Mutex<Double>(0)

    public convenience init(to targetPort: Int) throws {
        try self.init(target: .tcp(targetPort))
    }

    public convenience init(toUnixSocket path: String) throws {
        try self.init(target: .unix(path))
    }

    init(target: Target) throws {
        self.target = target
        port = try LoopbackPort.free()
        listener = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        var one: Int32 = 1
        setsockopt(listener, SOL_SOCKET, SO_REUSEADDR, &one, socklen_t(MemoryLayout<Int32>.size))
        var address = LoopbackPort.loopback(port: port)
        let bound = withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(listener, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) == 0 }
        }
        guard bound, listen(listener, 64) == 0 else { throw CocoaError(.fileWriteUnknown, userInfo: ["proxy": "bind \(port)"]) }
        let thread = Thread { [self] in acceptLoop() }
        thread.name = "fault-proxy"
        thread.start()
    }

    public var mode: Mode {
        get { state.withLock { $0.mode } }
        set {
            // Under the lock: a pump closes its descriptors only after taking them out of
            // `connections` under it, so none of these numbers can belong to anyone else yet.
            let cut = state.withLock { s -> [Int32] in
                s.mode = newValue
                let cut = newValue == .down ? Array(s.connections) : []
                for fd in cut { shutdown(fd, Int32(SHUT_RDWR)) }
                return cut
            }
            if !cut.isEmpty { cuts.add(cut.count / 2, ordering: .relaxed) }
        }
    }

    private func acceptLoop() {
        while true {
            let client = accept(listener, nil, nil)
            if client < 0 {
                if state.withLock({ $0.stopped }) { return }
                continue
            }
            if mode == .down {
                close(client)
                refused.add(1, ordering: .relaxed)
                continue
            }
            let (server, connected) = connectTarget()
            guard connected else {
                close(client)
                close(server)
                continue
            }
            state.withLock { $0.connections.formUnion([client, server]) }
            let finished = Atomic<Int>(0)
            for (from, to) in [(client, server), (server, client)] {
                let thread = Thread { [self] in
                    pump(from: from, to: to, answers: from == server)
                    shutdown(from, Int32(SHUT_RDWR))
                    shutdown(to, Int32(SHUT_RDWR))
                    // The second pump to end closes both.
                    if finished.add(1, ordering: .acquiringAndReleasing).newValue == 2 {
                        state.withLock { $0.connections.subtract([client, server]) }
                        close(client)
                        close(server)
                    }
                }
                thread.start()
            }
        }
    }

    private func connectTarget() -> (Int32, Bool) {
        switch target {
        case .tcp(let port):
            let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
            var address = LoopbackPort.loopback(port: port)
            let connected = withUnsafePointer(to: &address) {
                $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { connect(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) == 0 }
            }
            return (fd, connected)
        case .unix(let path):
            let fd = UnixSocket.connect(path)
            return (fd ?? -1, fd != nil)
        }
    }

    private func pump(from: Int32, to: Int32, answers: Bool) {
        var buffer = [UInt8](repeating: 0, count: 16_384)
        while true {
            // Throttled, chunks are small, so the link's bytes are shared out evenly.
            let size: Int = if case .throttle = mode { 2_048 } else { buffer.count }
            let n = buffer.withUnsafeMutableBytes { read(from, $0.baseAddress, size) }
            if n <= 0 { return }
            if !answers, let line = Self.requestLine(buffer[..<n]) { requestLines.withLock { $0.append(line) } }
            switch mode {
            case .pass: break
            case .down: return
            case .delay(let ms): usleep(useconds_t(ms * 1000))
            case .throttle(let rate):
                let now = Date().timeIntervalSinceReferenceDate
                let done = linkFreeAt.withLock { free -> Double in
                    free = max(free, now) + Double(n) / Double(rate)
                    return free
                }
                if done > now { usleep(useconds_t((done - now) * 1_000_000)) }
            case .lossy(let p):
                if Double.random(in: 0..<1) < p {
                    cuts.add(1, ordering: .relaxed)
                    return
                }
            case .dropAnswers(let p):
                if answers, buffer.starts(with: Array("HTTP/1.1 ".utf8)), Double.random(in: 0..<1) < p {
                    cuts.add(1, ordering: .relaxed)
                    return
                }
            }
            var sent = 0
            while sent < n {
                let w = buffer.withUnsafeBytes { send(to, $0.baseAddress! + sent, n - sent, Int32(MSG_NOSIGNAL)) }
                if w <= 0 { return }
                sent += w
            }
        }
    }

    /// How many requests whose request line starts with `prefix` (e.g. "GET /uplink/dispatches")
    /// the client has sent through the proxy.
    public func requests(startingWith prefix: String) -> Int {
        requestLines.withLock { $0.filter { $0.hasPrefix(prefix) }.count }
    }

    private static func requestLine(_ chunk: ArraySlice<UInt8>) -> String? {
        guard ["GET ", "POST ", "PUT ", "HEAD "].contains(where: { chunk.starts(with: Array($0.utf8)) }) else { return nil }
        let end = chunk.firstIndex(of: UInt8(ascii: "\r")) ?? chunk.endIndex
        return String(decoding: chunk[chunk.startIndex..<end], as: UTF8.self)
    }

    /// Idempotent: the listener is closed once (a second `close` of its number could close
    /// whatever another test opened under it since — a pipe, a socket).
    public func stop() {
        let (open, first) = state.withLock { s -> ([Int32], Bool) in
            defer { s.stopped = true }
            return (Array(s.connections), !s.stopped)
        }
        guard first else { return }
        shutdown(listener, Int32(SHUT_RDWR))
        close(listener)
        state.withLock { s in for fd in s.connections where open.contains(fd) { shutdown(fd, Int32(SHUT_RDWR)) } }
    }

    deinit { stop() }
}
