import FieldWire
import Foundation
import Logging
import Store
import Synchronization
import Watchlist

/// Takes bulletins as they arrive — pushed over the uplink's long poll, or listed in a
/// manifest — verifies each against the trusted root (`Bulletin.verify`), and stores those
/// for this terminal's region so that the next check matches them. A bulletin already held
/// is a replay and is skipped quietly (every manifest lists the bulletins pushed before).
public final class BulletinReceiver: Sendable {
    public enum Event: Sendable, Equatable {
        case received(Bulletin, source: String)
        case refused(code: BulletinRefusalCode, bulletinId: String?)
    }

    /// What one `receive` did.
    public struct Report: Sendable {
        public var received: [Bulletin] = []
        public var refused: [(code: BulletinRefusalCode, bulletinId: String?)] = []
    }

    private let provisionedRoot: URL
    /// This terminal's region (`terminal.region`); nil takes every region's bulletins.
    public let region: String?
    private let lists: ListsStore
    private let journal: JournalStore
    private let clock: any TerminalClock
    private let logger: Logger
    private let onEvent: @Sendable (Event) -> Void
    /// One receive at a time: the poll and the sync must not both take the same bulletin.
    private let serial = Mutex(())

    public init(provisionedRoot: URL, region: String?, lists: ListsStore, journal: JournalStore, clock: any TerminalClock = SystemClock(),
                logger: Logger = Logger(label: "mpolice.bulletins"), onEvent: @escaping @Sendable (Event) -> Void = { _ in }) {
        (self.provisionedRoot, self.region, self.lists, self.journal) = (provisionedRoot, region, lists, journal)
        (self.clock, self.logger, self.onEvent) = (clock, logger, onEvent)
    }

    /// Verifies and stores each bulletin; refusals are logged with their code (a replay or
    /// another region's bulletin at debug level: they are expected).
    /// - Parameter trusted: the root to verify against (a sync passes the one it just walked
    ///   to); nil: the terminal's current trusted root.
    @discardableResult
    public func receive(_ envelopes: [SignedEnvelope], source: String, root trusted: RootMetadata? = nil) -> Report {
        guard !envelopes.isEmpty else { return Report() }
        return serial.withLock { _ in
            var report = Report()
            let root: RootMetadata
            do {
                root = try trusted ?? TrustState.current(provisionedRoot: provisionedRoot, stored: try lists.syncState(),
                                                         floor: try journal.trustFloor()).0.root
            } catch {
                logger.error("cannot verify bulletins: no trust root", metadata: ["error": "\(error)"])
                return report
            }
            let now = lists.judgementTime(clock)
            for envelope in envelopes {
                do {
                    let bulletin = try Bulletin.verify(envelope, root: root, region: region, now: now) { journal.holdsBulletin(id: $0) }
                    try journal.storeBulletin(bulletin, source: source, now: clock.nowMilliseconds)
                    report.received.append(bulletin)
                    logger.notice("urgent bulletin received", metadata: [
                        "bulletin": "\(bulletin.id)", "kind": "\(bulletin.subject.kind.rawValue)", "source": "\(source)",
                        "expires_in_s": "\(bulletin.expiresAt - now)"])
                    onEvent(.received(bulletin, source: source))
                } catch let refusal as BulletinRefusal {
                    let id = Self.claimedId(envelope)
                    report.refused.append((refusal.code, id))
                    switch refusal.code {
                    case .replayed, .otherRegion:
                        logger.debug("bulletin skipped", metadata: ["code": "\(refusal.code.rawValue)", "bulletin": "\(id ?? "-")"])
                    default:
                        logger.warning("bulletin refused", metadata: ["code": "\(refusal.code.rawValue)", "detail": "\(refusal.message)",
                                                                      "source": "\(source)"])
                        onEvent(.refused(code: refusal.code, bulletinId: id))
                    }
                } catch {
                    logger.error("cannot store a bulletin", metadata: ["error": "\(error)"])
                }
            }
            return report
        }
    }

    /// The id an envelope claims, unverified (for the log and the event only).
    static func claimedId(_ envelope: SignedEnvelope) -> String? {
        Data(base64Encoded: envelope.payload).flatMap { try? WireJSON.decode(Bulletin.self, from: $0) }?.id
    }
}
