/// An entered licence plate, normalised: the compact form used for lookups, the folded
/// key used for the near-match search, and the layout it was recognised as.
public struct Plate: Sendable, Hashable, Codable {
    /// Upper-case letters and digits, no separator: "ABC1234".
    public let compact: String
    /// Confusables folded to their group's digit: "A8C1234".
    public let foldedKey: String
    /// The layout the plate fits as entered; nil when it fits none.
    public let format: PlateFormat?
    /// Layouts the plate would fit if confusable characters were misread; empty when
    /// `format` is set. A plate that fits no layout either way is still looked up — foreign,
    /// temporary and special plates exist — and the answer says the layout is unknown.
    public let possibleFormats: [PlateFormat]

    /// The shortest and longest compact plates accepted.
    public static let lengthRange = 4...8

    /// Parses what an officer typed or an OCR reader produced.
    /// - Throws: `InputError` for empty, over-long, control or non-alphanumeric input and
    ///   for a length no plate has.
    public init(parsing raw: String) throws {
        let bytes = try TextNormalization.compactAlphanumeric(raw, field: "plate", maxLength: 12)
        guard Plate.lengthRange.contains(bytes.count) else {
            throw InputError(.wrongLength, field: "plate",
                             "\(bytes.count) letters and digits; plates have \(Plate.lengthRange.lowerBound) to \(Plate.lengthRange.upperBound)")
        }
        self.init(validatedCompact: bytes)
    }

    /// Builds a plate from stored compact bytes already known to be letters and digits.
    init(validatedCompact bytes: [UInt8]) {
        compact = String(decoding: bytes, as: UTF8.self)
        foldedKey = Confusables.foldedKey(bytes)
        let format = PlateFormat.recognise(bytes)
        self.format = format
        possibleFormats = format == nil ? PlateFormat.confusableReadings(bytes) : []
    }

    /// The plate as printed: "ABC-1234", or the compact form when the layout is unknown.
    public var display: String { Plate.display(compact: compact, format: format) }

    /// Puts the hyphen of `format` into a compact plate.
    public static func display(compact: String, format: PlateFormat?) -> String {
        guard let format, compact.utf8.count == format.length else { return compact }
        let index = compact.index(compact.startIndex, offsetBy: format.separatorIndex)
        return compact[..<index] + "-" + compact[index...]
    }

    /// The normalised form of a plate held in a list (from the center's data), for the
    /// store's loader: compact and folded key. Returns nil for a value no check could match.
    public static func normalisedForList(_ raw: String) -> (compact: String, foldedKey: String)? {
        guard let bytes = try? TextNormalization.compactAlphanumeric(raw, field: "plate", maxLength: 12),
              lengthRange.contains(bytes.count) else { return nil }
        return (String(decoding: bytes, as: UTF8.self), Confusables.foldedKey(bytes))
    }
}
