import Foundation
import Watchlist

/// The body of a published list file, before compression (docs/sync-protocol.md, "List
/// files"): CSV whose first row names the file — `mpolice-snapshot,1,<list>,<version>` or
/// `mpolice-delta,1,<list>,<from>,<to>` or `mpolice-catchup,1,<list>,<from>,<to>` — and
/// whose second row is the column header. A snapshot's rows are canonical records
/// (`Dataset.columns`); a delta's rows start with an operation, `upsert` (a whole canonical
/// record) or `delete` (the record id, other fields empty). A catch-up is a delta from any
/// version `from`…`to - 1` to `to`: every record changed since `from` as it is now, and a
/// `delete` for every record removed since `from`, which a terminal past `from` may no longer
/// hold.
public enum ListFile {
    public static let formatVersion = 1
    static let snapshotTag = "mpolice-snapshot"
    static let deltaTag = "mpolice-delta"
    static let catchUpTag = "mpolice-catchup"

    public enum Operation: String, Sendable {
        case upsert
        case delete
    }

    /// What a file's first row says it is.
    public enum Kind: Equatable, Sendable {
        case snapshot(version: Int64)
        case delta(from: Int64, to: Int64)
        /// Applies to any version from `from` to `to - 1`; its deletes may name records
        /// already gone.
        case catchUp(from: Int64, to: Int64)
    }

    /// Reads the identifying row and the header, leaving `reader` at the first record.
    /// - Throws: `DatasetError` when the file is not a list file for `list`.
    public static func open(_ reader: inout CSVReader, list: ListKind) throws -> Kind {
        func bad(_ why: String) -> DatasetError { DatasetError("\(reader.fileName):\(reader.line): \(why)") }
        guard let first = try reader.nextRow(), first.count >= 4, first[1] == String(formatVersion) else {
            throw bad("not an mpolice list file (format \(formatVersion))")
        }
        guard first[2] == list.rawValue else { throw bad("holds list \(first[2]), expected \(list.rawValue)") }
        let kind: Kind
        switch first[0] {
        case snapshotTag where first.count == 4:
            guard let version = Int64(first[3]), version > 0 else { throw bad("bad snapshot version") }
            kind = .snapshot(version: version)
        case deltaTag where first.count == 5:
            guard let from = Int64(first[3]), let to = Int64(first[4]), from >= 0, to == from + 1 else {
                throw bad("bad delta versions")
            }
            kind = .delta(from: from, to: to)
        case catchUpTag where first.count == 5:
            guard let from = Int64(first[3]), let to = Int64(first[4]), from >= 1, to > from else {
                throw bad("bad catch-up versions")
            }
            kind = .catchUp(from: from, to: to)
        default:
            throw bad("not an mpolice list file")
        }
        let columns = Dataset.columns(list)
        let expected: [String]
        if case .snapshot = kind { expected = columns } else { expected = ["op"] + columns }
        guard let header = try reader.nextRow(), header == expected else {
            throw bad("header must be \(expected.joined(separator: ","))")
        }
        return kind
    }
}

/// Builds a list file's body in memory (the center's publisher).
public struct ListFileBuilder: Sendable {
    public let list: ListKind
    private var buffer: [UInt8] = []

    /// A snapshot of `list` at `version`.
    public init(snapshotOf list: ListKind, version: Int64) {
        self.list = list
        CSVWriter.encode([ListFile.snapshotTag, String(ListFile.formatVersion), list.rawValue, String(version)], into: &buffer)
        CSVWriter.encode(Dataset.columns(list), into: &buffer)
    }

    /// The delta of `list` from `version` to `version + 1`.
    public init(deltaOf list: ListKind, from version: Int64) {
        self.list = list
        CSVWriter.encode([ListFile.deltaTag, String(ListFile.formatVersion), list.rawValue, String(version), String(version + 1)],
                         into: &buffer)
        CSVWriter.encode(["op"] + Dataset.columns(list), into: &buffer)
    }

    /// A snapshot record.
    public mutating func append(_ row: ListRow) {
        CSVWriter.encode(row.csvFields, into: &buffer)
    }

    /// A delta operation.
    public mutating func append(_ operation: ListFile.Operation, _ row: ListRow) {
        guard operation == .upsert else { return appendDelete(row.recordId) }
        CSVWriter.encode([operation.rawValue] + row.csvFields, into: &buffer)
    }

    /// A delete: the record id, the other fields empty.
    public mutating func appendDelete(_ recordId: String) {
        CSVWriter.encode([ListFile.Operation.delete.rawValue, recordId] + Array(repeating: "", count: Dataset.columns(list).count - 1),
                         into: &buffer)
    }

    /// The catch-up of `list` from `from` (or any version after it) to `to`.
    public init(catchUpOf list: ListKind, from: Int64, to: Int64) {
        self.list = list
        CSVWriter.encode([ListFile.catchUpTag, String(ListFile.formatVersion), list.rawValue, String(from), String(to)], into: &buffer)
        CSVWriter.encode(["op"] + Dataset.columns(list), into: &buffer)
    }

    public var bytes: Data { Data(buffer) }
}

extension ListFile {
    /// The records of a snapshot body, in file order, with the version it holds.
    /// - Throws: `DatasetError` for anything but a valid snapshot of `list`.
    public static func readSnapshot(_ list: ListKind, body: Data, fileName: String) throws -> (version: Int64, rows: [ListRow]) {
        var reader = CSVReader(bytes: [UInt8](body), fileName: fileName)
        guard case .snapshot(let version) = try open(&reader, list: list) else {
            throw DatasetError("\(fileName): not a snapshot")
        }
        var rows: [ListRow] = []
        while let fields = try reader.nextRow() { rows.append(try ListRow(list, fields, file: fileName, line: reader.line)) }
        return (version, rows)
    }
}

extension ListFile {
    /// The record ids a delta or catch-up body names, with their operations, in file order.
    public static func readOperations(_ list: ListKind, body: Data, fileName: String) throws -> (kind: Kind, operations: [(Operation, String)]) {
        var reader = CSVReader(bytes: [UInt8](body), fileName: fileName)
        let kind = try open(&reader, list: list)
        if case .snapshot = kind { throw DatasetError("\(fileName): a snapshot, not a delta") }
        var operations: [(Operation, String)] = []
        while let fields = try reader.nextRow() {
            guard fields.count >= 2, let operation = Operation(rawValue: fields[0]), !fields[1].isEmpty else {
                throw DatasetError("\(fileName):\(reader.line): expected upsert or delete and a record id")
            }
            operations.append((operation, fields[1]))
        }
        return (kind, operations)
    }
}

extension Dataset {
    /// Every record of one list in a data set directory, validated and normalised, in file
    /// order.
    public static func readRows(_ list: ListKind, from directory: URL) throws -> [ListRow] {
        var reader = try Dataset.reader(list, in: directory)
        var rows: [ListRow] = []
        while let fields = try reader.nextRow() { rows.append(try ListRow(list, fields, file: reader.fileName, line: reader.line)) }
        return rows
    }
}
