import Foundation
import Logging
import NIOCore
import Synchronization

/// Who may talk to the daemon over its Unix socket, judged by the peer's credentials
/// (SO_PEERCRED) on every connection: root, the daemon's own user, the configured users, and
/// members (primary or supplementary) of the configured groups. Everyone else is
/// disconnected before a byte is read.
public struct PeerPolicy: Sendable {
    public let allowedUIDs: Set<uid_t>
    public let allowedGIDs: Set<gid_t>

    /// Resolves names (or numeric ids) once, at start-up.
    /// - Throws: `ListenerError` naming a user or group that does not exist.
    public init(users: [String], groups: [String]) throws {
        var uids: Set<uid_t> = [0, getuid()]
        for user in users {
            if let uid = uid_t(user) { uids.insert(uid); continue }
            guard let entry = getpwnam(user) else { throw ListenerError("no such user \(user) (api.allowed_users)") }
            uids.insert(entry.pointee.pw_uid)
        }
        var gids: Set<gid_t> = []
        for group in groups {
            if let gid = gid_t(group) { gids.insert(gid); continue }
            guard let entry = getgrnam(group) else { throw ListenerError("no such group \(group) (api.allowed_groups)") }
            gids.insert(entry.pointee.gr_gid)
        }
        allowedUIDs = uids
        allowedGIDs = gids
    }

    public func allows(uid: uid_t, gid: gid_t) -> Bool {
        if allowedUIDs.contains(uid) || allowedGIDs.contains(gid) { return true }
        guard !allowedGIDs.isEmpty else { return false }
        return !Self.groups(ofUID: uid, primary: gid).isDisjoint(with: allowedGIDs)
    }

    /// The supplementary groups of the user with `uid` (from the group database).
    static func groups(ofUID uid: uid_t, primary: gid_t) -> Set<gid_t> {
        guard let entry = getpwuid(uid), let name = entry.pointee.pw_name else { return [primary] }
        var count: Int32 = 64
        var list = [gid_t](repeating: 0, count: Int(count))
        if getgrouplist(name, primary, &list, &count) == -1 {
            list = [gid_t](repeating: 0, count: Int(count))
            guard getgrouplist(name, primary, &list, &count) != -1 else { return [primary] }
        }
        return Set(list.prefix(Int(count)))
    }
}

/// Linux's `struct ucred` (SO_PEERCRED), which Glibc only declares under _GNU_SOURCE: the
/// same three 32-bit fields in the same order.
struct PeerCredentials: Sendable {
    var pid: pid_t = 0
    var uid: uid_t = 0
    var gid: gid_t = 0
}

/// Counts open connections, per user and in total, against `ConnectionLimits`: a client
/// that opens connections without end is turned away at its share, and the daemon keeps
/// file descriptors for everyone else.
final class ConnectionLimiter: Sendable {
    let limits: ConnectionLimits
    private let logger: Logger
    private let state = Mutex<(total: Int, byUID: [uid_t: Int], lastWarning: ContinuousClock.Instant?)>((0, [:], nil))

    init(_ limits: ConnectionLimits, logger: Logger) {
        self.limits = limits
        self.logger = logger
    }

    /// Takes a place for `uid`, or false when its share or the total is used up.
    func admit(_ uid: uid_t) -> Bool {
        let (admitted, warn) = state.withLock { s -> (Bool, Bool) in
            let mine = s.byUID[uid, default: 0]
            guard s.total < limits.total, mine < limits.perPeer else {
                // Refusals come in floods: one warning every 10 s says it.
                let now = ContinuousClock.now
                let warn = s.lastWarning.map { now - $0 > .seconds(10) } ?? true
                if warn { s.lastWarning = now }
                return (false, warn)
            }
            s.total += 1
            s.byUID[uid] = mine + 1
            return (true, false)
        }
        if warn {
            logger.warning("local API connection limit reached: connections refused",
                           metadata: ["uid": "\(uid)", "total": "\(limits.total)", "per_peer": "\(limits.perPeer)"])
        }
        return admitted
    }

    func release(_ uid: uid_t) {
        state.withLock { s in
            s.total -= 1
            let left = s.byUID[uid, default: 1] - 1
            s.byUID[uid] = left > 0 ? left : nil
        }
    }

    var open: Int { state.withLock { $0.total } }
}

/// Checks each new connection's SO_PEERCRED against the policy and the connection limits as
/// it is set up; a refused peer's connection is closed at once. One handler per connection.
final class PeerCredentialsHandler: ChannelInboundHandler, RemovableChannelHandler, Sendable {
    typealias InboundIn = NIOAny

    let policy: PeerPolicy
    let limiter: ConnectionLimiter
    let logger: Logger
    /// The uid this connection holds a place for, once admitted.
    private let admitted = Mutex<uid_t?>(nil)

    init(policy: PeerPolicy, limiter: ConnectionLimiter, logger: Logger) {
        (self.policy, self.limiter, self.logger) = (policy, limiter, logger)
    }

    func handlerAdded(context: ChannelHandlerContext) {
        guard let provider = context.channel as? any SocketOptionProvider else {
            logger.error("local API connection without socket options: refused")
            context.close(promise: nil)
            return
        }
        let future: EventLoopFuture<PeerCredentials> = provider.unsafeGetSocketOption(level: .init(SOL_SOCKET), name: .init(SO_PEERCRED))
        let loopBound = NIOLoopBound(context, eventLoop: context.eventLoop)
        let channel = context.channel
        future.whenComplete { [self] result in
            switch result {
            case .success(let credentials) where policy.allows(uid: credentials.uid, gid: credentials.gid):
                if limiter.admit(credentials.uid) {
                    admitted.withLock { $0 = credentials.uid }
                    PeerRegistry.shared.admit(channel, uid: credentials.uid)
                } else {
                    loopBound.value.close(promise: nil)
                }
            case .success(let credentials):
                logger.notice("local API connection refused", metadata: ["uid": "\(credentials.uid)", "pid": "\(credentials.pid)"])
                loopBound.value.close(promise: nil)
            case .failure(let error):
                logger.error("local API peer credentials unreadable: refused", metadata: ["error": "\(error)"])
                loopBound.value.close(promise: nil)
            }
        }
    }

    func handlerRemoved(context: ChannelHandlerContext) {
        PeerRegistry.shared.remove(context.channel)
        if let uid = admitted.withLock({ slot -> uid_t? in
            defer { slot = nil }
            return slot
        }) {
            limiter.release(uid)
        }
    }
}
