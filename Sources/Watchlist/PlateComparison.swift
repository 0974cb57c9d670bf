/// How an entered plate differs from a listed plate with the same folded key.
public struct PlateComparison: Sendable, Equatable, Codable {
    /// One position where the entered and the listed character differ (always a
    /// confusable pair, since the folded keys are equal).
    public struct Difference: Sendable, Equatable, Codable {
        /// 1-based position in the compact plate.
        public var position: Int
        public var entered: String
        public var listed: String
        /// What the listed plate's layout puts at this position: "letter", "digit", or nil
        /// when the listed plate fits no known layout.
        public var slot: String?
        /// The entered character cannot stand at this position in the listed plate's layout
        /// (a digit in a letter slot, or a letter the layout never issues): strong evidence
        /// of a misread rather than a different vehicle.
        public var impossibleForLayout: Bool
    }

    public enum Strength: String, Sendable, Codable {
        /// Every difference is impossible for the listed plate's layout.
        case likelyMisread = "likely-misread"
        /// At least one difference is a valid character where it stands: it may be
        /// another vehicle.
        case possibleMisread = "possible-misread"
    }

    public var differences: [Difference]
    public var strength: Strength

    /// Compares `entered` with a listed plate's compact form. Both must share a folded key.
    public init(entered: Plate, listedCompact: String) {
        let e = Array(entered.compact.utf8)
        let l = Array(listedCompact.utf8)
        let layout = PlateFormat.recognise(l)
        var differences: [Difference] = []
        for i in 0..<min(e.count, l.count) where e[i] != l[i] {
            var slot: String?
            var impossible = false
            if let layout {
                let letterSlot = layout.slotIsLetter(i)
                slot = letterSlot ? "letter" : "digit"
                impossible = letterSlot != e[i].isASCIIUpper
                if layout == .current, e[i] == UInt8(ascii: "I") || e[i] == UInt8(ascii: "O") || e[i] == UInt8(ascii: "4") {
                    impossible = true
                }
            }
            differences.append(Difference(
                position: i + 1,
                entered: String(UnicodeScalar(e[i])),
                listed: String(UnicodeScalar(l[i])),
                slot: slot,
                impossibleForLayout: impossible))
        }
        self.differences = differences
        strength = differences.allSatisfy(\.impossibleForLayout) ? .likelyMisread : .possibleMisread
    }

    /// One line for the officer: "position 2: entered 8, listed B (letter position)", in
    /// `language` (code `plate.confusable`).
    public func reason(in language: MessageLanguage) -> CodedMessage {
        let parts = differences.map { d -> String in
            let arguments = ["position": String(d.position), "entered": d.entered, "listed": d.listed, "slot": d.slot ?? ""]
            let code = d.slot == nil ? "plate.difference" : (d.impossibleForLayout ? "plate.difference-impossible" : "plate.difference-in-slot")
            return MessageCatalogue.text(Notice(code, arguments), in: language)
        }
        let separator = MessageCatalogue.translation(of: "word.list-separator", in: language) ?? "; "
        return MessageCatalogue.message(Notice("plate.confusable", ["differences": parts.joined(separator: separator)]), in: language)
    }
}
