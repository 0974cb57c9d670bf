import FieldWire
import Foundation
import GRDB
import GRDBSQLite
import Watchlist

extension ListsStore {
    /// Progress of a load or apply: rows written into a list, and the steps of a new
    /// generation (docs/storage.md).
    public typealias LoadProgress = @Sendable (ApplyProgress) -> Void

    /// Replaces the content of all three lists with the data set in `directory`: a new
    /// generation, made current only when every row loaded. A bad row anywhere (named by
    /// file, line and column) leaves the previous lists untouched.
    /// - Returns: the data set's manifest.
    @discardableResult
    public func replaceAll(withDatasetAt directory: URL, progress: LoadProgress? = nil) throws -> Dataset.Manifest {
        let manifest = try wrap { try Dataset.Manifest.read(from: directory) }
        var plan: [ListKind: GenerationList] = [:]
        for list in ListKind.allCases {
            guard Dataset.holds(list, in: directory) else {
                plan[list] = GenerationList(version: 0, recordCount: 0, digest: nil, source: .absent, mode: .full)
                continue
            }
            plan[list] = GenerationList(version: manifest.version, recordCount: Int64(manifest.counts[list.rawValue] ?? -1),
                                        digest: nil, source: .rows { try Dataset.reader(list, in: directory) }, mode: manifest.mode(list))
        }
        try wrap {
            try Self.withWriterLock(self.directory) {
                try buildGeneration(plan, issuedAt: manifest.issuedAt, expiresAt: manifest.expiresAt, syncState: nil, progress: progress)
            }
        }
        return manifest
    }

    /// Inserts one list's rows from `reader` (positioned at the first record) into an empty
    /// table. A parser thread reads, validates, normalises and digests the CSV while this
    /// thread inserts what it has handed over: the two overlap on a multi-core terminal, and
    /// a bad row still stops the load with its file, line and column.
    static func load(_ list: ListKind, from reader: CSVReader, into db: Database, expected: Int,
                     progress: LoadProgress?) throws -> (count: Int64, digest: ListDigest) {
        let statement = try db.makeStatement(sql: insertSQL(list))
        let keyColumn = keyColumn(list)
        let pipeline = RowPipeline()
        let parser = Thread { [reader] in
            var reader = reader
            var digest = ListDigest()
            do {
                var batch: [ParsedRow] = []
                batch.reserveCapacity(RowPipeline.batchSize)
                while let fields = try reader.nextRow() {
                    let row = try ListRow(list, fields, file: reader.fileName, line: reader.line)
                    digest.add(fields: row.fields)
                    batch.append(ParsedRow(line: reader.line, row: row))
                    if batch.count == RowPipeline.batchSize {
                        guard pipeline.put(batch) else { return }
                        batch.removeAll(keepingCapacity: true)
                    }
                }
                if !batch.isEmpty { _ = pipeline.put(batch) }
                pipeline.finish(nil, digest: digest)
            } catch {
                pipeline.finish(error, digest: digest)
            }
        }
        parser.start()
        defer { pipeline.cancel() }
        progress?(.records(list, done: 0, total: expected))
        var count = 0
        let file = reader.fileName
        while let batch = try pipeline.take() {
            for parsed in batch {
                switch Self.insert(parsed.row, with: statement, keyColumn: keyColumn) {
                case SQLITE_DONE: break
                case SQLITE_CONSTRAINT: throw StoreError(.badDataset, "\(file):\(parsed.line): record_id: duplicate record id")
                case let code: throw StoreError(.database, "lists database: \(String(cString: sqlite3_errstr(code)))")
                }
                count += 1
                if count % 50_000 == 0 { progress?(.records(list, done: count, total: expected)) }
            }
        }
        progress?(.records(list, done: count, total: expected))
        return (Int64(count), pipeline.digest)
    }

    /// The INSERT for `list`'s table, columns in table order (`ListSchema.tableColumns`).
    static func insertSQL(_ list: ListKind) -> String {
        let columns = ListSchema.of(list).tableColumns
        return "INSERT INTO \(table(list)) (\(columns.joined(separator: ", "))) VALUES (\(Array(repeating: "?", count: columns.count).joined(separator: ",")))"
    }

    /// The table column of `list`'s derived key (after its source column); `Int.max` for a
    /// list without one.
    static func keyColumn(_ list: ListKind) -> Int { ListSchema.of(list).derivedKey.map { $0.source + 1 } ?? Int.max }

    /// Binds a row's fields and derived key as text (nil as NULL) and steps `statement`.
    /// The loader binds straight through SQLite: GRDB's argument boxing is a third of the
    /// insert cost at a million rows.
    /// - Returns: SQLite's result code (primary code).
    /// - Parameter keyColumn: `keyColumn(row.list)`, worked out once per list by the caller
    ///   (this runs per row).
    static func insert(_ row: ListRow, with statement: Statement, keyColumn: Int) -> Int32 {
        let handle = statement.sqliteStatement
        sqlite3_reset(handle)
        for (i, value) in row.fields.enumerated() { bind(value, at: Int32(i < keyColumn ? i + 1 : i + 2), of: handle) }
        if keyColumn != Int.max { bind(row.key, at: Int32(keyColumn + 1), of: handle) }
        return sqlite3_step(handle) & 0xFF
    }

    /// Binds `value` as text (nil as NULL) to parameter `index` (1-based) of `statement`.
    static func bind(_ value: String?, at index: Int32, of statement: OpaquePointer) {
        guard var value else {
            sqlite3_bind_null(statement, index)
            return
        }
        value.withUTF8 { _ = sqlite3_bind_text(statement, index, $0.baseAddress, Int32($0.count), SQLITE_TRANSIENT) }
    }

    /// Column `column` of `statement`'s current row as the text it was loaded from (empty for
    /// NULL): SQLite renders the flags it keeps as integers (`vulnerable`, `company_owned`) in
    /// decimal, as they were given. Valid until the statement steps or resets.
    static func storedBytes(_ statement: OpaquePointer, _ column: Int) -> UnsafeRawBufferPointer {
        let text = sqlite3_column_text(statement, Int32(column))
        return UnsafeRawBufferPointer(start: text, count: Int(sqlite3_column_bytes(statement, Int32(column))))
    }
}

let SQLITE_TRANSIENT = unsafeBitCast(-1, to: sqlite3_destructor_type.self)

/// A validated row and the CSV line it came from.
struct ParsedRow: Sendable {
    var line: Int
    var row: ListRow
}

/// A bounded hand-over of row batches from the parser thread to the inserting thread.
final class RowPipeline: @unchecked Sendable {
    static let batchSize = 4_096
    private static let maxQueued = 8
    private let condition = NSCondition()
    // Guarded by `condition`.
    private var queue: [[ParsedRow]] = []
    private var done = false
    private var failure: (any Error)?
    private var cancelled = false
    private var parsedDigest = ListDigest()

    /// Hands a batch over, waiting while the queue is full. False once the consumer gave up.
    func put(_ batch: [ParsedRow]) -> Bool {
        condition.lock()
        defer { condition.unlock() }
        while queue.count >= Self.maxQueued, !cancelled { condition.wait() }
        guard !cancelled else { return false }
        queue.append(batch)
        condition.broadcast()
        return true
    }

    /// Ends the stream, with the parser's error if it failed and the digest of every row
    /// it handed over.
    func finish(_ error: (any Error)?, digest: ListDigest) {
        condition.lock()
        done = true
        failure = error
        parsedDigest = digest
        condition.broadcast()
        condition.unlock()
    }

    /// The next batch; nil at the end; throws the parser's error.
    func take() throws -> [ParsedRow]? {
        condition.lock()
        defer { condition.unlock() }
        while queue.isEmpty, !done { condition.wait() }
        if !queue.isEmpty {
            let batch = queue.removeFirst()
            condition.broadcast()
            return batch
        }
        if let failure { throw failure }
        return nil
    }

    /// The digest the parser reported with `finish` (read after `take` returned nil).
    var digest: ListDigest {
        condition.lock()
        defer { condition.unlock() }
        return parsedDigest
    }

    /// The consumer stopped (error or done): release a parser waiting to put.
    func cancel() {
        condition.lock()
        cancelled = true
        condition.broadcast()
        condition.unlock()
    }
}
