import Foundation
import Logging
import NIOCore

/// Who may talk to the daemon over its Unix socket, judged by the peer's credentials
/// (SO_PEERCRED) on every connection: root, the daemon's own user, the configured users, and
/// members (primary or supplementary) of the configured groups. Everyone else is
/// disconnected before a byte is read.
public struct PeerPolicy: Sendable {
    public let allowedUIDs: Set<uid_t>
    public let allowedGIDs: Set<gid_t>

    /// Resolves names (or numeric ids) once, at start-up.
    /// - Throws: `PeerPolicyError` naming a user or group that does not exist.
    public init(users: [String], groups: [String]) throws {
        var uids: Set<uid_t> = [0, getuid()]
        for user in users {
            if let uid = uid_t(user) { uids.insert(uid); continue }
            guard let entry = getpwnam(user) else { throw PeerPolicyError(description: "no such user \(user)") }
            uids.insert(entry.pointee.pw_uid)
        }
        var gids: Set<gid_t> = []
        for group in groups {
            if let gid = gid_t(group) { gids.insert(gid); continue }
            guard let entry = getgrnam(group) else { throw PeerPolicyError(description: "no such group \(group)") }
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

public struct PeerPolicyError: Error, CustomStringConvertible, Sendable {
    public let description: String
}

/// Linux's `struct ucred` (SO_PEERCRED), which Glibc only declares under _GNU_SOURCE: the
/// same three 32-bit fields in the same order.
struct PeerCredentials: Sendable {
    var pid: pid_t = 0
    var uid: uid_t = 0
    var gid: gid_t = 0
}

/// Checks each new connection's SO_PEERCRED against the policy as it is set up; a refused
/// peer's connection is closed at once.
final class PeerCredentialsHandler: ChannelInboundHandler, RemovableChannelHandler, Sendable {
    typealias InboundIn = NIOAny

    let policy: PeerPolicy
    let logger: Logger

    init(policy: PeerPolicy, logger: Logger) {
        self.policy = policy
        self.logger = logger
    }

    func handlerAdded(context: ChannelHandlerContext) {
        guard let provider = context.channel as? any SocketOptionProvider else {
            logger.error("local API connection without socket options: refused")
            context.close(promise: nil)
            return
        }
        let future: EventLoopFuture<PeerCredentials> = provider.unsafeGetSocketOption(level: .init(SOL_SOCKET), name: .init(SO_PEERCRED))
        let policy = policy, logger = logger
        let loopBound = NIOLoopBound(context, eventLoop: context.eventLoop)
        future.whenComplete { result in
            switch result {
            case .success(let credentials) where policy.allows(uid: credentials.uid, gid: credentials.gid):
                break
            case .success(let credentials):
                logger.notice("local API connection refused", metadata: ["uid": "\(credentials.uid)", "pid": "\(credentials.pid)"])
                loopBound.value.close(promise: nil)
            case .failure(let error):
                logger.error("local API peer credentials unreadable: refused", metadata: ["error": "\(error)"])
                loopBound.value.close(promise: nil)
            }
        }
    }
}
