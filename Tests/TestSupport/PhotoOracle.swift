import FieldWire
import Foundation
import Watchlist

/// The photos a data set names and their prefetch class, judged from the CSV rows apart from
/// the store's SQL: 0 armed or violent wanted, 1 vulnerable missing, 2 the region, 3 the rest.
public struct ListedPhoto: Sendable {
    public var photo: PhotoReference
    public var list: ListKind
    public var recordId: String
    public var idNumber: String?
    public var rank: Int

    public static func all(in dataset: URL, region: String) throws -> [ListedPhoto] {
        var all: [ListedPhoto] = []
        for list in [ListKind.wantedPersons, .missingPersons] {
            for row in try Dataset.readRows(list, from: dataset) {
                let rank: Int
                if list == .wantedPersons {
                    let flags = row.fields[8] ?? ""
                    rank = flags.contains("armed") || flags.contains("violent") ? 0 : ((row.fields[7] ?? "").contains(region) ? 2 : 3)
                } else {
                    rank = row.fields[7] == "1" ? 1 : ((row.fields[8] ?? "").contains(region) ? 2 : 3)
                }
                for photo in PhotoReference.parse(field: row.fields[9] ?? "") ?? [] {
                    all.append(ListedPhoto(photo: photo, list: list, recordId: row.recordId, idNumber: row.fields[1], rank: rank))
                }
            }
        }
        return all
    }
}
