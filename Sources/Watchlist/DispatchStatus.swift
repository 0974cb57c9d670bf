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
            throw DispatchError(.invalidTransition, "a dispatch that is \(rawValue) cannot become \(next.rawValue)"
                                      + (options.isEmpty ? " (it is closed)" : " (next: \(options.joined(separator: " or ")))"))
        }
        if next == .cleared {
            guard let trimmed else {
                throw DispatchError(.disposition, "clearing a dispatch needs a disposition (what was done)")
            }
            guard trimmed.count <= 500 else {
                throw DispatchError(.disposition, "the disposition is \(trimmed.count) characters; at most 500")
            }
            return trimmed
        }
        guard trimmed == nil else {
            throw DispatchError(.disposition, "a disposition is given only when clearing a dispatch")
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


