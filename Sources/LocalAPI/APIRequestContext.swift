import Foundation
import Hummingbird
import NIOCore
import Synchronization

/// A request's context with who sent it: the peer's uid from SO_PEERCRED, read when the
/// connection was admitted (`PeerCredentialsHandler`). Root is a technician: it may sign an
/// officer out, replace them or unlock the session without their PIN (recorded as such).
public struct APIRequestContext: RequestContext {
    public var coreContext: CoreRequestContextStorage
    /// nil when the request did not come over the socket (in-process tests).
    public let peerUID: uid_t?

    public init(source: ApplicationRequestContextSource) {
        coreContext = .init(source: source)
        peerUID = PeerRegistry.shared.uid(of: source.channel)
    }

    var actor: OfficerSession.Actor { peerUID == 0 ? .technician : .client }
}

/// The admitted connections' peer uids, by channel.
final class PeerRegistry: Sendable {
    static let shared = PeerRegistry()
    private let uids = Mutex<[ObjectIdentifier: uid_t]>([:])

    func admit(_ channel: any Channel, uid: uid_t) { uids.withLock { $0[ObjectIdentifier(channel)] = uid } }
    func remove(_ channel: any Channel) { uids.withLock { $0[ObjectIdentifier(channel)] = nil } }
    func uid(of channel: any Channel) -> uid_t? { uids.withLock { $0[ObjectIdentifier(channel)] } }
}
