import FieldWire
import Foundation
import Store
import Watchlist

/// Makes the next version of a data set: edits its stolen-vehicle file (one CSV line per
/// record, as the generator writes it — no quoted fields) and keeps dataset.json's count
/// right. The sync tests and the benchmark publish what it leaves.
public enum StolenVehicleEdits {
    public enum Change {
        case keep, drop
        /// The colour changes (銀 ↔ 黑): an upsert that touches no indexed column.
        case recolour
    }

    /// Decides each record's `Change` by its index among `total` records and its CSV line,
    /// then appends new cars with `plates`.
    /// - Returns: how many records were dropped or recoloured.
    @discardableResult
    public static func apply(to dataset: URL, add plates: [String] = [],
                             _ change: (_ index: Int, _ total: Int, _ line: String) -> Change = { _, _, _ in .keep }) throws -> Int {
        let url = dataset.appendingPathComponent(Dataset.fileName(.stolenVehicles))
        var lines = try String(contentsOf: url, encoding: .utf8).split(separator: "\n").map(String.init)
        let header = lines.removeFirst()
        var kept: [String] = []
        var changed = 0
        for (i, line) in lines.enumerated() {
            switch change(i, lines.count, line) {
            case .keep:
                kept.append(line)
            case .drop:
                changed += 1
            case .recolour:
                var fields = line.split(separator: ",", omittingEmptySubsequences: false).map(String.init)
                fields[5] = fields[5] == "銀" ? "黑" : "銀"
                kept.append(fields.joined(separator: ","))
                changed += 1
            }
        }
        for plate in plates {
            kept.append("SVX\(plate.filter(\.isNumber))\(plate.prefix(3)),\(plate),car,Toyota,Altis,白,,,2026-11-01T08:00:00Z,C-\(plate),TPE-DA")
        }
        try ([header] + kept).joined(separator: "\n").appending("\n").write(to: url, atomically: true, encoding: .utf8)
        var manifest = try Dataset.Manifest.read(from: dataset)
        manifest.counts[ListKind.stolenVehicles.rawValue] = kept.count
        try manifest.write(to: dataset)
        return changed
    }
}
