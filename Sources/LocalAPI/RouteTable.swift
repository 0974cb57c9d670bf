import Hummingbird
import Synchronization

/// The API's routes as data, for a 405 with `Allow` when a known path is asked with another
/// method (the router itself only knows "not found"). Filled while the router is built.
final class RouteTable: Sendable {
    private let routes = Mutex<[(method: HTTPRequest.Method, segments: [Substring])]>([])

    func add(_ method: HTTPRequest.Method, _ path: String) {
        routes.withLock { $0.append((method, path.split(separator: "/"))) }
    }

    /// The methods `path` answers to (HEAD with GET), sorted; empty for an unknown path.
    /// As in the router, a literal segment wins over a parameter: `/v1/checks/plate` is the
    /// plate check's path (POST), not a check id's (GET).
    func methods(for path: String) -> [String] {
        let asked = path.split(separator: "/")
        let methods = routes.withLock { routes in
            let matching = routes.filter { route in
                route.segments.count == asked.count
                    && zip(route.segments, asked).allSatisfy { pattern, segment in pattern.hasPrefix(":") || pattern == segment }
            }
            // Per segment, 1 for a literal: the most literal patterns are the path's.
            func literals(_ segments: [Substring]) -> [Int] { segments.map { $0.hasPrefix(":") ? 0 : 1 } }
            guard let best = matching.map({ literals($0.segments) }).max(by: { $0.lexicographicallyPrecedes($1) }) else { return [String]() }
            return matching.filter { literals($0.segments) == best }.map(\.method.rawValue)
        }
        return Set(methods + (methods.contains("GET") ? ["HEAD"] : [])).sorted()
    }
}

/// A router group that also writes each route into the `RouteTable`.
struct RecordedRoutes {
    let group: RouterGroup<APIRequestContext>
    let prefix: String
    let table: RouteTable

    func get<Output: ResponseGenerator>(_ path: String, use handler: @escaping @Sendable (Request, APIRequestContext) async throws -> Output) {
        on(path, .get, handler)
    }

    func post<Output: ResponseGenerator>(_ path: String, use handler: @escaping @Sendable (Request, APIRequestContext) async throws -> Output) {
        on(path, .post, handler)
    }


    private func on<Output: ResponseGenerator>(_ path: String, _ method: HTTPRequest.Method,
                                              _ handler: @escaping @Sendable (Request, APIRequestContext) async throws -> Output) {
        group.on(RouterPath(path), method: method, use: handler)
        table.add(method, "\(prefix)/\(path)")
    }
}
