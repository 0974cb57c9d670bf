import CCurlShim
import Foundation

/// Many HTTPS transfers on one thread (libcurl's multi-socket interface over epoll): what
/// lets one process stand in for thousands of terminals, each with its own client
/// certificate and its own kept-alive connections.
final class CurlMulti {
    /// One request and what came back; reused by its terminal (its connection stays open).
    final class Transfer {
        let handle: UnsafeMutableRawPointer
        var body = Data()
        var etag: String?
        var headers: UnsafeMutablePointer<curl_slist>?
        var started: Double = 0
        var completion: ((Transfer, Result<Int, TransferError>) -> Void)?

        /// - Parameter connections: the connection cache this transfer shares (one terminal's).
        init(certificate: String, key: String, caFile: String, connections: ConnectionCache) {
            handle = curl_easy_init()!
            _ = mp_curl_setopt_pointer(handle, CURLOPT_SHARE, connections.share)
            _ = mp_curl_setopt_string(handle, CURLOPT_SSLCERT, certificate)
            _ = mp_curl_setopt_string(handle, CURLOPT_SSLKEY, key)
            _ = mp_curl_setopt_string(handle, CURLOPT_CAINFO, caFile)
            _ = mp_curl_setopt_long(handle, CURLOPT_NOSIGNAL, 1)
            _ = mp_curl_setopt_long(handle, CURLOPT_CONNECTTIMEOUT_MS, 10_000)
            // HTTP/1.1: one request per connection at a time, as the terminal's transport does.
            _ = mp_curl_setopt_long(handle, CURLOPT_HTTP_VERSION, Int(CURL_HTTP_VERSION_1_1))
            let me = Unmanaged.passUnretained(self).toOpaque()
            _ = mp_curl_setopt_data_callback(handle, CURLOPT_WRITEFUNCTION) { data, size, count, user in
                let transfer = Unmanaged<Transfer>.fromOpaque(user!).takeUnretainedValue()
                transfer.body.append(UnsafeRawPointer(data!).assumingMemoryBound(to: UInt8.self), count: size * count)
                return size * count
            }
            _ = mp_curl_setopt_pointer(handle, CURLOPT_WRITEDATA, me)
            _ = mp_curl_setopt_data_callback(handle, CURLOPT_HEADERFUNCTION) { data, size, count, user in
                let transfer = Unmanaged<Transfer>.fromOpaque(user!).takeUnretainedValue()
                let line = String(decoding: UnsafeRawBufferPointer(start: data, count: size * count), as: UTF8.self)
                if line.lowercased().hasPrefix("etag:") {
                    transfer.etag = String(line.dropFirst(5)).trimmingCharacters(in: .whitespacesAndNewlines)
                }
                return size * count
            }
            _ = mp_curl_setopt_pointer(handle, CURLOPT_HEADERDATA, me)
        }

        deinit {
            curl_easy_cleanup(handle)
            curl_slist_free_all(headers)
        }

        /// Sets the request: GET, or POST of `body`; `timeout` in seconds.
        func prepare(url: String, post: Data? = nil, headers lines: [String] = [], timeout: Int) {
            body.removeAll(keepingCapacity: true)
            etag = nil
            _ = mp_curl_setopt_string(handle, CURLOPT_URL, url)
            _ = mp_curl_setopt_long(handle, CURLOPT_TIMEOUT, timeout)
            curl_slist_free_all(headers)
            headers = nil
            for line in lines { headers = curl_slist_append(headers, line) }
            _ = mp_curl_setopt_slist(handle, CURLOPT_HTTPHEADER, headers)
            if let post {
                _ = mp_curl_setopt_long(handle, CURLOPT_POST, 1)
                _ = mp_curl_setopt_off_t(handle, CURLOPT_POSTFIELDSIZE_LARGE, curl_off_t(post.count))
                post.withUnsafeBytes { _ = mp_curl_setopt_pointer(handle, CURLOPT_COPYPOSTFIELDS, UnsafeMutableRawPointer(mutating: $0.baseAddress!)) }
            } else {
                _ = mp_curl_setopt_long(handle, CURLOPT_HTTPGET, 1)
            }
        }
    }

    /// One terminal's connections, shared by its transfers only. Without it every transfer
    /// would look for a connection to reuse among all the fleet's (one host: thousands in one
    /// bundle, each compared and probed with a recv).
    final class ConnectionCache {
        let share: UnsafeMutableRawPointer

        init() {
            share = curl_share_init()!
            _ = mp_curl_share_setopt_long(share, CURLSHOPT_SHARE, Int(CURL_LOCK_DATA_CONNECT.rawValue))
        }

        deinit { curl_share_cleanup(share) }
    }

    struct TransferError: Error {
        let message: String
    }

    private let multi: UnsafeMutableRawPointer
    private var active: [UnsafeMutableRawPointer: Transfer] = [:]
    /// The sockets libcurl asked to be watched, in an epoll set: only the sockets with
    /// something to do are handed to libcurl (`curl_multi_perform` would look at every
    /// transfer on every turn, a system call each — thousands of idle long polls).
    private let epoll: Int32
    /// When libcurl wants `CURL_SOCKET_TIMEOUT` (monotonic seconds), nil: not asked.
    private var timerDue: Double?
    private var events = [epoll_event](repeating: epoll_event(), count: 1_024)
    private var now: () -> Double

    init(now: @escaping () -> Double) {
        self.now = now
        curl_global_init(Int(CURL_GLOBAL_DEFAULT))
        multi = curl_multi_init()!
        epoll = epoll_create1(Int32(EPOLL_CLOEXEC))
        // Every terminal keeps its connections: the cache holds them all.
        _ = mp_curl_multi_setopt_long(multi, CURLMOPT_MAXCONNECTS, 100_000)
        let me = Unmanaged.passUnretained(self).toOpaque()
        _ = mp_curl_multi_setopt_pointer(multi, CURLMOPT_SOCKETDATA, me)
        _ = mp_curl_multi_setopt_pointer(multi, CURLMOPT_TIMERDATA, me)
        _ = mp_curl_multi_setopt_socket_callback(multi) { _, socket, what, user, _ in
            let this = Unmanaged<CurlMulti>.fromOpaque(user!).takeUnretainedValue()
            this.watch(socket, what)
            return 0
        }
        _ = mp_curl_multi_setopt_timer_callback(multi) { _, milliseconds, user in
            let this = Unmanaged<CurlMulti>.fromOpaque(user!).takeUnretainedValue()
            this.timerDue = milliseconds < 0 ? nil : this.now() + Double(milliseconds) / 1000
            return 0
        }
    }

    deinit {
        curl_multi_cleanup(multi)
        close(epoll)
    }

    var inFlight: Int { active.count }

    private func watch(_ socket: curl_socket_t, _ what: Int32) {
        guard what != CURL_POLL_REMOVE else {
            _ = epoll_ctl(epoll, Int32(EPOLL_CTL_DEL), socket, nil)
            return
        }
        var event = epoll_event()
        if what == CURL_POLL_IN || what == CURL_POLL_INOUT { event.events |= EPOLLIN.rawValue }
        if what == CURL_POLL_OUT || what == CURL_POLL_INOUT { event.events |= EPOLLOUT.rawValue }
        event.data.fd = socket
        if epoll_ctl(epoll, Int32(EPOLL_CTL_MOD), socket, &event) != 0 { _ = epoll_ctl(epoll, Int32(EPOLL_CTL_ADD), socket, &event) }
    }

    /// Starts `transfer`; `completion` gets the HTTP status or the failure.
    func start(_ transfer: Transfer, at time: Double, completion: @escaping (Transfer, Result<Int, TransferError>) -> Void) {
        transfer.started = time
        transfer.completion = completion
        active[transfer.handle] = transfer
        curl_multi_add_handle(multi, transfer.handle)
    }

    /// Moves the transfers with something to do on, waiting up to `timeout` milliseconds for
    /// the network; completions run on this thread, before it returns.
    func step(timeout: Int32) {
        var running: Int32 = 0
        let wait = timerDue.map { max(0, min(Double(timeout), ($0 - now()) * 1000)) }.map { Int32($0.rounded(.up)) } ?? timeout
        let ready = epoll_wait(epoll, &events, Int32(events.count), wait)
        for event in events.prefix(Int(max(0, ready))) {
            var flags: Int32 = 0
            if event.events & EPOLLIN.rawValue != 0 { flags |= CURL_CSELECT_IN }
            if event.events & EPOLLOUT.rawValue != 0 { flags |= CURL_CSELECT_OUT }
            if event.events & (EPOLLERR.rawValue | EPOLLHUP.rawValue) != 0 { flags |= CURL_CSELECT_ERR }
            curl_multi_socket_action(multi, event.data.fd, flags, &running)
        }
        if let due = timerDue, now() >= due {
            timerDue = nil
            curl_multi_socket_action(multi, CURL_SOCKET_TIMEOUT, 0, &running)
        }
        var left: Int32 = 0
        while let message = curl_multi_info_read(multi, &left) {
            guard message.pointee.msg == CURLMSG_DONE, let handle = message.pointee.easy_handle else { continue }
            let code = message.pointee.data.result
            curl_multi_remove_handle(multi, handle)
            guard let transfer = active.removeValue(forKey: handle) else { continue }
            let completion = transfer.completion
            transfer.completion = nil
            if code == CURLE_OK {
                var status = 0
                _ = mp_curl_getinfo_long(handle, CURLINFO_RESPONSE_CODE, &status)
                completion?(transfer, .success(status))
            } else {
                completion?(transfer, .failure(TransferError(message: String(cString: curl_easy_strerror(code)))))
            }
        }
    }
}
