import FieldWire
import Hummingbird
import LocalAPIContract
import Store

/// What the API needs from the lost-terminal protections (the agent composes them).
public struct ProtectionControls: Sendable {
    /// Throws `StoreError.locked` while an order or a wipe holds the terminal.
    public var requireUnlocked: @Sendable () throws -> Void
    /// Verifies and executes an order handed in through the API.
    public var submit: @Sendable (SignedEnvelope) async -> OrderResult
    /// A technician lifts the lock.
    public var liftLock: @Sendable () throws -> Void
    public var status: @Sendable () -> ProtectionStatus

    public init(requireUnlocked: @escaping @Sendable () throws -> Void, submit: @escaping @Sendable (SignedEnvelope) async -> OrderResult,
                liftLock: @escaping @Sendable () throws -> Void, status: @escaping @Sendable () -> ProtectionStatus) {
        (self.requireUnlocked, self.submit, self.liftLock, self.status) = (requireUnlocked, submit, liftLock, status)
    }
}

/// While the terminal is locked by an order or a wipe, the API answers only what a locked
/// terminal needs: health, status, the event stream, orders, and a technician's unlock.
/// Everything else is `423 terminal.locked`, before its handler runs.
struct TerminalLockMiddleware<Context: RequestContext>: RouterMiddleware {
    let protection: ProtectionControls

    func handle(_ request: Request, context: Context, next: (Request, Context) async throws -> Response) async throws -> Response {
        do {
            try protection.requireUnlocked()
        } catch {
            // Locked (rare): only then is the request's path looked at.
            guard pathsOpenWhileLocked.contains("\(request.method.rawValue) \(request.uri.path)") else { throw error }
        }
        return try await next(request, context)
    }
}

/// What a locked terminal still answers.
private let pathsOpenWhileLocked: Set<String> = [
    "GET /v1/health", "HEAD /v1/health", "GET /v1/status", "HEAD /v1/status", "GET /v1/events", "POST /v1/orders", "POST /v1/terminal/unlock",
]
