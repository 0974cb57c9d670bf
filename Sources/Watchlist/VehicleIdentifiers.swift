/// A vehicle identification number (ISO 3779): 17 characters, letters I, O and Q never used.
public struct VIN: Sendable, Hashable, Codable {
    public let value: String

    /// - Throws: `InputError` for anything but 17 letters and digits without I, O or Q.
    public init(parsing raw: String) throws {
        let bytes = try TextNormalization.compactAlphanumeric(raw, field: "vin", maxLength: 24)
        guard bytes.count == 17 else {
            throw InputError(.wrongLength, field: "vin", "\(bytes.count) letters and digits; a VIN has 17")
        }
        if let i = bytes.firstIndex(where: { $0 == UInt8(ascii: "I") || $0 == UInt8(ascii: "O") || $0 == UInt8(ascii: "Q") }) {
            throw InputError(.wrongShape, field: "vin", "position \(i + 1) holds I, O or Q, which VINs never use (read 1 or 0?)")
        }
        value = String(decoding: bytes, as: UTF8.self)
    }

    public static func normalisedForList(_ raw: String) -> String? {
        (try? VIN(parsing: raw))?.value
    }
}

/// An engine number as stamped by the maker: 5 to 20 letters and digits, no fixed layout.
public struct EngineNumber: Sendable, Hashable, Codable {
    public let value: String
    public static let lengthRange = 5...20

    public init(parsing raw: String) throws {
        let bytes = try TextNormalization.compactAlphanumeric(raw, field: "engineNumber", maxLength: EngineNumber.lengthRange.upperBound)
        guard EngineNumber.lengthRange.contains(bytes.count) else {
            throw InputError(.wrongLength, field: "engineNumber", "\(bytes.count) letters and digits; engine numbers have 5 to 20")
        }
        value = String(decoding: bytes, as: UTF8.self)
    }

    public static func normalisedForList(_ raw: String) -> String? {
        (try? EngineNumber(parsing: raw))?.value
    }
}
