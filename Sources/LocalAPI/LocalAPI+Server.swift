import Foundation
import Hummingbird
import Logging
import NIOCore
import ServiceLifecycle

extension LocalAPI {
    /// Where and for whom the API listens.
    public struct Listener: Sendable {
        public var socketPath: String
        /// Permission bits of the socket file.
        public var socketMode: mode_t
        /// Group that owns the socket file; nil leaves the daemon's group.
        public var socketGroup: String?
        public var peers: PeerPolicy
        /// A loopback TCP listener without peer checks, for tests only; nil by default.
        public var tcpPort: Int?

        public init(socketPath: String, socketMode: mode_t, socketGroup: String?, peers: PeerPolicy, tcpPort: Int? = nil) {
            self.socketPath = socketPath
            self.socketMode = socketMode
            self.socketGroup = socketGroup
            self.peers = peers
            self.tcpPort = tcpPort
        }
    }

    /// The servers as services: the Unix-socket server (peer-checked) and, when configured,
    /// the test-only loopback listener. `onReady` runs once the socket is bound and has its
    /// mode and group.
    public func services(_ listener: Listener, logger: Logger, onReady: @escaping @Sendable () async -> Void) throws -> [any Service] {
        try Self.removeStaleSocket(listener.socketPath)
        let gid: gid_t?
        if let group = listener.socketGroup {
            guard let entry = getgrnam(group) else { throw PeerPolicyError(description: "no such group \(group) (api.socket_group)") }
            gid = entry.pointee.gr_gid
        } else {
            gid = nil
        }
        let peers = listener.peers
        let unix = Application(
            router: router(),
            server: .http1(configuration: .init(additionalChannelHandlers: [PeerCredentialsHandler(policy: peers, logger: logger)])),
            configuration: .init(address: .unixDomainSocket(path: listener.socketPath), serverName: nil),
            onServerRunning: { _ in
                // The socket file exists now; until these two calls only root could connect
                // (the daemon creates it under a 0077 umask).
                if let gid { _ = chown(listener.socketPath, uid_t.max, gid) }
                _ = chmod(listener.socketPath, listener.socketMode)
                await onReady()
            },
            logger: logger)
        var services: [any Service] = [unix]
        if let port = listener.tcpPort {
            logger.warning("test-only loopback TCP listener enabled", metadata: ["port": "\(port)"])
            services.append(Application(router: router(), configuration: .init(address: .hostname("127.0.0.1", port: port), serverName: nil),
                                        logger: logger))
        }
        return services
    }

    /// Removes a socket file left by a previous run (nothing answers on it); refuses to touch
    /// anything that is not a socket.
    static func removeStaleSocket(_ path: String) throws {
        var info = stat()
        guard lstat(path, &info) == 0 else { return }
        guard (info.st_mode & S_IFMT) == S_IFSOCK else {
            throw PeerPolicyError(description: "\(path) exists and is not a socket (api.socket)")
        }
        unlink(path)
    }
}
