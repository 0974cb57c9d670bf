import Foundation
import Hummingbird
import LocalAPIClient
import NIOCore

/// The loopback bridge between a browser and the daemon's Unix socket (docs/frontend.md).
/// It must not weaken the local API: every request names this host and port (no DNS
/// rebinding), comes from this origin or none (no other page), and `/v1/` requests carry the
/// per-boot token; no CORS header is ever sent; bodies are capped as the daemon caps them; a
/// strict Content-Security-Policy goes with every answer. What passes is forwarded as is —
/// the daemon judges it as it judges any client of its socket (the bridge's own user).
public struct ScreenBridge: Sendable {
    public let socketPath: String
    public let port: Int
    public let assets: URL
    let token: [UInt8]
    public let maxBodyBytes: Int

    public init(socketPath: String, port: Int, assets: URL, token: String, maxBodyBytes: Int) {
        self.socketPath = socketPath
        self.port = port
        self.assets = assets
        self.token = Array(token.utf8)
        self.maxBodyBytes = maxBodyBytes
    }

    /// The front-end's files, by the only names served (no path from a request reaches the
    /// file system).
    static let files: [String: (name: String, type: String)] = [
        "/": ("index.html", "text/html; charset=utf-8"),
        "/index.html": ("index.html", "text/html; charset=utf-8"),
        "/app.js": ("app.js", "text/javascript; charset=utf-8"),
        "/i18n.js": ("i18n.js", "text/javascript; charset=utf-8"),
        "/app.css": ("app.css", "text/css; charset=utf-8"),
    ]

    public static let contentSecurityPolicy =
        "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data: blob:; connect-src 'self'; "
        + "font-src 'self'; base-uri 'none'; form-action 'none'; frame-ancestors 'none'"

    public func router() -> Router<BasicRequestContext> {
        let router = Router(context: BasicRequestContext.self)
        router.add(middleware: Guard(bridge: self))
        let bridge = self
        router.get("/") { request, _ in try bridge.serveFile(request) }
        router.get("/**") { request, _ in try bridge.serveFile(request) }
        for method in [HTTPRequest.Method.get, .post, .put, .delete, .patch, .head] {
            router.on("/v1/**", method: method) { request, _ in try await bridge.forward(request) }
        }
        return router
    }

    // MARK: The guard

    /// Refusals with the API's error shape and codes of their own (`bridge.*`).
    static func refusal(_ status: HTTPResponse.Status, _ code: String, _ message: String) -> Response {
        let body = #"{"error":{"code":"\#(code)","message":"\#(message)"}}"#
        return Response(status: status, headers: [.contentType: "application/json"], body: ResponseBody(byteBuffer: ByteBuffer(string: body)))
    }

    struct Guard: RouterMiddleware {
        typealias Context = BasicRequestContext
        let bridge: ScreenBridge

        func handle(_ request: Request, context: Context, next: (Request, Context) async throws -> Response) async throws -> Response {
            var response = try await check(request, context: context, next: next)
            response.headers[.contentSecurityPolicy] = ScreenBridge.contentSecurityPolicy
            response.headers[.xContentTypeOptions] = "nosniff"
            response.headers[.init("Referrer-Policy")!] = "no-referrer"
            response.headers[.init("X-Frame-Options")!] = "DENY"
            response.headers[.init("Cross-Origin-Resource-Policy")!] = "same-origin"
            response.headers[.init("Cross-Origin-Opener-Policy")!] = "same-origin"
            response.headers[.cacheControl] = "no-store"
            return response
        }

        private func check(_ request: Request, context: Context, next: (Request, Context) async throws -> Response) async throws -> Response {
            let allowedHosts = ["127.0.0.1:\(bridge.port)", "localhost:\(bridge.port)"]
            guard let host = request.head.authority, allowedHosts.contains(host.lowercased()) else {
                return ScreenBridge.refusal(.forbidden, "bridge.foreign-host", "this bridge answers only to 127.0.0.1:\(bridge.port)")
            }
            if let origin = request.headers[.origin], !allowedHosts.map({ "http://\($0)" }).contains(origin.lowercased()) {
                return ScreenBridge.refusal(.forbidden, "bridge.foreign-origin", "requests from another origin are refused")
            }
            if request.headers[.init("Sec-Fetch-Site")!] == "cross-site" {
                return ScreenBridge.refusal(.forbidden, "bridge.foreign-origin", "cross-site requests are refused")
            }
            if request.method == .options {
                // No CORS: nothing outside this origin is ever allowed, so no preflight succeeds.
                return ScreenBridge.refusal(.methodNotAllowed, "bridge.no-cors", "no cross-origin requests")
            }
            if request.uri.path.hasPrefix("/v1/") {
                guard let authorization = request.headers[.authorization], authorization.hasPrefix("Bearer "),
                      Self.constantTimeEqual(Array(authorization.utf8.dropFirst(7)), bridge.token) else {
                    return ScreenBridge.refusal(.unauthorized, "bridge.token", "the screen's token is missing or wrong (open the screen with its #token= link)")
                }
            }
            return try await next(request, context)
        }

        static func constantTimeEqual(_ a: [UInt8], _ b: [UInt8]) -> Bool {
            guard a.count == b.count else { return false }
            var difference: UInt8 = 0
            for (x, y) in zip(a, b) { difference |= x ^ y }
            return difference == 0
        }
    }

    // MARK: Files

    func serveFile(_ request: Request) throws -> Response {
        guard let file = Self.files[request.uri.path],
              let data = FileManager.default.contents(atPath: assets.appendingPathComponent(file.name).path) else {
            return Self.refusal(.notFound, "bridge.not-found", "no such file")
        }
        return Response(status: .ok, headers: [.contentType: file.type], body: ResponseBody(byteBuffer: ByteBuffer(bytes: data)))
    }

    // MARK: Forwarding

    func forward(_ request: Request) async throws -> Response {
        var request = request
        let body: ByteBuffer
        do {
            body = try await request.collectBody(upTo: maxBodyBytes)
        } catch {
            return Self.refusal(.contentTooLarge, "request.too-large", "the body is over \(maxBodyBytes) bytes")
        }
        let path = request.uri.path + (request.uri.query.map { "?\($0)" } ?? "")
        let method = request.method.rawValue
        let language = request.headers[.acceptLanguage]
        let client = APIClient(socketPath: socketPath, timeout: 60)
        if request.method == .get, request.uri.path == "/v1/events" {
            return events(client, path: path)
        }
        let data = body.readableBytes > 0 ? Data(buffer: body) : nil
        let answer: Result<APIClient.Response, any Error> = await Self.onThread {
            try client.request(method, path, json: data, headers: language.map { ["Accept-Language: \($0)"] } ?? [])
        }
        switch answer {
        case .success(let response):
            // JSON, or a photo's JPEG; nothing else is passed on as what it says it is.
            var headers: HTTPFields = [.contentType: response.contentType == "image/jpeg" ? "image/jpeg" : "application/json"]
            if let retryAfter = response.retryAfter { headers[.retryAfter] = retryAfter }
            return Response(status: .init(code: response.status), headers: headers,
                            body: response.body.isEmpty ? ResponseBody() : ResponseBody(byteBuffer: ByteBuffer(bytes: response.body)))
        case .failure(let error):
            return Self.refusal(.badGateway, "bridge.daemon-unreachable", "mpoliced cannot be reached: \(error)".replacingOccurrences(of: "\"", with: "'"))
        }
    }

    /// The event stream, passed through as it comes until either side goes away.
    func events(_ client: APIClient, path: String) -> Response {
        Response(status: .ok, headers: [.contentType: "text/event-stream"], body: ResponseBody { writer in
            let (chunks, feed) = AsyncStream.makeStream(of: Data.self, bufferingPolicy: .bufferingNewest(256))
            let stop = StopFlag()
            let thread = Thread {
                _ = try? client.stream(path) { data in
                    feed.yield(data)
                    return !stop.isSet
                }
                feed.finish()
            }
            thread.name = "events"
            thread.start()
            defer { stop.set() }
            for await chunk in chunks { try await writer.write(ByteBuffer(bytes: chunk)) }
            try await writer.finish(nil)
        })
    }

    static func onThread<T: Sendable>(_ body: @escaping @Sendable () throws -> T) async -> Result<T, any Error> {
        await withCheckedContinuation { continuation in
            let thread = Thread { continuation.resume(returning: Result { try body() }) }
            thread.start()
        }
    }

    final class StopFlag: @unchecked Sendable {
        private let lock = NSLock()
        private var value = false
        func set() { lock.withLock { value = true } }
        var isSet: Bool { lock.withLock { value } }
    }
}

/// The per-boot token: 32 random bytes as hex, written where only the UI's group reads it.
public enum BridgeToken {
    public static func create(at path: String, group: String) throws -> String {
        var bytes = [UInt8](repeating: 0, count: 32)
        let fd = open("/dev/urandom", O_RDONLY | O_CLOEXEC)
        guard fd >= 0, read(fd, &bytes, 32) == 32 else { throw BridgeError("cannot read /dev/urandom") }
        close(fd)
        let token = bytes.map { String(format: "%02x", $0) }.joined()
        let directory = (path as NSString).deletingLastPathComponent
        try? FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true, attributes: [.posixPermissions: 0o750])
        unlink(path)
        let out = open(path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0o600)
        guard out >= 0 else { throw BridgeError("cannot write \(path): \(String(cString: strerror(errno)))") }
        defer { close(out) }
        let line = Array((token + "\n").utf8)
        guard write(out, line, line.count) == line.count else { throw BridgeError("cannot write \(path)") }
        if let entry = getgrnam(group) {
            guard fchown(out, uid_t.max, entry.pointee.gr_gid) == 0 else {
                throw BridgeError("cannot give \(path) to group \(group): \(String(cString: strerror(errno)))")
            }
        }
        guard fchmod(out, 0o640) == 0 else { throw BridgeError("cannot set the mode of \(path)") }
        return token
    }
}

public struct BridgeError: Error, CustomStringConvertible {
    public let description: String
    init(_ description: String) { self.description = description }
}
