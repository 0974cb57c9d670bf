import Foundation

/// Where a unit stands on a dispatch from the 110 command center. The order is the order of
/// the work: `received` (the terminal stored it and acknowledged) → `en-route` → `on-scene`
/// → `cleared`. Each step moves one forward, except that a dispatch can be cleared from any
/// open state (called off, handed over); clearing needs a disposition. Nothing moves back.
/// The center alone closes a dispatch as `cancelled` or `reassigned` (to another unit);
/// after that the unit's changes are refused (`dispatch.cancelled`, `dispatch.reassigned`).
public enum DispatchStatus: String, Sendable, Codable, CaseIterable {
    case received
    case enRoute = "en-route"
    case onScene = "on-scene"
    case cleared
    case cancelled
    case reassigned

    /// What an officer may set (the others are the center's).
    public static let officerSettable: [DispatchStatus] = [.enRoute, .onScene, .cleared]

    /// Closed: nothing more happens to it.
    public var isClosed: Bool { nextOptions.isEmpty }

    /// Checks a change from `self` to `next`; the disposition is required for `cleared` and
    /// refused otherwise. Returns the disposition trimmed.
    public func validate(next: DispatchStatus, disposition: String?) throws(DispatchError) -> String? {
        let trimmed = disposition.map { $0.trimmingCharacters(in: .whitespacesAndNewlines) }.flatMap { $0.isEmpty ? nil : $0 }
        switch self {
        case .cancelled: throw DispatchError(.cancelled, "the center cancelled this dispatch: no more status changes")
        case .reassigned: throw DispatchError(.reassigned, "the center gave this dispatch to another unit: no more status changes")
        default: break
        }
        guard Self.officerSettable.contains(next) else {
            throw DispatchError(.invalidTransition, "only the center makes a dispatch \(next.rawValue)")
        }
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
        case .cleared, .cancelled, .reassigned: []
        }
    }
}


