import FieldSync
import Testing
import Watchlist

@Suite("The photo downlink's queue")
struct PhotoQueueTests {
    static func photo(_ n: Int) -> PhotoReference {
        PhotoReference(sha256: String(repeating: String(n % 10), count: 64), bytes: 30_000 + n, kind: .face)
    }

    @Test("prefetch follows the plan and yields while the list sync or an upload runs; a hit's photos go first, busy or not")
    func order() {
        var queue = PhotoQueue()
        #expect(queue.next(now: 0, busy: false) == .wait(until: nil), "nothing planned: wait to be woken")
        queue.plan([Self.photo(1), Self.photo(2), Self.photo(3)])
        #expect(queue.next(now: 0, busy: false) == .fetch(Self.photo(1), urgent: false))
        #expect(queue.next(now: 0, busy: true) == .wait(until: PhotoQueue.busyRecheck), "prefetch waits for the lists and uploads")
        let added = queue.requestForHit([Self.photo(3), Self.photo(5)])
        let again = queue.requestForHit([Self.photo(5)])
        #expect(added && !again, "asked twice, queued once")
        #expect(queue.next(now: 0, busy: true) == .fetch(Self.photo(3), urgent: true), "a hit's photo goes even while busy")
        queue.fetched(Self.photo(3))
        #expect(queue.pending == [Self.photo(1), Self.photo(2)], "fetched for the hit: no longer to prefetch")
        #expect(queue.next(now: 0, busy: false) == .fetch(Self.photo(5), urgent: true))
        queue.fetched(Self.photo(5))
        #expect(queue.next(now: 0, busy: false) == .fetch(Self.photo(1), urgent: false))
    }

    @Test("a failed photo waits out a doubling backoff while the rest go on; a hit asks for it again at once")
    func backoff() {
        var queue = PhotoQueue()
        queue.plan([Self.photo(1), Self.photo(2)])
        let firstWait = queue.failed(Self.photo(1), now: 0)
        #expect(firstWait == PhotoQueue.firstRetry)
        #expect(queue.next(now: 0, busy: false) == .fetch(Self.photo(2), urgent: false), "the next photo goes meanwhile")
        queue.fetched(Self.photo(2))
        #expect(queue.next(now: 1_000, busy: false) == .wait(until: PhotoQueue.firstRetry))
        #expect(queue.next(now: PhotoQueue.firstRetry, busy: false) == .fetch(Self.photo(1), urgent: false))
        let secondWait = queue.failed(Self.photo(1), now: PhotoQueue.firstRetry)
        #expect(secondWait == 2 * PhotoQueue.firstRetry)
        for _ in 0..<20 { queue.failed(Self.photo(1), now: 0) }
        #expect(queue.failures[Self.photo(1).sha256]?.notBefore == PhotoQueue.maxRetry, "capped")
        queue.requestForHit([Self.photo(1)])
        #expect(queue.next(now: 0, busy: false) == .fetch(Self.photo(1), urgent: true), "an officer is waiting: no backoff")
    }
}
