import CCurlShim
import FieldWire
import Foundation
import LocalAPIContract
import Store
import Watchlist

/// A client of the daemon's local API over its Unix socket (libcurl), for `mpolicectl`:
/// typed calls with the `LocalAPIContract` bodies, and raw requests for tests.
public struct APIClient: Sendable {

    public struct Response: Sendable {
        public var status: Int
        public var body: Data
        /// The `Retry-After` header, when the daemon sent one.
        public var retryAfter: String?
        /// The `Content-Type` header (`application/json`; `image/jpeg` for a photo).
        public var contentType: String?
    }

    /// The daemon could not be reached.
    public struct Unreachable: Error, CustomStringConvertible, Sendable {
        public let description: String
    }

    /// The daemon answered with an error (`APIErrorBody`).
    public struct Refusal: Error, CustomStringConvertible, Sendable {
        public var status: Int
        public var code: String
        public var message: String
        public var field: String?

        public init(status: Int, code: String, message: String, field: String? = nil) {
            (self.status, self.code, self.message, self.field) = (status, code, message, field)
        }

        /// The error body of a non-2xx answer (`http-<status>` when it has none).
        init(_ response: Response) {
            let detail = (try? WireJSON.decode(APIErrorBody.self, from: response.body))?.error
            self.init(status: response.status, code: detail?.code ?? "http-\(response.status)",
                      message: detail?.message ?? "HTTP \(response.status)", field: detail?.field)
        }

        public var description: String { "\(field.map { "\($0): " } ?? "")\(message) [\(code)]" }
    }

    public let socketPath: String
    public let timeout: Double
    /// One libcurl handle, reused so that requests in a row share one connection
    /// (keep-alive); requests through the same client take turns.
    private let connection = Connection()

    /// Sent as `Accept-Language` (nil: not sent, the daemon answers in English): the words
    /// of answers and errors; their codes are the same in every language.
    public let language: MessageLanguage?

    public init(socketPath: String, timeout: Double = 30, language: MessageLanguage? = nil) {
        self.socketPath = socketPath
        self.timeout = timeout
        self.language = language
    }

    /// Guarded by `lock`: the handle is only touched inside `withHandle`.
    private final class Connection: @unchecked Sendable {
        private let lock = NSLock()
        private var handle: UnsafeMutableRawPointer?

        /// Runs `body` with the client's handle (reset to defaults, connection kept).
        func withHandle<T>(_ body: (UnsafeMutableRawPointer) throws -> T) throws -> T {
            lock.lock()
            defer { lock.unlock() }
            if handle == nil { handle = curl_easy_init() }
            guard let h = handle else { throw Unreachable(description: "libcurl could not start a request") }
            curl_easy_reset(h)
            return try body(h)
        }

        deinit {
            if let handle { curl_easy_cleanup(handle) }
        }
    }

    /// One request; `body` is sent as JSON, `headers` ("Name: value") besides.
    public func request(_ method: String, _ path: String, json body: Data? = nil, headers: [String] = []) throws -> Response {
        let sink = Sink(onData: nil)
        let status = try perform(method, path, body: body, headers: headers, sink: sink, timeout: timeout)
        return Response(status: status, body: sink.data, retryAfter: sink.retryAfter, contentType: sink.contentType)
    }

    // MARK: Typed calls

    /// The 2xx answer to a request, decoded; a non-2xx answer throws its `Refusal`.
    public func call<T: Decodable>(_ method: String, _ path: String, body: (any Encodable)? = nil, as type: T.Type) throws -> T {
        let data = try send(method, path, body: body)
        do {
            return try WireJSON.decode(type, from: data)
        } catch {
            throw Refusal(status: 200, code: "client.bad-answer", message: "the daemon's answer to \(method) \(path) is not what the API documents (\(error))")
        }
    }

    /// The 2xx body of a request; a non-2xx answer throws its `Refusal`.
    @discardableResult
    public func send(_ method: String, _ path: String, body: (any Encodable)? = nil) throws -> Data {
        let response = try request(method, path, json: try body.map { try WireJSON.encode($0) })
        guard (200..<300).contains(response.status) else { throw Refusal(response) }
        return response.body
    }

    public func check(_ query: CheckQuery, purpose: CheckPurpose? = nil) throws -> CheckAnswer {
        let (path, body) = query.request(purpose: purpose)
        return try call("POST", path, body: body, as: CheckAnswer.self)
    }

    /// A listed person's photo (JPEG); nil while it is not on the terminal.
    public func photo(_ sha256: String) throws -> Data? {
        let response = try request("GET", "/v1/photos/\(sha256)")
        if response.status == 200 { return response.body }
        let refusal = Refusal(response)
        if refusal.code == "photo.not-on-device" { return nil }
        throw refusal
    }

    public func status() throws -> TerminalStatus { try call("GET", "/v1/status", as: TerminalStatus.self) }
    public func health() throws -> HealthResponse { try call("GET", "/v1/health", as: HealthResponse.self) }
    public func location() throws -> LocationState { try call("GET", "/v1/location", as: LocationState.self) }

    public func signIn(_ request: SessionRequest) throws -> SessionInfo {
        try call("POST", "/v1/session", body: request, as: SessionInfo.self)
    }

    public func unlock(pin: String?) throws -> SessionInfo {
        try call("POST", "/v1/session/unlock", body: SessionPINRequest(pin: pin), as: SessionInfo.self)
    }

    /// - Parameter pin: the officer's PIN (root, a technician, needs none).
    public func signOut(pin: String?) throws {
        _ = try send("POST", "/v1/session/sign-out", body: SessionPINRequest(pin: pin))
    }
    /// Hands a signed order to the daemon; a refusal is a `Refusal` with the order's code.
    public func submitOrder(_ envelope: SignedEnvelope) throws -> OrderResult {
        try call("POST", "/v1/orders", body: envelope, as: OrderResult.self)
    }

    /// A technician lifts an order's lock.
    public func liftTerminalLock() throws {
        _ = try send("POST", "/v1/terminal/unlock")
    }

    public func syncNow() throws -> SyncRequested { try call("POST", "/v1/sync", as: SyncRequested.self) }
    public func dispatches() throws -> [Dispatch] { try call("GET", "/v1/dispatches", as: DispatchList.self).dispatches }

    /// - Parameter id: a dispatch id as the daemon gave it (a UUID; the caller checks its shape).
    public func dispatch(id: String) throws -> Dispatch { try call("GET", "/v1/dispatches/\(id)", as: Dispatch.self) }

    public func changeDispatch(id: String, _ change: DispatchStatusRequest) throws -> Dispatch {
        try call("POST", "/v1/dispatches/\(id)/status", body: change, as: Dispatch.self)
    }

    // MARK: Raw

    /// Follows a streaming response (Server-Sent Events), handing each piece to `onData`
    /// until the daemon closes it or `onData` returns false.
    public func stream(_ path: String, onData: @escaping (Data) -> Bool) throws -> Int {
        try perform("GET", path, body: nil, headers: [], sink: Sink(onData: onData), timeout: 0)
    }

    private final class Sink {
        var data = Data()
        var retryAfter: String?
        var contentType: String?
        let onData: ((Data) -> Bool)?
        init(onData: ((Data) -> Bool)?) { self.onData = onData }
    }

    private func perform(_ method: String, _ path: String, body: Data?, headers extra: [String] = [], sink: Sink, timeout: Double) throws -> Int {
        var info = stat()
        guard stat(socketPath, &info) == 0 else {
            throw Unreachable(description: "mpoliced is not running (no socket at \(socketPath); `systemctl status mpoliced`)")
        }
        return try connection.withHandle { handle in
            try perform(handle, method, path, body: body, extra: extra, sink: sink, timeout: timeout)
        }
    }

    /// The value of a header line (`Name: value\r\n`) when it is `name` (lower case), spaces
    /// and the line end trimmed; nil for any other line. Read from libcurl's bytes: a
    /// response's header lines are seen on every request.
    static func headerValue(_ line: UnsafeRawBufferPointer, _ name: StaticString) -> String? {
        let n = name.utf8CodeUnitCount
        guard line.count > n, line[n] == UInt8(ascii: ":") else { return nil }
        for i in 0..<n {
            let byte = line[i], lower = (UInt8(ascii: "A")...UInt8(ascii: "Z")).contains(byte) ? byte | 0x20 : byte
            guard lower == name.utf8Start[i] else { return nil }
        }
        let isSpace = { (byte: UInt8) in byte == 0x20 || byte == 0x09 || byte == 0x0D || byte == 0x0A }
        var start = n + 1, end = line.count
        while start < end, isSpace(line[start]) { start += 1 }
        while end > start, isSpace(line[end - 1]) { end -= 1 }
        return String(decoding: UnsafeRawBufferPointer(rebasing: line[start..<end]), as: UTF8.self)
    }

    private func perform(_ handle: UnsafeMutableRawPointer, _ method: String, _ path: String, body: Data?, extra: [String], sink: Sink,
                         timeout: Double) throws -> Int {
        let context = Unmanaged.passRetained(sink)
        defer { context.release() }
        var headers: UnsafeMutablePointer<curl_slist>?
        defer { curl_slist_free_all(headers) }
        _ = mp_curl_setopt_string(handle, CURLOPT_UNIX_SOCKET_PATH, socketPath)
        _ = mp_curl_setopt_string(handle, CURLOPT_URL, "http://localhost\(path)")
        _ = mp_curl_setopt_string(handle, CURLOPT_PROTOCOLS_STR, "http")
        _ = mp_curl_setopt_long(handle, CURLOPT_NOSIGNAL, 1)
        _ = mp_curl_setopt_long(handle, CURLOPT_CONNECTTIMEOUT_MS, 3_000)
        if timeout > 0 { _ = mp_curl_setopt_long(handle, CURLOPT_TIMEOUT_MS, Int(timeout * 1000)) }
        _ = mp_curl_setopt_string(handle, CURLOPT_CUSTOMREQUEST, method)
        headers = curl_slist_append(headers, "Accept: application/json")
        if let language { headers = curl_slist_append(headers, "Accept-Language: \(language.rawValue)") }
        for header in extra where !header.contains("\r") && !header.contains("\n") { headers = curl_slist_append(headers, header) }
        if let body {
            headers = curl_slist_append(headers, "Content-Type: application/json")
            _ = mp_curl_setopt_long(handle, CURLOPT_POSTFIELDSIZE, body.count)
            _ = mp_curl_setopt_string(handle, CURLOPT_COPYPOSTFIELDS, String(decoding: body, as: UTF8.self))
        }
        _ = mp_curl_setopt_slist(handle, CURLOPT_HTTPHEADER, headers)
        _ = mp_curl_setopt_data_callback(handle, CURLOPT_WRITEFUNCTION) { data, size, count, user in
            let sink = Unmanaged<Sink>.fromOpaque(user!).takeUnretainedValue()
            let chunk = Data(bytes: data!, count: size * count)
            if let onData = sink.onData { return onData(chunk) ? size * count : 0 }
            sink.data.append(chunk)
            return size * count
        }
        _ = mp_curl_setopt_pointer(handle, CURLOPT_WRITEDATA, context.toOpaque())
        _ = mp_curl_setopt_data_callback(handle, CURLOPT_HEADERFUNCTION) { data, size, count, user in
            let sink = Unmanaged<Sink>.fromOpaque(user!).takeUnretainedValue()
            let line = UnsafeRawBufferPointer(start: data, count: size * count)
            if let value = APIClient.headerValue(line, "retry-after") {
                sink.retryAfter = value
            } else if let value = APIClient.headerValue(line, "content-type") {
                sink.contentType = value
            }
            return size * count
        }
        _ = mp_curl_setopt_pointer(handle, CURLOPT_HEADERDATA, context.toOpaque())
        let result = curl_easy_perform(handle)
        var status = 0
        _ = mp_curl_getinfo_long(handle, CURLINFO_RESPONSE_CODE, &status)
        if result == CURLE_WRITE_ERROR, sink.onData != nil { return status }   // the caller stopped reading
        guard result == CURLE_OK else {
            let reason = String(cString: curl_easy_strerror(result))
            if result == CURLE_GOT_NOTHING || result == CURLE_RECV_ERROR || result == CURLE_SEND_ERROR {
                throw Unreachable(description: "mpoliced closed the connection: this user is not allowed on \(socketPath) (api.allowed_users / api.allowed_groups)")
            }
            if result == CURLE_COULDNT_CONNECT {
                throw Unreachable(description: "mpoliced is not answering on \(socketPath) (\(reason); not running, or this user is not allowed)")
            }
            throw Unreachable(description: "the daemon connection failed: \(reason)")
        }
        return status
    }
}
