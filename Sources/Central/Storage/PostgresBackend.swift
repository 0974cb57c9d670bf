import CPostgres
import Foundation
import Synchronization

/// The center on a PostgreSQL server (libpq): a national fleet. A fixed pool of
/// connections, each lent to one transaction at a time; long polls are woken by
/// `LISTEN`/`NOTIFY` on `PollTopic.channel`, never by querying.
final class PostgresBackend: CenterBackend {
    let url: String
    let location: String
    var dialect: SQLDialect { .postgres }
    private let idle: Mutex<[PostgresConnection]>
    /// Counts the connections not lent out.
    private let available: DispatchSemaphore

    /// - Parameter connections: the pool's size (the server's request threads share it).
    init(url: String, connections: Int = 8) throws {
        self.url = url
        location = Self.withoutPassword(url)
        // One connection first: a wrong URL or a server that is down is said once, at once.
        var opened = [try PostgresConnection(url: url)]
        for _ in 1..<max(1, connections) { opened.append(try PostgresConnection(url: url)) }
        idle = Mutex(opened)
        available = DispatchSemaphore(value: opened.count)
        try CenterSchema.migrate(self)
    }

    func write<T>(_ body: (any SQLSession) throws -> T) throws -> T {
        try transaction("BEGIN", body)
    }

    func read<T>(_ body: (any SQLSession) throws -> T) throws -> T {
        try transaction("BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY", body)
    }

    func pollChanges() throws -> any PollChangeSource { try Listener(url: url) }

    private func transaction<T>(_ begin: String, _ body: (any SQLSession) throws -> T) throws -> T {
        available.wait()
        let connection = idle.withLock { $0.removeLast() }
        defer {
            idle.withLock { $0.append(connection) }
            available.signal()
        }
        try connection.begin(begin)
        do {
            let value = try body(Session(connection: connection))
            try connection.command("COMMIT")
            return value
        } catch {
            _ = try? connection.command("ROLLBACK")
            throw error
        }
    }

    struct Session: SQLSession {
        let connection: PostgresConnection
        var dialect: SQLDialect { .postgres }

        func execute(_ sql: String, _ arguments: [any SQLBindable]) throws -> Int { try connection.execute(sql, arguments) }
        func query(_ sql: String, _ arguments: [any SQLBindable]) throws -> [SQLRow] { try connection.query(sql, arguments) }
    }

    /// A connection of its own that LISTENs; reconnects after the server restarts, and then
    /// reports `.everyone` (notifications sent meanwhile were lost).
    final class Listener: PollChangeSource {
        private let url: String
        private let connection: Mutex<PostgresConnection?>

        init(url: String) throws {
            self.url = url
            connection = Mutex(try Self.listen(url))
        }

        private static func listen(_ url: String) throws -> PostgresConnection {
            let connection = try PostgresConnection(url: url)
            try connection.command("LISTEN \(PollTopic.channel)")
            return connection
        }

        func next(timeout: Duration) throws -> [PollTopic] {
            try connection.withLock { slot in
                guard let current = slot else {
                    slot = try Self.listen(url)
                    return [.everyone]
                }
                do {
                    var found = try current.notifications()
                    if found.isEmpty {
                        var descriptor = pollfd(fd: current.socket, events: Int16(POLLIN), revents: 0)
                        let milliseconds = Int32(min(Double(Int32.max), Double(timeout.components.seconds) * 1000
                                                     + Double(timeout.components.attoseconds) / 1e15))
                        _ = poll(&descriptor, 1, milliseconds)
                        found = try current.notifications()
                    }
                    return found.filter { $0.channel == PollTopic.channel }.compactMap { PollTopic(text: $0.payload) }
                } catch {
                    slot = nil
                    throw error
                }
            }
        }

        func close() { connection.withLock { $0 = nil } }
    }

    /// The URL as messages may show it: no password.
    static func withoutPassword(_ url: String) -> String {
        guard var components = URLComponents(string: url), components.password != nil else { return url }
        components.password = "***"
        return components.string ?? url
    }
}
