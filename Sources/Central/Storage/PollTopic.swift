import Foundation
import Synchronization

/// What a unit's long poll waits for: something new for that unit (a dispatch entry, an
/// order, a confirmation answer), or for every unit (a bulletin).
public enum PollTopic: Sendable, Hashable {
    case unit(String)
    case everyone

    /// The PostgreSQL notification channel.
    static let channel = "mpolice_poll"

    var text: String {
        switch self {
        case .unit(let unit): "unit:\(unit)"
        case .everyone: "*"
        }
    }

    init?(text: String) {
        if text == "*" {
            self = .everyone
        } else if text.hasPrefix("unit:"), text.count > 5 {
            self = .unit(String(text.dropFirst(5)))
        } else {
            return nil
        }
    }
}

/// Where the changes come from: a PostgreSQL `LISTEN`, or SQLite's `poll_change` table.
/// Blocking: `PollWaker` reads it on a thread of its own.
public protocol PollChangeSource: Sendable {
    /// The topics changed since the last call, waiting up to `timeout` for the first.
    /// `[.everyone]` after a reconnection (what was said meanwhile is lost).
    /// - Throws: `CenterDatabaseError` when the database cannot be reached.
    func next(timeout: Duration) throws -> [PollTopic]
    func close()
}

/// The long polls waiting in this process, woken by topic. A poll takes a `mark` before it
/// queries, then waits for any change after that mark, so a change between its query and
/// its wait is never missed.
public final class PollWaiters: Sendable {
    public struct Mark: Sendable, Equatable {
        fileprivate let unit: UInt64
        fileprivate let everyone: UInt64
    }

    private struct Waiter {
        let unit: String
        let continuation: CheckedContinuation<Void, Never>
    }

    private struct State {
        var generations: [String: UInt64] = [:]
        var everyone: UInt64 = 0
        var waiters: [Int: Waiter] = [:]
        var nextId = 0
    }

    private let state = Mutex(State())

    public init() {}

    public func mark(_ unit: String) -> Mark {
        state.withLock { Mark(unit: $0.generations[unit] ?? 0, everyone: $0.everyone) }
    }

    /// How many polls are waiting now.
    public var waiting: Int { state.withLock { $0.waiters.count } }

    public func wake(_ topics: [PollTopic]) {
        let resumed: [CheckedContinuation<Void, Never>] = state.withLock { state in
            var units = Set<String>()
            var all = false
            for topic in topics {
                switch topic {
                case .everyone: all = true
                case .unit(let unit): units.insert(unit)
                }
            }
            if all { state.everyone &+= 1 }
            for unit in units { state.generations[unit, default: 0] &+= 1 }
            var resumed: [CheckedContinuation<Void, Never>] = []
            for (id, waiter) in state.waiters where all || units.contains(waiter.unit) {
                resumed.append(waiter.continuation)
                state.waiters[id] = nil
            }
            return resumed
        }
        for continuation in resumed { continuation.resume() }
    }

    /// Returns once `unit` or everyone changed after `mark`, at `deadline`, or when the task
    /// is cancelled, whichever comes first.
    public func wait(_ unit: String, since mark: Mark, until deadline: ContinuousClock.Instant) async {
        await withTaskGroup(of: Void.self) { group in
            group.addTask { await self.changed(unit, since: mark) }
            group.addTask { try? await Task.sleep(until: deadline, clock: .continuous) }
            await group.next()
            group.cancelAll()
        }
    }

    private func changed(_ unit: String, since mark: Mark) async {
        let id = state.withLock { state -> Int in
            state.nextId += 1
            return state.nextId
        }
        await withTaskCancellationHandler {
            await withCheckedContinuation { (continuation: CheckedContinuation<Void, Never>) in
                let now = state.withLock { state -> Bool in
                    if Task.isCancelled || self.mark(locked: state, unit) != mark { return true }
                    state.waiters[id] = Waiter(unit: unit, continuation: continuation)
                    return false
                }
                if now { continuation.resume() }
            }
        } onCancel: {
            let waiter = state.withLock { $0.waiters.removeValue(forKey: id) }
            waiter?.continuation.resume()
        }
    }

    private func mark(locked state: State, _ unit: String) -> Mark {
        Mark(unit: state.generations[unit] ?? 0, everyone: state.everyone)
    }
}
