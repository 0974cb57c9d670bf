import Foundation

/// The one JSON coding of everything the terminal and the center exchange or store as JSON:
/// keys sorted, so one value is always the same bytes (outbox payloads are stored as sent,
/// and tests compare hand-assembled batches with this form byte for byte), and `/` left
/// unescaped. Times on the wire are integers or ISO 8601 strings, never `Date`.
public enum WireJSON {
    public static let encoder: JSONEncoder = {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
        return encoder
    }()

    public static let decoder = JSONDecoder()

    public static func encode<T: Encodable>(_ value: T) throws -> Data {
        try encoder.encode(value)
    }

    /// The encoding as text. Only for values that always encode (the contract's own types:
    /// no non-finite numbers), so a failure is a programming error.
    public static func text<T: Encodable>(_ value: T) -> String {
        do {
            return String(decoding: try encoder.encode(value), as: UTF8.self)
        } catch {
            preconditionFailure("a wire type failed to encode: \(error)")
        }
    }

    public static func decode<T: Decodable>(_ type: T.Type, from data: Data) throws -> T {
        try decoder.decode(type, from: data)
    }
}
