/// Why a check was made: a ground of 警察職權行使法 §6 for an identity check, a dispatch, a
/// case, a traffic stop. Person checks need one; plate and vehicle checks may carry one. It
/// is journaled, uploaded and audited at the center with the check.
public struct CheckPurpose: Sendable, Equatable, Codable {
    public var code: String
    /// The dispatch id or case number, for the codes that name one.
    public var reference: String?

    /// The codes a terminal accepts (`checks.purposes`) and those that need a reference.
    public struct Codes: Sendable, Equatable {
        public var allowed: [String]
        public var needingReference: Set<String>

        /// §6 I 1–6 (`law-6-1` … `law-6-6`), a dispatch (`dispatch`, its id), a case (`case`,
        /// its number), a traffic stop (`traffic-stop`).
        public static let standard = Codes(
            allowed: (1...6).map { "law-6-\($0)" } + ["dispatch", "case", "traffic-stop"], needingReference: ["dispatch", "case"])

        public init(allowed: [String], needingReference: Set<String>) {
            (self.allowed, self.needingReference) = (allowed, needingReference)
        }
    }

    /// - Throws: `InputError` (field `purpose`): `purpose.unknown` for a code not allowed,
    ///   `purpose.reference` for a missing or malformed reference (1–64 printable characters).
    public init(code: String, reference: String?, codes: Codes) throws(InputError) {
        guard codes.allowed.contains(code) else {
            throw InputError(.purposeUnknown, field: "purpose", "purpose must be one of \(codes.allowed.joined(separator: ", "))")
        }
        if let reference {
            guard (1...64).contains(reference.unicodeScalars.count),
                  reference.unicodeScalars.allSatisfy({ $0.value >= 0x20 && $0.value != 0x7F }) else {
                throw InputError(.purposeReference, field: "purpose", "a reference is 1-64 printable characters")
            }
        } else if codes.needingReference.contains(code) {
            throw InputError(.purposeReference, field: "purpose", "purpose \(code) needs its reference (the dispatch id or case number)")
        }
        (self.code, self.reference) = (code, reference)
    }

    /// As entered, for a client that leaves the judging to the daemon.
    public init(unchecked code: String, reference: String?) {
        (self.code, self.reference) = (code, reference)
    }
}
