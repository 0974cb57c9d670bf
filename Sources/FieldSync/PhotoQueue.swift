import Watchlist

/// The order in which the photo downlink fetches (`PhotoSync`), as a pure value: a hit's
/// photos first, always; then the prefetch plan (already in priority order and cut to the
/// budget by the store), but only while neither the list sync nor an upload is under way;
/// a photo that failed waits out its backoff. The service asks `next` and does what it says.
public struct PhotoQueue: Sendable, Equatable {
    public enum Action: Sendable, Equatable {
        /// Fetch this photo; `urgent` for a hit's.
        case fetch(PhotoReference, urgent: Bool)
        /// Nothing may go now; ask again at this monotonic millisecond (nil: when woken).
        case wait(until: Int64?)
    }

    /// A hit's photos, oldest request first.
    public private(set) var urgent: [PhotoReference] = []
    /// The prefetch plan's photos not yet on the device, in order.
    public private(set) var pending: [PhotoReference] = []
    public struct Failure: Sendable, Equatable {
        /// Monotonic ms before which the photo is not tried again.
        public var notBefore: Int64
        public var count: Int
    }

    /// sha256 → its last failure.
    public private(set) var failures: [String: Failure] = [:]

    /// While the list sync or an upload runs, prefetch looks again this often.
    public static let busyRecheck: Int64 = 1_000
    /// Backoff after a failed fetch: 30 s doubling to an hour.
    public static let firstRetry: Int64 = 30_000
    public static let maxRetry: Int64 = 3_600_000

    public init() {}

    /// A new prefetch plan: the photos that fit the budget and are not held yet.
    public mutating func plan(_ photos: [PhotoReference]) {
        pending = photos
    }

    /// A hit's photos that are not on the device: ahead of everything, oldest first.
    /// - Returns: whether any was new to the urgent queue.
    @discardableResult
    public mutating func requestForHit(_ photos: [PhotoReference]) -> Bool {
        var added = false
        for photo in photos where !urgent.contains(where: { $0.sha256 == photo.sha256 }) {
            urgent.append(photo)
            failures[photo.sha256] = nil   // an officer is waiting: try at once
            added = true
        }
        return added
    }

    /// What to do now.
    /// - Parameter busy: the list sync or an upload is under way (prefetch yields to them).
    public func next(now: Int64, busy: Bool) -> Action {
        func ready(_ photo: PhotoReference) -> Bool { (failures[photo.sha256]?.notBefore ?? 0) <= now }
        if let photo = urgent.first(where: ready) { return .fetch(photo, urgent: true) }
        let waiting = (urgent + pending).compactMap { failures[$0.sha256]?.notBefore }.min()
        if let photo = pending.first(where: ready) {
            return busy ? .wait(until: now + Self.busyRecheck) : .fetch(photo, urgent: false)
        }
        return .wait(until: waiting)
    }

    /// The photo is on the device (fetched, or found held).
    public mutating func fetched(_ photo: PhotoReference) {
        urgent.removeAll { $0.sha256 == photo.sha256 }
        pending.removeAll { $0.sha256 == photo.sha256 }
        failures[photo.sha256] = nil
    }

    /// The fetch failed: the photo waits out its backoff. Returns the wait, ms.
    @discardableResult
    public mutating func failed(_ photo: PhotoReference, now: Int64) -> Int64 {
        let count = (failures[photo.sha256]?.count ?? 0) + 1
        let wait = min(Self.maxRetry, Self.firstRetry << min(count - 1, 20))
        failures[photo.sha256] = Failure(notBefore: now + wait, count: count)
        return wait
    }
}
