import Hummingbird
import HummingbirdTesting
@testable import LocalAPI
import NIOCore
import Testing

/// The API's HTTP server answers each connection's requests on the event loop that reads
/// its socket (docs/packaging.md, "The socket's cost"): a request that crossed to Swift's
/// shared pool and back paid two thread wake-ups.
@Suite("Local API connections")
struct ConnectionLoopTests {
    /// A context that keeps the request's channel, to ask which thread runs the handler.
    struct LoopContext: RequestContext {
        var coreContext: CoreRequestContextStorage
        let channel: any Channel

        init(source: ApplicationRequestContextSource) {
            coreContext = .init(source: source)
            channel = source.channel
        }
    }

    @Test("handlers run on the connection's event loop, before and after they suspend")
    func handlersRunOnTheLoop() async throws {
        let router = Router(context: LoopContext.self)
        router.get("loop") { _, context -> String in
            let before = context.channel.eventLoop.inEventLoop
            try await Task.sleep(for: .milliseconds(2))
            let after = context.channel.eventLoop.inEventLoop
            return "\(before) \(after)"
        }
        let app = Application(router: router, server: LocalAPI.http1(.init()),
                              configuration: .init(address: .hostname("127.0.0.1", port: 0)))
        try await app.test(.live) { client in
            // Requests in a row, on one kept-alive connection.
            for _ in 0..<3 {
                try await client.execute(uri: "/loop", method: .get) { response in
                    #expect(response.status == .ok)
                    #expect(String(buffer: response.body) == "true true")
                }
            }
        }
    }
}
