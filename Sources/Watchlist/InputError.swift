/// Why an entered plate, VIN, engine number, ID or name was refused before any lookup.
///
/// `code` is stable: the CLI prints it with `--json` and the local API maps it to its wire
/// code. Messages name the problem and the position, never echo the whole input (it may be
/// an ID or a name, which must not reach logs above debug level).
public struct InputError: Error, Equatable, Sendable, CustomStringConvertible {
    public enum Code: String, Sendable, Codable, CaseIterable {
        case empty = "input.empty"
        case tooLong = "input.too-long"
        case controlCharacter = "input.control-character"
        case invalidCharacter = "input.invalid-character"
        case wrongLength = "input.wrong-length"
        case wrongShape = "input.wrong-shape"
        case invalidDate = "input.invalid-date"
        /// A person check without its purpose.
        case purposeRequired = "purpose.required"
        /// A purpose code not in the terminal's list (`checks.purposes`).
        case purposeUnknown = "purpose.unknown"
        /// A purpose that names a dispatch or case without the reference, or with a bad one.
        case purposeReference = "purpose.reference"
    }

    public var code: Code
    /// Which input: "plate", "vin", "engineNumber", "id", "name", "dateOfBirth".
    public var field: String
    public var message: String

    public init(_ code: Code, field: String, _ message: String) {
        (self.code, self.field, self.message) = (code, field, message)
    }

    public var description: String { "\(field): \(message) [\(code.rawValue)]" }
}
