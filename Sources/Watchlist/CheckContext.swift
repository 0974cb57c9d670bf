/// Who is asking, how they proved it, and why: every check record names the officer, the
/// unit, the authentication and (required for person checks) the purpose.
public struct CheckContext: Sendable, Equatable {
    public let officerId: String
    public let unitId: String
    public var authentication: Authentication
    public var purpose: CheckPurpose?
    /// The language the answer's words are in (its codes are the same in every language).
    public var language: MessageLanguage
    /// The officer's open stop, which the check is part of.
    public var incidentId: String?

    /// - Throws: `InputError` unless both are 1–32 characters of letters, digits, `-`, `_`, `.`.
    public init(officerId: String, unitId: String, authentication: Authentication = .technician, purpose: CheckPurpose? = nil,
                language: MessageLanguage = .english) throws {
        try Self.validateIdentifier(officerId, field: "officer")
        try Self.validateIdentifier(unitId, field: "unit")
        self.officerId = officerId
        self.unitId = unitId
        self.authentication = authentication
        self.purpose = purpose
        self.language = language
    }

    /// Officer and unit ids: 1–32 letters, digits, `-`, `_`, `.`.
    /// - Throws: `InputError` for `field`.
    public static func validateIdentifier(_ value: String, field: String) throws(InputError) {
        guard !value.isEmpty else { throw InputError(.empty, field: field, "nothing entered") }
        guard value.utf8.count <= 32 else { throw InputError(.tooLong, field: field, "longer than 32 characters") }
        guard value.utf8.allSatisfy({ $0.isASCIIDigit || $0.isASCIIUpper || ($0 >= 0x61 && $0 <= 0x7A) || $0 == 0x2D || $0 == 0x5F || $0 == 0x2E }) else {
            throw InputError(.invalidCharacter, field: field, "only letters, digits, '-', '_' and '.' are allowed")
        }
    }

    /// The same officer and authentication, for a check with `purpose`.
    public func with(purpose: CheckPurpose?) -> CheckContext {
        var context = self
        context.purpose = purpose
        return context
    }
}
