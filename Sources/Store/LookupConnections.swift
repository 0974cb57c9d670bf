import GRDB
import Synchronization

/// A fixed set of read-only connections handed out round-robin. Two checks that land on the
/// same connection take turns; with one connection per core they rarely do.
final class LookupConnections: Sendable {
    private let queues: [DatabaseQueue]
    private let counter = Atomic<Int>(0)

    init(_ queues: [DatabaseQueue]) {
        precondition(!queues.isEmpty)
        self.queues = queues
    }

    /// Empties each connection's page cache and statement cache (`sqlite3_db_release_memory`).
    func releaseMemory() {
        for queue in queues { queue.releaseMemory() }
    }

    func next() -> DatabaseQueue {
        let n = counter.add(1, ordering: .relaxed).oldValue
        return queues[(n & Int.max) % queues.count]
    }
}
