import Foundation

/// Where a unit stands on a dispatch from the 110 command center. The order is the order of
/// the work: `received` (the terminal stored it and acknowledged) → `en-route` → `on-scene`
/// → `cleared`. Each step moves one forward, except that a dispatch can be cleared from any
/// open state (called off, handed over); clearing needs a disposition. Nothing moves back.
public enum DispatchStatus: String, Sendable, Codable, CaseIterable {
    case received
    case enRoute = "en-route"
    case onScene = "on-scene"
    case cleared


    /// Checks a change from `self` to `next`; the disposition is required for `cleared` and
    /// refused otherwise. Returns the disposition trimmed.
    public func validate(next: DispatchStatus, disposition: String?) throws(DispatchError) -> String? {
        let trimmed = disposition.map { $0.trimmingCharacters(in: .whitespacesAndNewlines) }.flatMap { $0.isEmpty ? nil : $0 }
        guard nextOptions.contains(next) else {
            let options = self.nextOptions.map(\.rawValue)
            throw DispatchError(code: .invalidTransition,
                                message: "a dispatch that is \(rawValue) cannot become \(next.rawValue)"
                                      + (options.isEmpty ? " (it is closed)" : " (next: \(options.joined(separator: " or ")))"))
        }
        if next == .cleared {
            guard let trimmed else {
                throw DispatchError(code: .disposition, message: "clearing a dispatch needs a disposition (what was done)")
            }
            guard trimmed.count <= 500 else {
                throw DispatchError(code: .disposition, message: "the disposition is \(trimmed.count) characters; at most 500")
            }
            return trimmed
        }
        guard trimmed == nil else {
            throw DispatchError(code: .disposition, message: "a disposition is given only when clearing a dispatch")
        }
        return nil
    }

    /// The statuses this one may move to.
    public var nextOptions: [DispatchStatus] {
        switch self {
        case .received: [.enRoute, .cleared]
        case .enRoute: [.onScene, .cleared]
        case .onScene: [.cleared]
        case .cleared: []
        }
    }
}


/// Refusals of a dispatch status change, with stable codes for the API and the CLI.
public struct DispatchError: Error, Sendable, Equatable, CustomStringConvertible {
    public enum Code: String, Sendable {
        /// No such dispatch on this terminal.
        case unknown = "dispatch.unknown"
        /// Not the next step (or backwards, or the same status again).
        case invalidTransition = "dispatch.invalid-transition"
        /// `cleared` without a disposition, or a disposition on another status.
        case disposition = "dispatch.disposition"
    }

    public var code: Code
    public var message: String

    public init(code: Code, message: String) {
        self.code = code
        self.message = message
    }

    public var description: String { "\(message) [\(code.rawValue)]" }
}
