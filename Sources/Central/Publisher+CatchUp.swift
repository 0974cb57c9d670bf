import FieldWire
import Foundation
import Watchlist

/// What a publication remembers for catch-ups (`history.json` beside the manifest): per
/// list, each version published, when, and the delta that made it. A catch-up from version
/// `b` is composed from the deltas after `b`: every record they touched, as the new version
/// holds it, or deleted.
struct PublicationHistory: Codable, Sendable {
    struct Entry: Codable, Sendable {
        var version: Int64
        /// Unix seconds.
        var publishedAt: Int64
        /// The delta from `version - 1`, while it is kept.
        var delta: String?
    }

    var lists: [String: [Entry]] = [:]
}

extension Publisher {
    /// An hour, a day and a week: a terminal off for a meal, a night shift, a week's leave.
    public static let defaultCatchUpAges: [Int64] = [3_600, 86_400, 7 * 86_400]
    static let historyFile = "history.json"

    func readHistory() throws -> PublicationHistory {
        guard let data = FileManager.default.contents(atPath: directory.appendingPathComponent(Self.historyFile).path) else {
            return PublicationHistory()
        }
        do {
            return try WireJSON.decode(PublicationHistory.self, from: data)
        } catch {
            throw CentralError("\(Self.historyFile) in \(directory.path) is unreadable (\(error)): remove it to start the catch-up history again")
        }
    }

    func writeHistory(_ history: PublicationHistory) throws {
        _ = try write(WireJSON.encode(history), as: Self.historyFile)
    }

    /// Records the list's new version in the history, prunes what no catch-up reaches back
    /// to any more, and writes a catch-up from each age's version.
    func catchUps(_ list: ListKind, to published: Manifest.List, rows: [ListRow], history: inout PublicationHistory, now: Int64,
                  ages: [Int64], progress: ((String) -> Void)?) throws -> [Manifest.Delta] {
        var entries = history.lists[list.rawValue] ?? []
        // A list published again from scratch (its history lost, or a new version 1) starts over.
        if let last = entries.last, last.version != published.version - 1 { entries = [] }
        entries.append(.init(version: published.version, publishedAt: now, delta: published.deltas.last?.file.path))
        // Keep the newest entry at or before the oldest age's moment (its base) and all after it.
        if let oldest = ages.max(), let base = entries.lastIndex(where: { $0.publishedAt <= now - oldest }) {
            entries.removeFirst(base)
        }
        history.lists[list.rawValue] = entries

        var made: [Manifest.Delta] = []
        var bases = Set<Int64>()
        for age in ages.sorted() {
            guard let base = entries.last(where: { $0.publishedAt <= now - age }), base.version < published.version - 1,
                  bases.insert(base.version).inserted else { continue }
            let path = "\(list.rawValue)/\(base.version)-\(published.version).catchup.csv.gz"
            // The deltas after the base, each still on disk; a gap leaves this age out.
            let deltas = entries.filter { $0.version > base.version }
            guard deltas.count == Int(published.version - base.version), deltas.allSatisfy({ $0.delta != nil }) else { continue }
            progress?("\(list.rawValue): catch-up from version \(base.version) (\(age) s ago)")
            var touched = Set<String>()
            for entry in deltas {
                let body = try Gzip.decompress(Data(contentsOf: directory.appendingPathComponent(entry.delta!)), maxBytes: Int(Int32.max))
                for (_, id) in try ListFile.readOperations(list, body: body, fileName: entry.delta!).operations { touched.insert(id) }
            }
            var builder = ListFileBuilder(catchUpOf: list, from: base.version, to: published.version)
            var current = Set<String>()
            for row in rows where touched.contains(row.recordId) {
                builder.append(.upsert, row)
                current.insert(row.recordId)
            }
            for id in touched.subtracting(current).sorted(by: { $0.utf8.lexicographicallyPrecedes($1.utf8) }) {
                builder.appendDelete(id)
            }
            made.append(Manifest.Delta(fromVersion: base.version, toVersion: published.version,
                                       file: try write(Gzip.compress(builder.bytes), as: path)))
        }
        return made
    }
}

extension Array {
    var nilIfEmpty: Self? { isEmpty ? nil : self }
}
