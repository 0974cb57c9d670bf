import Foundation

/// The center's database, whichever engine holds it: SQLite (one file, the embedded default
/// for demos and tests) or PostgreSQL (a national fleet). Every statement the center runs is
/// written once, in the SQL both engines understand; the few places where they differ
/// (table definitions, JSON fields, counters) ask the `dialect`.
public protocol CenterBackend: Sendable {
    var dialect: SQLDialect { get }
    /// Runs `body` in one transaction, committed when it returns, rolled back when it throws.
    func write<T>(_ body: (any SQLSession) throws -> T) throws -> T
    /// Runs `body` on a consistent snapshot.
    func read<T>(_ body: (any SQLSession) throws -> T) throws -> T
    /// Where the center hears that a unit's long poll has something new (`PollTopic`s
    /// written by `SQLSession.notify`, by this process or another).
    func pollChanges() throws -> any PollChangeSource
    /// Where the database is, for messages (no password).
    var location: String { get }
}

public enum SQLDialect: Sendable {
    case sqlite
    case postgres

    /// A text field of a JSON text column: `json_extract` or `->>`.
    func jsonText(_ column: String, _ field: String) -> String {
        switch self {
        case .sqlite: "json_extract(\(column), '$.\(field)')"
        case .postgres: "(\(column)::jsonb ->> '\(field)')"
        }
    }

    /// An integer field of a JSON text column.
    func jsonInteger(_ column: String, _ field: String) -> String {
        switch self {
        case .sqlite: "json_extract(\(column), '$.\(field)')"
        case .postgres: "(\(column)::jsonb ->> '\(field)')::bigint"
        }
    }
}

/// One connection inside a transaction (`CenterBackend.read`/`write`). Statements use `?`
/// (or `?N`, the N-th argument) for their arguments, as SQLite writes them.
public protocol SQLSession {
    var dialect: SQLDialect { get }
    /// Runs a statement; returns the rows it changed.
    @discardableResult
    func execute(_ sql: String, _ arguments: [any SQLBindable]) throws -> Int
    func query(_ sql: String, _ arguments: [any SQLBindable]) throws -> [SQLRow]
}

extension SQLSession {
    @discardableResult
    func execute(_ sql: String, _ arguments: any SQLBindable...) throws -> Int { try execute(sql, arguments) }

    func query(_ sql: String, _ arguments: any SQLBindable...) throws -> [SQLRow] { try query(sql, arguments) }

    func queryOne(_ sql: String, _ arguments: any SQLBindable...) throws -> SQLRow? { try query(sql, arguments).first }

    /// Wakes the long polls `topic` concerns when this transaction commits (in every center
    /// process on the same database).
    func notify(_ topic: PollTopic) throws {
        switch dialect {
        case .sqlite: try execute("INSERT INTO poll_change (topic) VALUES (?)", topic.text)
        case .postgres: _ = try query("SELECT pg_notify('\(PollTopic.channel)', ?)", topic.text)
        }
    }
}

/// A value as a statement binds it or a row holds it.
public enum SQLValue: Sendable, Equatable {
    case null
    case integer(Int64)
    case real(Double)
    case text(String)
}

public protocol SQLBindable: Sendable {
    var sqlValue: SQLValue { get }
}

extension Int64: SQLBindable { public var sqlValue: SQLValue { .integer(self) } }
extension Int: SQLBindable { public var sqlValue: SQLValue { .integer(Int64(self)) } }
extension Double: SQLBindable { public var sqlValue: SQLValue { .real(self) } }
extension String: SQLBindable { public var sqlValue: SQLValue { .text(self) } }
extension Bool: SQLBindable { public var sqlValue: SQLValue { .integer(self ? 1 : 0) } }
extension SQLValue: SQLBindable { public var sqlValue: SQLValue { self } }
extension Optional: SQLBindable where Wrapped: SQLBindable {
    public var sqlValue: SQLValue { self?.sqlValue ?? .null }
}

/// A result row, read by position (the SELECT fixes the order).
public struct SQLRow: Sendable {
    public let values: [SQLValue]

    public init(_ values: [SQLValue]) { self.values = values }

    public func isNull(_ i: Int) -> Bool { values[i] == .null }

    public func optionalInt(_ i: Int) -> Int64? {
        switch values[i] {
        case .null: nil
        case .integer(let v): v
        case .real(let v): Int64(v)
        case .text(let t): Int64(t)
        }
    }

    public func int(_ i: Int) -> Int64 { optionalInt(i) ?? 0 }

    public func optionalDouble(_ i: Int) -> Double? {
        switch values[i] {
        case .null: nil
        case .integer(let v): Double(v)
        case .real(let v): v
        case .text(let t): Double(t)
        }
    }

    public func double(_ i: Int) -> Double { optionalDouble(i) ?? 0 }

    public func optionalText(_ i: Int) -> String? {
        switch values[i] {
        case .null: nil
        case .integer(let v): String(v)
        case .real(let v): String(v)
        case .text(let t): t
        }
    }

    public func text(_ i: Int) -> String { optionalText(i) ?? "" }

    public func bool(_ i: Int) -> Bool { int(i) != 0 }
}

/// A failure of the center's database, with the engine's words.
public struct CenterDatabaseError: Error, CustomStringConvertible, Sendable {
    public enum Code: String, Sendable {
        /// The database cannot be reached (PostgreSQL down or restarting): retry later.
        case unavailable
        /// A statement failed.
        case statement
        /// A unique key was already taken.
        case conflict
    }
    public let code: Code
    public let description: String

    init(_ code: Code, _ description: String) {
        self.code = code
        self.description = description
    }
}
