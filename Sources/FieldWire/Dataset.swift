import Foundation
import Watchlist

/// A bulk data set: the full content of the lists (the three watch lists and the officer
/// roster) as one CSV file per list plus
/// `dataset.json`. The generator writes it, the store loads it, and the center publishes
/// from it. Column order is part of the format (docs/dataset-format.md).
public enum Dataset {
    public static let formatVersion = 1
    public static let manifestName = "dataset.json"

    public static func fileName(_ list: ListKind) -> String { "\(list.rawValue).csv" }

    /// Header row of each list's file.
    public static func columns(_ list: ListKind) -> [String] { ListSchema.of(list).columnNames }

    /// Whether the data set holds `list`: every one but a document list whose file it
    /// leaves out (that list is then not published, and not loaded).
    public static func holds(_ list: ListKind, in directory: URL) -> Bool {
        ListSchema.of(list).document == nil || FileManager.default.fileExists(atPath: directory.appendingPathComponent(fileName(list)).path)
    }

    /// A reader of one list's file in a data set, at its first record (the header checked).
    public static func reader(_ list: ListKind, in directory: URL) throws -> CSVReader {
        var reader = try CSVReader(contentsOf: directory.appendingPathComponent(fileName(list)))
        guard let header = try reader.nextRow(), header == columns(list) else {
            throw DatasetError("\(fileName(list)):1: header must be \(columns(list).joined(separator: ","))")
        }
        return reader
    }

    /// `dataset.json`.
    public struct Manifest: Codable, Sendable, Equatable {
        public var format: Int
        /// The version every list in this data set carries.
        public var version: Int64
        /// Unix seconds.
        public var issuedAt: Int64
        /// Unix seconds after which answers from these lists carry a stale warning.
        public var expiresAt: Int64
        /// Records per list, keyed by the list's name.
        public var counts: [String: Int]
        /// The generator's seed, when generated.
        public var seed: UInt64?
        /// Lists that hold only their exceptions (invalid documents), keyed by the list's
        /// name; absent ones hold every record.
        public var modes: [String: ListMode]?

        public func mode(_ list: ListKind) -> ListMode { modes?[list.rawValue] ?? .full }

        public init(version: Int64, issuedAt: Int64, expiresAt: Int64, counts: [ListKind: Int], seed: UInt64?) {
            format = Dataset.formatVersion
            self.version = version
            self.issuedAt = issuedAt
            self.expiresAt = expiresAt
            self.counts = Dictionary(uniqueKeysWithValues: counts.map { ($0.key.rawValue, $0.value) })
            self.seed = seed
        }

        public static func read(from directory: URL) throws -> Manifest {
            let url = directory.appendingPathComponent(manifestName)
            guard let data = FileManager.default.contents(atPath: url.path) else {
                throw DatasetError("no \(manifestName) in \(directory.path)")
            }
            let manifest: Manifest
            do {
                manifest = try WireJSON.decode(Manifest.self, from: data)
            } catch {
                throw DatasetError("\(manifestName): \(error)")
            }
            guard manifest.format == formatVersion else {
                throw DatasetError("\(manifestName): format \(manifest.format) is not supported (expected \(formatVersion))")
            }
            guard manifest.version > 0, manifest.expiresAt > manifest.issuedAt else {
                throw DatasetError("\(manifestName): version must be positive and expiresAt after issuedAt")
            }
            return manifest
        }

        public func write(to directory: URL) throws {
            try WireJSON.encode(self).write(to: directory.appendingPathComponent(Dataset.manifestName), options: .atomic)
        }
    }

    // MARK: Rows

    public static func row(_ v: StolenVehicle) -> [String] {
        [v.recordId, v.plate, v.vehicleKind, v.make, v.model, v.colour, v.vin ?? "", v.engineNumber ?? "",
         v.reportedAt, v.caseNumber, v.reportingUnit]
    }

    public static func row(_ p: WantedPerson) -> [String] {
        [p.recordId, p.idNumber ?? "", p.name, p.dateOfBirth.description, p.sex, p.warrantNumber, p.offence,
         p.issuingAuthority, p.cautionFlags.joined(separator: ";"), PhotoReference.field(p.photos)]
    }

    public static func row(_ p: MissingPerson) -> [String] {
        [p.recordId, p.idNumber ?? "", p.name, p.dateOfBirth.description, p.sex, p.missingSince, p.description,
         p.vulnerable ? "1" : "0", p.contactUnit, PhotoReference.field(p.photos)]
    }

    public static func row(_ o: RosterOfficer) -> [String] {
        [o.recordId, o.officerId, o.name, o.units.joined(separator: ";"), o.status.rawValue, o.statusReason, o.pinVerifier,
         o.secondFactor ?? ""]
    }
}

/// Writes a data set directory, one list at a time.
public struct DatasetWriter {
    public let directory: URL
    private var writers: [ListKind: CSVWriter] = [:]
    private var counts: [ListKind: Int] = [:]

    /// - Parameter documents: the document lists (registrations, licences) the data set
    ///   holds; the others' files are left out.
    public init(directory: URL, documents: Set<ListKind> = []) throws {
        self.directory = directory
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        for list in ListKind.allCases where documents.contains(list) || ListSchema.of(list).document == nil {
            var writer = try CSVWriter(url: directory.appendingPathComponent(Dataset.fileName(list)))
            try writer.write(Dataset.columns(list))
            writers[list] = writer
            counts[list] = 0
        }
    }

    public mutating func append(_ v: StolenVehicle) throws { try append(.stolenVehicles, Dataset.row(v)) }
    public mutating func append(_ p: WantedPerson) throws { try append(.wantedPersons, Dataset.row(p)) }
    public mutating func append(_ p: MissingPerson) throws { try append(.missingPersons, Dataset.row(p)) }
    public mutating func append(_ o: RosterOfficer) throws { try append(.officers, Dataset.row(o)) }

    /// One record of `list`, its fields in `Dataset.columns` order.
    public mutating func append(_ list: ListKind, _ fields: [String]) throws {
        try writers[list]!.write(fields)
        counts[list]! += 1
    }

    /// Closes the files and writes `dataset.json`.
    public mutating func finish(version: Int64, issuedAt: Int64, expiresAt: Int64, seed: UInt64?) throws -> Dataset.Manifest {
        for list in writers.keys { try writers[list]!.close() }
        let manifest = Dataset.Manifest(version: version, issuedAt: issuedAt, expiresAt: expiresAt, counts: counts, seed: seed)
        try manifest.write(to: directory)
        return manifest
    }
}
