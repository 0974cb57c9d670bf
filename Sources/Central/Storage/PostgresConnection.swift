import CPostgres
import Foundation

/// One libpq connection: statements prepared once per connection, arguments and results
/// as text. Not thread-safe: `PostgresBackend` lends it to one caller at a time (hence
/// unchecked: the pool, not the type, keeps it to one thread).
final class PostgresConnection: @unchecked Sendable {
    private var connection: OpaquePointer?
    private let url: String
    /// SQL → prepared statement name, per connection (cleared when it reconnects).
    private var prepared: [String: String] = [:]

    init(url: String) throws {
        self.url = url
        try connect()
    }

    deinit { PQfinish(connection) }

    private func connect() throws {
        PQfinish(connection)
        prepared = [:]
        connection = PQconnectdb(url)
        guard PQstatus(connection) == CONNECTION_OK else {
            let message = Self.message(connection)
            PQfinish(connection)
            connection = nil
            throw CenterDatabaseError(.unavailable, "cannot connect to PostgreSQL: \(message)")
        }
        // Quiet: the center logs what matters itself.
        _ = try command("SET client_min_messages TO warning")
    }

    /// Starts a transaction, on a new connection when the server went away since this one
    /// was last used (restarted, or the connection was cut): a pooled connection finds out
    /// only when it is used.
    func begin(_ sql: String) throws {
        if connection == nil || PQstatus(connection) != CONNECTION_OK { try connect() }
        do {
            try command(sql)
        } catch let error as CenterDatabaseError where error.code == .unavailable {
            try connect()
            try command(sql)
        }
    }

    var socket: Int32 { PQsocket(connection) }

    /// A statement without arguments (BEGIN, COMMIT, LISTEN, DDL).
    @discardableResult
    func command(_ sql: String) throws -> Int {
        let result = PQexec(connection, sql)
        defer { PQclear(result) }
        return try check(result, sql)
    }

    func execute(_ sql: String, _ arguments: [any SQLBindable]) throws -> Int {
        let result = try run(sql, arguments)
        defer { PQclear(result) }
        return try check(result, sql)
    }

    func query(_ sql: String, _ arguments: [any SQLBindable]) throws -> [SQLRow] {
        let result = try run(sql, arguments)
        defer { PQclear(result) }
        _ = try check(result, sql)
        let rows = PQntuples(result), columns = PQnfields(result)
        let types = (0..<columns).map { PQftype(result, $0) }
        return (0..<rows).map { r in
            SQLRow((0..<columns).map { c in
                guard PQgetisnull(result, r, c) == 0 else { return .null }
                let text = String(cString: PQgetvalue(result, r, c))
                switch types[Int(c)] {
                case 16: return .integer(text == "t" ? 1 : 0)                        // bool
                case 20, 21, 23, 26: return Int64(text).map(SQLValue.integer) ?? .text(text)  // int8, int2, int4, oid
                case 700, 701, 1700: return Double(text).map(SQLValue.real) ?? .text(text)    // float4, float8, numeric
                default: return .text(text)
                }
            })
        }
    }

    /// Notifications received so far (`LISTEN`), after reading what the socket holds.
    func notifications() throws -> [(channel: String, payload: String)] {
        guard PQconsumeInput(connection) == 1 else {
            throw CenterDatabaseError(.unavailable, "PostgreSQL connection lost: \(Self.message(connection))")
        }
        var found: [(String, String)] = []
        while let notify = PQnotifies(connection) {
            found.append((String(cString: notify.pointee.relname), String(cString: notify.pointee.extra)))
            PQfreemem(notify)
        }
        return found
    }

    private func run(_ sql: String, _ arguments: [any SQLBindable]) throws -> OpaquePointer? {
        let name: String
        if let known = prepared[sql] {
            name = known
        } else {
            name = "s\(prepared.count + 1)"
            let (translated, count) = Self.translate(sql)
            let result = PQprepare(connection, name, translated, Int32(count), nil)
            defer { PQclear(result) }
            _ = try check(result, sql)
            prepared[sql] = name
        }
        let texts: [String?] = arguments.map { argument in
            switch argument.sqlValue {
            case .null: nil
            case .integer(let v): String(v)
            case .real(let v): String(v)
            case .text(let v): v
            }
        }
        // C strings that live until the call returns.
        let owned = texts.map { $0.map { strdup($0) } ?? nil }
        defer { owned.forEach { free($0) } }
        let pointers = owned.map { UnsafePointer<CChar>($0) }
        return pointers.withUnsafeBufferPointer { buffer in
            PQexecPrepared(connection, name, Int32(buffer.count), buffer.baseAddress, nil, nil, 0)
        }
    }

    /// The rows a command changed; throws the server's error, classified.
    private func check(_ result: OpaquePointer?, _ sql: String) throws -> Int {
        let status = PQresultStatus(result)
        if status == PGRES_COMMAND_OK || status == PGRES_TUPLES_OK {
            return Int(String(cString: PQcmdTuples(result))) ?? 0
        }
        let state = PQresultErrorField(result, Int32(UInt8(ascii: "C"))).map { String(cString: $0) } ?? ""
        let message = PQresultErrorMessage(result).map { String(cString: $0) }?.trimmingCharacters(in: .whitespacesAndNewlines) ?? ""
        if PQstatus(connection) != CONNECTION_OK || state.hasPrefix("08") || state.hasPrefix("57P") {
            throw CenterDatabaseError(.unavailable, "PostgreSQL unavailable: \(message.isEmpty ? Self.message(connection) : message)")
        }
        if state == "23505" { throw CenterDatabaseError(.conflict, message) }
        throw CenterDatabaseError(.statement, "\(message) [\(state)] in: \(sql.prefix(200))")
    }

    private static func message(_ connection: OpaquePointer?) -> String {
        PQerrorMessage(connection).map { String(cString: $0) }?.trimmingCharacters(in: .whitespacesAndNewlines) ?? "no connection"
    }

    /// SQLite's argument marks as PostgreSQL's: `?N` is `$N`; a bare `?` is one more than
    /// the highest number so far (SQLite's rule). Quoted text is left alone.
    static func translate(_ sql: String) -> (sql: String, count: Int) {
        var out = ""
        out.reserveCapacity(sql.utf8.count + 16)
        var highest = 0
        var quote: Character?
        var chars = Array(sql)[...]
        while let c = chars.popFirst() {
            if let q = quote {
                out.append(c)
                if c == q { quote = nil }
                continue
            }
            if c == "'" || c == "\"" {
                quote = c
                out.append(c)
                continue
            }
            guard c == "?" else {
                out.append(c)
                continue
            }
            var digits = ""
            while let d = chars.first, d.isASCII, d.isNumber {
                digits.append(d)
                chars.removeFirst()
            }
            let number = Int(digits) ?? highest + 1
            highest = max(highest, number)
            out += "$\(number)"
        }
        return (out, highest)
    }
}
