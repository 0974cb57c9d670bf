import Foundation
import Hummingbird
import HummingbirdCore
import Logging
import NIOCore
import ServiceLifecycle
import Synchronization

extension LocalAPI {
    /// Where and for whom the API listens, and how much of the daemon one client may hold.
    public struct Listener: Sendable {
        public var socketPath: String
        /// Permission bits of the socket file.
        public var socketMode: mode_t
        /// Group that owns the socket file; nil leaves the daemon's group.
        public var socketGroup: String?
        public var peers: PeerPolicy
        public var limits: ConnectionLimits

        public init(socketPath: String, socketMode: mode_t, socketGroup: String?, peers: PeerPolicy,
                    limits: ConnectionLimits = ConnectionLimits()) {
            self.socketPath = socketPath
            self.socketMode = socketMode
            self.socketGroup = socketGroup
            self.peers = peers
            self.limits = limits
        }
    }

    /// The server as a service, and its health probe for the watchdog. `onReady` runs once
    /// the socket is bound and has been given its mode and group — with the failure, when it
    /// could not be: only root could connect then, and the daemon must not say it is ready.
    /// - Throws: `ListenerError` when another daemon answers on the socket path, or the path
    ///   holds something that is not a socket, or the group does not exist.
    public func server(_ listener: Listener, logger: Logger,
                       onReady: @escaping @Sendable (Result<Void, ListenerError>) async -> Void) throws -> (service: any Service, health: APIHealth) {
        try Self.claimSocketPath(listener.socketPath)
        let gid: gid_t?
        if let group = listener.socketGroup {
            guard let entry = getgrnam(group) else { throw ListenerError("no such group \(group) (api.socket_group)") }
            gid = entry.pointee.gr_gid
        } else {
            gid = nil
        }
        let limiter = ConnectionLimiter(listener.limits, logger: logger)
        let peers = listener.peers
        let health = APIHealth()
        let http1 = HTTP1Channel.Configuration(
            additionalChannelHandlers: [PeerCredentialsHandler(policy: peers, limiter: limiter, logger: logger),
                                        BodyLimitHandler(maxBytes: maxBodyBytes)],
            idleTimeout: .nanoseconds(Int64(listener.limits.idleTimeout.components.seconds) * 1_000_000_000))
        let app = Application(
            router: router(),
            server: Self.http1(http1),
            configuration: .init(address: .unixDomainSocket(path: listener.socketPath), serverName: nil),
            onServerRunning: { _ in
                // The socket file exists now; until these two calls succeed only root can
                // connect (the daemon creates it under a 0077 umask).
                if let gid, chown(listener.socketPath, uid_t.max, gid) != 0 {
                    await onReady(.failure(ListenerError("cannot give \(listener.socketPath) to group \(listener.socketGroup ?? ""): \(String(cString: strerror(errno)))")))
                    return
                }
                guard chmod(listener.socketPath, listener.socketMode) == 0 else {
                    await onReady(.failure(ListenerError("cannot set mode \(String(listener.socketMode, radix: 8)) on \(listener.socketPath): \(String(cString: strerror(errno)))")))
                    return
                }
                health.listening.store(true, ordering: .releasing)
                await onReady(.success(()))
            },
            logger: logger)
        health.eventLoops = app.eventLoopGroup
        return (app, health)
    }

    /// HTTP/1.1 with each connection's requests answered on its event loop (`OnItsEventLoop`).
    static func http1(_ configuration: HTTP1Channel.Configuration) -> HTTPServerBuilder {
        HTTPServerBuilder { responder in OnItsEventLoop(HTTP1Channel(responder: responder, configuration: configuration)) }
    }

    /// Makes the socket path free for this daemon: a file left by a previous run (nothing
    /// answers on it) is removed; a live daemon on it, or anything that is not a socket,
    /// stops start-up.
    static func claimSocketPath(_ path: String) throws {
        var info = stat()
        guard lstat(path, &info) == 0 else { return }
        guard (info.st_mode & S_IFMT) == S_IFSOCK else {
            throw ListenerError("\(path) exists and is not a socket (api.socket)")
        }
        if Self.answers(path) {
            throw ListenerError("another mpoliced is serving \(path): stop it first (systemctl stop mpoliced)")
        }
        unlink(path)
    }

    /// Whether something accepts connections on the Unix socket at `path`.
    static func answers(_ path: String) -> Bool {
        let fd = socket(AF_UNIX, Int32(SOCK_STREAM.rawValue) | Int32(SOCK_CLOEXEC.rawValue), 0)
        guard fd >= 0 else { return false }
        defer { close(fd) }
        var address = sockaddr_un()
        address.sun_family = sa_family_t(AF_UNIX)
        let bytes = Array(path.utf8)
        guard bytes.count < MemoryLayout.size(ofValue: address.sun_path) else { return false }
        withUnsafeMutableBytes(of: &address.sun_path) { $0.copyBytes(from: bytes) }
        return withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { connect(fd, $0, socklen_t(MemoryLayout<sockaddr_un>.size)) == 0 }
        }
    }
}

/// A connection's requests are answered on the event loop that reads and writes its socket:
/// Hummingbird would run them on Swift's shared pool, and a check would then cross threads
/// twice — the request from the loop to the pool, the answer back — each a wake-up of a
/// sleeping thread, several times the cost of the lookup itself. The handlers are short and
/// synchronous (a check is an indexed lookup and a journal write); the slow work a request may
/// start (a PIN's scrypt derivation) runs on its own queue and the loop waits for it without
/// blocking.
struct OnItsEventLoop<Inner: ServerChildChannel>: ServerChildChannel {
    typealias Value = Inner.Value
    let inner: Inner

    init(_ inner: Inner) { self.inner = inner }

    func setup(channel: any Channel, logger: Logger) -> EventLoopFuture<Value> {
        inner.setup(channel: channel, logger: logger)
    }

    func handle(value: Value, logger: Logger) async {
        await withTaskExecutorPreference(EventLoopTaskExecutor(value.channel.eventLoop)) {
            await inner.handle(value: value, logger: logger)
        }
    }
}

/// Runs tasks' jobs on one NIO event loop (from the loop itself, without waking any thread).
final class EventLoopTaskExecutor: TaskExecutor {
    let loop: any EventLoop

    init(_ loop: any EventLoop) { self.loop = loop }

    func enqueue(_ job: consuming ExecutorJob) {
        let job = UnownedJob(job)
        loop.execute { job.runSynchronously(on: self.asUnownedTaskExecutor()) }
    }
}

/// Why the API could not listen.
public struct ListenerError: Error, CustomStringConvertible, Sendable {
    public let description: String
    public init(_ description: String) { self.description = description }
}

/// How many connections the API holds open, and for how long an idle one.
public struct ConnectionLimits: Sendable, Equatable {
    /// All peers together.
    public var total: Int
    /// One user (uid).
    public var perPeer: Int
    /// A connection with no request under way is closed after this (an event stream being
    /// answered is not idle).
    public var idleTimeout: Duration

    public init(total: Int = 256, perPeer: Int = 64, idleTimeout: Duration = .seconds(30)) {
        self.total = total
        self.perPeer = perPeer
        self.idleTimeout = idleTimeout
    }
}

/// The watchdog's view of the API, judged in process: the socket is listening and the
/// server's event loops run a task — whatever the clients hold (a client holding every
/// connection it may must not make systemd restart the daemon).
public final class APIHealth: Sendable {
    let listening = Atomic<Bool>(false)
    private let loops = Mutex<(any EventLoopGroup)?>(nil)

    var eventLoops: (any EventLoopGroup)? {
        get { loops.withLock { $0 } }
        set { loops.withLock { $0 = newValue } }
    }

    init() {}

    /// True when the API listens and an event loop answers within `timeout`.
    public func probe(timeout: Duration = .seconds(2)) async -> Bool {
        guard listening.load(ordering: .acquiring), let group = eventLoops else { return false }
        let answered = group.any().submit { true }
        // The deadline is a timer outside the event loops: a wedged loop runs no timer either.
        return await withTaskGroup(of: Bool.self) { tasks in
            tasks.addTask { (try? await answered.get()) ?? false }
            tasks.addTask {
                try? await Task.sleep(for: timeout)
                return false
            }
            let first = await tasks.next() ?? false
            tasks.cancelAll()
            return first
        }
    }
}
