import CCurlShim
import FieldWire
import Foundation
import Synchronization

/// HTTPS for field sync on libcurl: mutual TLS with the device certificate, trust pinned to
/// the configured CA file (never the system store), optional public-key pin, HTTP/2 where
/// the server offers it, connect and overall timeouts, conditional GET by ETag, and a hard
/// cap on the bytes accepted (Debian 12's libcurl 7.88 does not stop a running transfer at
/// CURLOPT_MAXFILESIZE, so the write callback enforces it).
public final class CurlTransport: Sendable {
    public struct Configuration: Sendable {
        /// PEM file with the CA(s) the central's server certificate must chain to.
        public var caFile: String
        /// PEM device certificate and its key; nil sends none (the server will refuse).
        public var clientCertificate: String?
        public var clientKey: String?
        /// "sha256//BASE64" pin of the server's public key, or nil.
        public var pinnedPublicKey: String?
        public var connectTimeout: Double
        public var totalTimeout: Double
        /// Keep the connection (and TLS session) of a finished transfer for the next one:
        /// requests in a row (a sync run, long polls, photos) then cost one handshake, not one
        /// each. libcurl checks a kept connection before using it and opens a new one when the
        /// server has closed it.
        public var reuseConnections: Bool

        public init(caFile: String, clientCertificate: String?, clientKey: String?, pinnedPublicKey: String? = nil,
                    connectTimeout: Double = 10, totalTimeout: Double = 300, reuseConnections: Bool = false) {
            (self.caFile, self.clientCertificate, self.clientKey) = (caFile, clientCertificate, clientKey)
            (self.pinnedPublicKey, self.connectTimeout, self.totalTimeout) = (pinnedPublicKey, connectTimeout, totalTimeout)
            self.reuseConnections = reuseConnections
        }
    }

    public struct Response: Sendable {
        public var status: Int
        public var etag: String?
        /// The server's Date header, as sent.
        public var date: String?
        public var body: Data
        /// "1.1" or "2".
        public var httpVersion: String
        public var notModified: Bool { status == 304 }
    }

    public let configuration: Configuration
    /// With `reuseConnections`: finished transfers' handles, which keep their connections.
    private let idle = Mutex<[EasyHandle]>([])

    public init(_ configuration: Configuration) {
        self.configuration = configuration
        _ = Self.globalInit
    }

    deinit {
        for handle in idle.withLock({ $0 }) { curl_easy_cleanup(handle.pointer) }
    }

    /// A libcurl easy handle, touched by one transfer at a time.
    private struct EasyHandle: @unchecked Sendable {
        let pointer: UnsafeMutableRawPointer
    }

    /// A handle for one transfer: a kept one (options reset, connections kept) or a new one.
    private func takeHandle() throws -> UnsafeMutableRawPointer {
        if configuration.reuseConnections, let kept = idle.withLock({ $0.popLast() }) {
            curl_easy_reset(kept.pointer)
            return kept.pointer
        }
        guard let handle = curl_easy_init() else { throw SyncFailure(.network, "libcurl could not start a transfer") }
        return handle
    }

    private func giveBack(_ handle: UnsafeMutableRawPointer) {
        let kept = configuration.reuseConnections && idle.withLock { idle in
            guard idle.count < 2 else { return false }
            idle.append(EasyHandle(pointer: handle))
            return true
        }
        if !kept { curl_easy_cleanup(handle) }
    }

    private static let globalInit: Void = { curl_global_init(Int(CURL_GLOBAL_DEFAULT)) }()

    /// GETs `url`, accepting at most `maxBytes` of body.
    /// - Parameters:
    ///   - timeout: the whole transfer's bound, when not the configured one (a long poll).
    ///   - abort: checked about once a second; true ends the transfer (`.cancelled`).
    /// - Throws: `SyncFailure` with `.tls`, `.network` or `.tooLarge`.
    public func get(_ url: String, maxBytes: Int64, ifNoneMatch etag: String? = nil, timeout: Double? = nil,
                    abort: AbortFlag? = nil) throws -> Response {
        try request(url, maxBytes: maxBytes, headers: etag.map { ["If-None-Match: \($0)"] } ?? [], upload: nil,
                    timeout: timeout, abort: abort, trace: nil)
    }

    /// A GET that also records how the connection went, phase by phase (`TransferTrace`),
    /// for diagnostics. Throws like `get`; the trace is filled either way.
    public func traced(_ url: String, maxBytes: Int64, trace: TransferTrace) throws -> Response {
        try request(url, maxBytes: maxBytes, headers: [], upload: nil, timeout: nil, abort: nil, trace: trace)
    }

    /// POSTs `body` with the given header lines (e.g. "Content-Type: application/json").
    public func post(_ url: String, body: Data, headers: [String], maxBytes: Int64, abort: AbortFlag? = nil) throws -> Response {
        try request(url, maxBytes: maxBytes, headers: headers, upload: body, timeout: nil, abort: abort, trace: nil)
    }

    private func request(_ url: String, maxBytes: Int64, headers: [String], upload: Data?, timeout: Double?,
                         abort: AbortFlag?, trace: TransferTrace?) throws -> Response {
        let sink = ResponseSink(maxBytes: maxBytes)
        var version = 0
        let status = try transfer(url, maxBytes: maxBytes, headers: headers, upload: upload, timeout: timeout, abort: abort,
                                  trace: trace, resumeFrom: 0, httpVersion: &version,
                                  body: { sink.body($0, $1) }, header: { sink.header($0) }, overflowed: { sink.overflowed })
        return Response(status: status, etag: sink.etag, date: sink.date, body: sink.data,
                        httpVersion: version == CURL_HTTP_VERSION_2_0 ? "2" : "1.1")
    }

    /// A ranged GET into a `FileSink`; returns the HTTP status.
    func perform(_ url: String, resumeFrom offset: Int64, sink: FileSink, abort: AbortFlag?) throws -> Int {
        var version = 0
        return try transfer(url, maxBytes: sink.expectedLength, headers: [], upload: nil, timeout: nil, abort: abort,
                            trace: nil, resumeFrom: offset, httpVersion: &version,
            body: { sink.body($0, $1) },
            header: { line in
                if line.hasPrefix("HTTP/"), let code = line.split(separator: " ").dropFirst().first.flatMap({ Int($0) }) {
                    sink.status(code)
                }
            },
            overflowed: { sink.overflowed })
    }

    private final class Callbacks {
        let body: (UnsafeMutablePointer<CChar>, Int) -> Int
        let header: (String) -> Void
        let abort: AbortFlag?
        let trace: TransferTrace?
        init(body: @escaping (UnsafeMutablePointer<CChar>, Int) -> Int, header: @escaping (String) -> Void, abort: AbortFlag?,
             trace: TransferTrace?) {
            self.body = body
            self.header = header
            self.abort = abort
            self.trace = trace
        }
    }

    private func transfer(_ url: String, maxBytes: Int64, headers lines: [String], upload: Data?, timeout: Double?,
                          abort: AbortFlag?, trace: TransferTrace?, resumeFrom offset: Int64,
                          httpVersion: inout Int, body: @escaping (UnsafeMutablePointer<CChar>, Int) -> Int,
                          header: @escaping (String) -> Void, overflowed: () -> Bool) throws -> Int {
        let handle = try takeHandle()
        defer { giveBack(handle) }
        let context = Unmanaged.passRetained(Callbacks(body: body, header: header, abort: abort, trace: trace))
        defer { context.release() }
        var headers: UnsafeMutablePointer<curl_slist>?
        defer { curl_slist_free_all(headers) }

        var ok = true
        func set(_ code: CURLcode) { ok = ok && code == CURLE_OK }
        set(mp_curl_setopt_string(handle, CURLOPT_URL, url))
        set(mp_curl_setopt_long(handle, CURLOPT_NOSIGNAL, 1))
        set(mp_curl_setopt_string(handle, CURLOPT_PROTOCOLS_STR, "https"))
        set(mp_curl_setopt_string(handle, CURLOPT_CAINFO, configuration.caFile))
        set(mp_curl_setopt_string(handle, CURLOPT_CAPATH, nil))
        set(mp_curl_setopt_long(handle, CURLOPT_SSL_VERIFYPEER, 1))
        set(mp_curl_setopt_long(handle, CURLOPT_SSL_VERIFYHOST, 2))
        set(mp_curl_setopt_long(handle, CURLOPT_SSLVERSION, Int(CURL_SSLVERSION_TLSv1_2)))
        if let certificate = configuration.clientCertificate, let key = configuration.clientKey {
            set(mp_curl_setopt_string(handle, CURLOPT_SSLCERT, certificate))
            set(mp_curl_setopt_string(handle, CURLOPT_SSLKEY, key))
        }
        if let pin = configuration.pinnedPublicKey { set(mp_curl_setopt_string(handle, CURLOPT_PINNEDPUBLICKEY, pin)) }
        set(mp_curl_setopt_long(handle, CURLOPT_HTTP_VERSION, CURL_HTTP_VERSION_2TLS))
        set(mp_curl_setopt_long(handle, CURLOPT_CONNECTTIMEOUT_MS, Int(configuration.connectTimeout * 1000)))
        set(mp_curl_setopt_long(handle, CURLOPT_TIMEOUT_MS, Int((timeout ?? configuration.totalTimeout) * 1000)))
        set(mp_curl_setopt_long(handle, CURLOPT_FOLLOWLOCATION, 0))
        if offset > 0 { set(mp_curl_setopt_off_t(handle, CURLOPT_RESUME_FROM_LARGE, curl_off_t(offset))) }
        for line in lines { headers = curl_slist_append(headers, line) }
        if headers != nil { set(mp_curl_setopt_slist(handle, CURLOPT_HTTPHEADER, headers)) }
        if let upload {
            set(mp_curl_setopt_off_t(handle, CURLOPT_POSTFIELDSIZE_LARGE, curl_off_t(upload.count)))
            // COPYPOSTFIELDS copies the bytes, so they need not outlive this call.
            upload.withUnsafeBytes { set(mp_curl_setopt_pointer(handle, CURLOPT_COPYPOSTFIELDS, UnsafeMutableRawPointer(mutating: $0.baseAddress))) }
        }
        if abort != nil {
            set(mp_curl_setopt_long(handle, CURLOPT_NOPROGRESS, 0))
            set(mp_curl_setopt_progress_callback(handle, { user, _, _, _, _ in
                Unmanaged<Callbacks>.fromOpaque(user!).takeUnretainedValue().abort?.isSet == true ? 1 : 0
            }))
            set(mp_curl_setopt_pointer(handle, CURLOPT_XFERINFODATA, context.toOpaque()))
        }
        set(mp_curl_setopt_data_callback(handle, CURLOPT_WRITEFUNCTION, { data, size, count, user in
            Unmanaged<Callbacks>.fromOpaque(user!).takeUnretainedValue().body(data!, size * count)
        }))
        set(mp_curl_setopt_pointer(handle, CURLOPT_WRITEDATA, context.toOpaque()))
        set(mp_curl_setopt_data_callback(handle, CURLOPT_HEADERFUNCTION, { data, size, count, user in
            let line = String(decoding: UnsafeRawBufferPointer(start: data!, count: size * count), as: UTF8.self)
            Unmanaged<Callbacks>.fromOpaque(user!).takeUnretainedValue().header(line)
            return size * count
        }))
        set(mp_curl_setopt_pointer(handle, CURLOPT_HEADERDATA, context.toOpaque()))
        if trace != nil {
            set(mp_curl_setopt_long(handle, CURLOPT_CERTINFO, 1))
            set(mp_curl_setopt_long(handle, CURLOPT_VERBOSE, 1))
            set(mp_curl_setopt_debug_callback(handle, { _, type, data, size, user in
                // Only libcurl's informational lines; never headers or bodies (they may hold lists).
                guard type == CURLINFO_TEXT, let data, let user else { return 0 }
                let line = String(decoding: UnsafeRawBufferPointer(start: data, count: size), as: UTF8.self)
                Unmanaged<Callbacks>.fromOpaque(user).takeUnretainedValue().trace?.note(line)
                return 0
            }))
            set(mp_curl_setopt_pointer(handle, CURLOPT_DEBUGDATA, context.toOpaque()))
        }
        guard ok else { throw SyncFailure(.network, "libcurl refused an option") }

        let result = curl_easy_perform(handle)
        trace?.finish(handle, result)
        if result == CURLE_ABORTED_BY_CALLBACK { throw SyncFailure(.cancelled, "\(url): ended (shutting down)") }
        if overflowed() || result == CURLE_FILESIZE_EXCEEDED {
            throw SyncFailure(.tooLarge, "\(url): more than the \(maxBytes) bytes stated")
        }
        guard result == CURLE_OK else {
            let message = String(cString: curl_easy_strerror(result))
            throw SyncFailure(Self.isTLS(result) ? .tls : .network, "\(url): \(message)")
        }
        var status = 0
        _ = mp_curl_getinfo_long(handle, CURLINFO_RESPONSE_CODE, &status)
        _ = mp_curl_getinfo_long(handle, CURLINFO_HTTP_VERSION, &httpVersion)
        return status
    }

    static func isTLS(_ code: CURLcode) -> Bool {
        [CURLE_SSL_CONNECT_ERROR, CURLE_PEER_FAILED_VERIFICATION, CURLE_SSL_CERTPROBLEM, CURLE_SSL_CIPHER,
         CURLE_SSL_CACERT_BADFILE, CURLE_SSL_PINNEDPUBKEYNOTMATCH, CURLE_SSL_INVALIDCERTSTATUS,
         CURLE_SSL_ISSUER_ERROR, CURLE_SSL_CRL_BADFILE, CURLE_SSL_SHUTDOWN_FAILED, CURLE_SSL_ENGINE_NOTFOUND,
         CURLE_SSL_ENGINE_SETFAILED, CURLE_SSL_ENGINE_INITFAILED, CURLE_USE_SSL_FAILED, CURLE_SSL_CLIENTCERT].contains(code)
    }
}

/// Collects one response; touched only by libcurl's callbacks during `curl_easy_perform`.
private final class ResponseSink: @unchecked Sendable {
    let maxBytes: Int64
    var data = Data()
    var etag: String?
    var date: String?
    var overflowed = false

    init(maxBytes: Int64) { self.maxBytes = maxBytes }

    func body(_ bytes: UnsafeMutablePointer<CChar>, _ count: Int) -> Int {
        if maxBytes > 0, Int64(data.count + count) > maxBytes {
            overflowed = true
            return 0   // anything but `count` aborts the transfer
        }
        data.append(UnsafeRawPointer(bytes).assumingMemoryBound(to: UInt8.self), count: count)
        return count
    }

    func header(_ line: String) {
        let lower = line.lowercased()
        if lower.hasPrefix("etag:") {
            etag = line.dropFirst(5).trimmingCharacters(in: .whitespacesAndNewlines)
        } else if lower.hasPrefix("date:") {
            date = line.dropFirst(5).trimmingCharacters(in: .whitespacesAndNewlines)
        }
        // A new response (after a 100 Continue) starts its headers afresh.
        if line.hasPrefix("HTTP/") {
            etag = nil
            date = nil
        }
    }
}

/// Set once to end the transfers that were given it (shutdown).
public final class AbortFlag: Sendable {
    private let flag = Atomic<Bool>(false)
    public init() {}
    public func set() { flag.store(true, ordering: .relaxed) }
    public var isSet: Bool { flag.load(ordering: .relaxed) }
}

/// How one traced transfer went, phase by phase: what `mpolicectl diag` reports.
public final class TransferTrace: @unchecked Sendable {
    /// libcurl's result code (0: the transfer completed) and its text.
    public private(set) var curlCode: Int32 = -1
    public private(set) var curlMessage = ""
    /// Seconds from the start to the end of each phase (nil: not reached).
    public private(set) var resolved: Double?
    public private(set) var connected: Double?
    public private(set) var tlsDone: Double?
    public private(set) var total: Double?
    /// "TLSv1.3 / TLS_AES_256_GCM_SHA384", from libcurl's own report.
    public private(set) var tlsSession: String?
    /// The server certificate's "Start date" and "Expire date", as libcurl gives them.
    public private(set) var serverCertificateStart: String?
    public private(set) var serverCertificateExpiry: String?
    public private(set) var serverCertificateSubject: String?
    /// The server certificate's verification result (OpenSSL's code; 0 is ok).
    public private(set) var verifyResult: Int = 0

    public init() {}

    func note(_ line: String) {
        if let range = line.range(of: "SSL connection using ") {
            tlsSession = line[range.upperBound...].trimmingCharacters(in: .whitespacesAndNewlines)
        }
    }

    func finish(_ handle: UnsafeMutableRawPointer, _ result: CURLcode) {
        curlCode = Int32(result.rawValue)
        curlMessage = String(cString: curl_easy_strerror(result))
        func seconds(_ info: CURLINFO) -> Double? {
            var value: curl_off_t = 0
            guard mp_curl_getinfo_off_t(handle, info, &value) == CURLE_OK, value > 0 else { return nil }
            return Double(value) / 1_000_000
        }
        resolved = seconds(CURLINFO_NAMELOOKUP_TIME_T)
        connected = seconds(CURLINFO_CONNECT_TIME_T)
        tlsDone = seconds(CURLINFO_APPCONNECT_TIME_T)
        total = seconds(CURLINFO_TOTAL_TIME_T)
        var verify = 0
        _ = mp_curl_getinfo_long(handle, CURLINFO_SSL_VERIFYRESULT, &verify)
        verifyResult = verify
        var info: UnsafeMutablePointer<curl_certinfo>?
        guard mp_curl_getinfo_certinfo(handle, &info) == CURLE_OK, let info, info.pointee.num_of_certs > 0,
              var field = info.pointee.certinfo[0] else { return }
        while true {
            let text = String(cString: field.pointee.data)
            if let colon = text.firstIndex(of: ":") {
                let value = String(text[text.index(after: colon)...])
                switch text[..<colon] {
                case "Start date": serverCertificateStart = value
                case "Expire date": serverCertificateExpiry = value
                case "Subject": serverCertificateSubject = value
                default: break
                }
            }
            guard let next = field.pointee.next else { break }
            field = next
        }
    }
}
