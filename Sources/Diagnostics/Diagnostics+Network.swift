import FieldSync
import FieldWire
import Foundation
import Store
import Watchlist

extension DiagnosisContext {
    func dnsStep() throws -> Finding {
        let central = try requireCentral()
        var hints = addrinfo()
        hints.ai_socktype = Int32(SOCK_STREAM.rawValue)
        var result: UnsafeMutablePointer<addrinfo>?
        let status = getaddrinfo(central.host, String(central.port), &hints, &result)
        defer { if result != nil { freeaddrinfo(result) } }
        guard status == 0 else {
            throw Finding.fail("dns.unresolved", "\(central.host) does not resolve: \(String(cString: gai_strerror(status)))",
                               hint: "check the host in sync.central, the mobile data connection and the DNS server")
        }
        var addresses: [String] = []
        var entry = result
        while let e = entry {
            var host = [CChar](repeating: 0, count: Int(NI_MAXHOST))
            if getnameinfo(e.pointee.ai_addr, e.pointee.ai_addrlen, &host, socklen_t(host.count), nil, 0, NI_NUMERICHOST) == 0 {
                let text = String(decoding: host.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }, as: UTF8.self)
                if !addresses.contains(text) { addresses.append(text) }
            }
            entry = e.pointee.ai_next
        }
        return .ok("\(central.host) → \(addresses.joined(separator: ", "))")
    }

    func tcpStep() throws -> Finding {
        let central = try requireCentral()
        var hints = addrinfo()
        hints.ai_socktype = Int32(SOCK_STREAM.rawValue)
        var result: UnsafeMutablePointer<addrinfo>?
        guard getaddrinfo(central.host, String(central.port), &hints, &result) == 0, let first = result else {
            throw Finding.fail("dns.unresolved", "\(central.host) no longer resolves", hint: "run diag again")
        }
        defer { freeaddrinfo(result) }
        let fd = socket(first.pointee.ai_family, first.pointee.ai_socktype, first.pointee.ai_protocol)
        guard fd >= 0 else { throw Finding.fail("tcp.error", "cannot open a socket", hint: "the system is out of resources: restart the terminal") }
        defer { close(fd) }
        _ = fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) | O_NONBLOCK)
        var outcome = connect(fd, first.pointee.ai_addr, first.pointee.ai_addrlen) == 0 ? 0 : errno
        if outcome == EINPROGRESS {
            var poller = pollfd(fd: fd, events: Int16(POLLOUT), revents: 0)
            let ready = poll(&poller, 1, Int32(configuration.sync.connectTimeout * 1000))
            if ready == 0 {
                throw Finding.fail("tcp.timeout", "\(central.host):\(central.port): no answer within \(Int(configuration.sync.connectTimeout)) s",
                                   hint: "a firewall or the network drops the connection: check mobile data, APN and VPN")
            }
            var error: Int32 = 0
            var length = socklen_t(MemoryLayout<Int32>.size)
            getsockopt(fd, SOL_SOCKET, SO_ERROR, &error, &length)
            outcome = error
        }
        switch outcome {
        case 0: return .ok("connected to \(central.host):\(central.port)")
        case ECONNREFUSED:
            throw Finding.fail("tcp.refused", "\(central.host):\(central.port): connection refused (nothing listens there)",
                               hint: "the center's server is down or sync.central names the wrong port")
        default:
            throw Finding.fail("tcp.unreachable", "\(central.host):\(central.port): \(String(cString: strerror(outcome)))",
                               hint: "no route to the center: check mobile data, APN and VPN")
        }
    }

    func tlsStep() throws -> Finding {
        let probe = try manifestProbe()
        let trace = probe.trace
        let ca = configuration.sync.ca
        // libcurl's codes: 35 handshake, 51/60 peer verification, 58 local certificate, 77 CA file, 90 pin, 28 timeout.
        // An answer came: TLS worked. Without one, libcurl's code says what broke.
        if probe.response == nil {
            switch trace.curlCode {
            case 60, 51:
                throw Finding.fail("tls.untrusted-server", "the center's certificate is not trusted: \(trace.curlMessage)",
                                   hint: "the server is not the center (or not signed by \(ca)): check sync.central and sync.ca")
            case 90:
                throw Finding.fail("tls.pin-mismatch", "the center's public key does not match sync.pin",
                                   hint: "the center changed its key or this is not the center: confirm the pin with the helpdesk")
            case 58:
                throw Finding.fail("tls.client-certificate-file", "libcurl cannot use the device certificate or key: \(trace.curlMessage)",
                                   hint: "reinstall the device certificate and key (see the certificate step)")
            case 77:
                throw Finding.fail("tls.ca-file", "cannot read the CA file \(ca): \(trace.curlMessage)", hint: "reinstall the center's CA certificate")
            case 28:
                throw Finding.fail("tls.timeout", "the TLS handshake or request timed out: \(trace.curlMessage)",
                                   hint: "the link is too slow or a middlebox interferes: try again with better coverage")
            default:
                throw Finding.fail("tls.handshake", "TLS with the center failed: \(trace.curlMessage)",
                                   hint: "a proxy or firewall may intercept TLS; check the network and sync.central")
            }
        }
        var detail = trace.tlsSession ?? "TLS"
        detail += ", server certificate verified against \(ca)"
        if configuration.sync.pin != nil { detail += ", pin matches" }
        if let expiry = trace.serverCertificateExpiry, let date = Self.certificateDate(expiry) {
            let left = date.timeIntervalSince1970 - now
            detail += ", expires \(Timestamp.iso8601(seconds: Int64(date.timeIntervalSince1970))) (\(Self.days(left)))"
            if left < 14 * 86_400 {
                throw Finding.warn("tls.server-certificate-expires-soon", detail, hint: "tell the helpdesk: the center's certificate needs renewing")
            }
        }
        if let t = trace.tlsDone { detail += String(format: ", handshake done at %.0f ms", t * 1000) }
        return .ok(detail)
    }

    func clientCertificateStep() throws -> Finding {
        let response = try manifestResponse()
        switch response.status {
        case 400, 495, 496:
            throw Finding.fail("client-certificate.refused", "the center refused the device certificate (HTTP \(response.status))",
                               hint: "the certificate is not one the center accepts (revoked, expired or from another CA): re-enrol the device")
        default:
            return .ok("the center accepted the device certificate")
        }
    }

    func manifestStep() throws -> Finding {
        let probe = try manifestProbe()
        let response = try manifestResponse()
        let ms = Int((probe.trace.total ?? 0) * 1000)
        let url = try requireCentral().url + Manifest.path
        switch response.status {
        case 200:
            return .ok("HTTP \(response.status) in \(ms) ms, \(response.body.count) bytes, HTTP/\(response.httpVersion), ETag \(response.etag ?? "none")")
        case 404:
            throw Finding.fail("manifest.not-found", "\(url): HTTP 404", hint: "sync.central does not point at the published list directory")
        default:
            throw Finding.fail("manifest.http-\(response.status)", "\(url): HTTP \(response.status) in \(ms) ms",
                               hint: response.status >= 500 ? "the center has a problem: tell the helpdesk" : "check sync.central")
        }
    }

    func manifestTrustStep() throws -> Finding {
        let body = try manifestResponse().body
        let lists: ListsStore
        do {
            lists = try ListsStore.openReadOnly(stateDirectory)
        } catch {
            throw Finding.fail("manifest-trust.no-lists", "cannot read the trust state in lists.db: \(error)", hint: "see the lists and databases steps")
        }
        let journal = try openJournal()
        let verifier = ListsSync(.init(baseURL: try requireCentral().url, provisionedRoot: URL(fileURLWithPath: configuration.sync.trustRoot),
                                       workDirectory: stateDirectory.url.appendingPathComponent("sync")),
                                 transport: transport, lists: lists, journal: journal, clock: clock)
        let manifest: Manifest
        do {
            manifest = try verifier.verify(manifest: body)
        } catch let failure as SyncFailure {
            let hint: String
            switch failure.reason {
            case .expired: hint = "the center has not published in time, or this terminal's clock is ahead: see the clock step"
            case .badSignature: hint = "the manifest is not signed by the keys this terminal trusts: tampered, or a root this terminal lacks — call the helpdesk"
            case .rollback: hint = "the center served an older manifest than this terminal already trusts: call the helpdesk"
            default: hint = "docs/sync-protocol.md explains the reason code"
            }
            throw Finding.fail("manifest.\(failure.reason.rawValue)", failure.message, hint: hint)
        }
        let stored = try lists.syncState()?.manifestSequence ?? 0
        let left = Double(manifest.expiresAt) - now
        var detail = "sequence \(manifest.sequence) (lists here from \(stored)), signature valid, expires \(Timestamp.iso8601(seconds: manifest.expiresAt)) (\(Self.days(left)))"
        if manifest.sequence > stored { detail += "; newer lists wait: a sync would fetch them" }
        if left < 86_400 {
            throw Finding.warn("manifest.expires-soon", detail, hint: "the center must publish again within a day; tell the helpdesk if it does not")
        }
        return .ok(detail)
    }

    func clockStep() throws -> Finding {
        guard let header = try manifestProbe().response?.date, let server = Self.httpDate(header) else {
            throw Finding.warn("clock.no-date", "the center sent no Date header to compare with", hint: "check time sync (timedatectl)")
        }
        let skew = now - server.timeIntervalSince1970
        let detail = String(format: "this clock is %.0f s %@ the center's", abs(skew), skew >= 0 ? "ahead of" : "behind")
        if abs(skew) > 900 {
            throw Finding.fail("clock.skew", detail,
                               hint: "set the time (timedatectl set-ntp true): certificate and manifest expiry are judged wrongly")
        }
        if abs(skew) > 60 {
            throw Finding.warn("clock.skew", detail, hint: "time sync is off: timedatectl status")
        }
        return .ok(detail)
    }

    /// "Nov 28 02:30:00 2026 GMT" (libcurl's certificate field).
    static func certificateDate(_ text: String) -> Date? {
        let formatter = DateFormatter()
        formatter.locale = Locale(identifier: "en_US_POSIX")
        formatter.timeZone = TimeZone(identifier: "GMT")
        formatter.dateFormat = "MMM d HH:mm:ss yyyy 'GMT'"
        return formatter.date(from: text.split(separator: " ", omittingEmptySubsequences: true).joined(separator: " "))
    }

    /// "Fri, 27 Nov 2026 02:30:00 GMT" (RFC 9110).
    static func httpDate(_ text: String) -> Date? {
        let formatter = DateFormatter()
        formatter.locale = Locale(identifier: "en_US_POSIX")
        formatter.timeZone = TimeZone(identifier: "GMT")
        formatter.dateFormat = "EEE, dd MMM yyyy HH:mm:ss 'GMT'"
        return formatter.date(from: text)
    }
}
