import FieldWire
import Watchlist

/// What a document answer needs of its list's declaration, worked out once: the check path
/// reads it on every plate and licence check.
struct DocumentReading: Sendable {
    let statusIndex: Int
    let validStatus: String
    /// Columns said beside an invalid status, by position.
    let detailIndexes: [Int]
    /// Each column's name in an answer (camelCase), and whether it holds a plate (printed
    /// in its display form).
    let answerNames: [String]
    let isPlate: [Bool]

    init(_ schema: ListSchema) {
        let document = schema.document!
        statusIndex = schema.index(of: document.statusColumn)!
        validStatus = document.validStatus
        detailIndexes = document.detailColumns.compactMap { schema.index(of: $0) }
        answerNames = schema.columns.map { Self.camelCase($0.name) }
        isPlate = schema.columns.map { $0.rule == .plate }
    }

    static func of(_ list: ListKind) -> DocumentReading { all[list]! }

    private static let all: [ListKind: DocumentReading] = Dictionary(uniqueKeysWithValues: ListKind.allCases.compactMap { list in
        ListSchema.of(list).document == nil ? nil : (list, DocumentReading(ListSchema.of(list)))
    })

    /// A record's fields as an answer shows them: camelCase names, plates in their printed
    /// form, empty fields left out.
    func answerFields(_ values: [String?]) -> [String: String] {
        var fields: [String: String] = [:]
        fields.reserveCapacity(values.count)
        for (i, value) in values.enumerated() {
            guard var value, !value.isEmpty else { continue }
            if isPlate[i] { value = Plate.display(compact: value, format: PlateFormat.recognise(Array(value.utf8))) }
            fields[answerNames[i]] = value
        }
        return fields
    }

    static func camelCase(_ name: String) -> String {
        let parts = name.split(separator: "_")
        return parts.enumerated().map { $0.offset == 0 ? String($0.element) : $0.element.prefix(1).uppercased() + $0.element.dropFirst() }.joined()
    }
}
