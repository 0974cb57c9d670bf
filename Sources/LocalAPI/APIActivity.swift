import Hummingbird
import Synchronization
import Watchlist

/// When the API last began answering a request (monotonic milliseconds): the daemon hands
/// memory back once its front end has been quiet for a while (`api.trim_after`).
public final class APIActivity: Sendable {
    private let last: Atomic<Int64>
    private let clock: any TerminalClock

    public init(clock: any TerminalClock) {
        self.clock = clock
        last = Atomic(clock.monotonicMilliseconds)
    }

    public var lastRequest: Int64 { last.load(ordering: .relaxed) }

    func touch() { last.store(clock.monotonicMilliseconds, ordering: .relaxed) }
}

/// Stamps `APIActivity` as each request begins (one atomic store).
struct ActivityMiddleware<Context: RequestContext>: RouterMiddleware {
    let activity: APIActivity

    func handle(_ request: Request, context: Context, next: (Request, Context) async throws -> Response) async throws -> Response {
        activity.touch()
        return try await next(request, context)
    }
}
