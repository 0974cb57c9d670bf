import Foundation
import Store
import Watchlist

/// The uplink (docs/sync-protocol.md, "Uplink"): the outbox's items to the center in
/// compressed batches, each item removed only when the center acknowledges its id; and the
/// unit's dispatches from the center by long poll, resumable by cursor. Both over the same
/// mutual-TLS transport as the list sync.
public final class Uplink: Sendable {
    public struct Configuration: Sendable {
        /// The center's uplink endpoint, e.g. `https://central.example/uplink/` (a trailing
        /// `/` is added).
        public var baseURL: String
        /// This terminal's unit; the center checks it against the device certificate.
        public var unit: String
        public var batchItems: Int
        /// Payload bytes per batch before compression (one larger item still goes alone).
        public var batchBytes: Int
        /// How long the center may hold a dispatch poll open, seconds.
        public var dispatchWait: Double

        public init(baseURL: String, unit: String, batchItems: Int = 500, batchBytes: Int = 512 * 1024, dispatchWait: Double = 25) {
            self.baseURL = baseURL.hasSuffix("/") ? baseURL : baseURL + "/"
            self.unit = unit
            self.batchItems = batchItems
            self.batchBytes = batchBytes
            self.dispatchWait = dispatchWait
        }
    }

    /// What one `flush` sent.
    public struct FlushReport: Sendable, Equatable {
        public var batches = 0
        public var acknowledged = 0
        public var rejected = 0
        /// Compressed request bytes.
        public var bytesSent = 0
    }

    /// The center's answer to a batch, per item.
    public struct BatchResponse: Codable, Sendable {
        public struct Result: Codable, Sendable {
            public enum Status: String, Codable, Sendable {
                /// Stored now.
                case accepted
                /// Already held (an earlier delivery whose answer was lost).
                case duplicate
                /// Refused for good; `reason` says why.
                case rejected
                /// Not stored this time; send again later.
                case retry
            }

            public var id: String
            public var status: Status
            public var reason: String?

            public init(id: String, status: Status, reason: String? = nil) {
                self.id = id
                self.status = status
                self.reason = reason
            }
        }

        public var results: [Result]

        public init(results: [Result]) { self.results = results }
    }

    /// The center's answer to a dispatch poll.
    public struct DispatchPoll: Codable, Sendable {
        /// Resume after this.
        public var cursor: Int64
        public var dispatches: [Dispatch.Order]

        public init(cursor: Int64, dispatches: [Dispatch.Order]) {
            self.cursor = cursor
            self.dispatches = dispatches
        }
    }

    static let maxResponseBytes: Int64 = 4 << 20

    public let configuration: Configuration
    private let transport: CurlTransport
    private let journal: JournalStore
    private let location: @Sendable () -> CheckLocation
    private let nowMilliseconds: @Sendable () -> Int64

    public init(_ configuration: Configuration, transport: CurlTransport, journal: JournalStore,
                location: @escaping @Sendable () -> CheckLocation = { .notAvailable },
                nowMilliseconds: @escaping @Sendable () -> Int64 = { Int64(Date().timeIntervalSince1970 * 1000) }) {
        self.configuration = configuration
        self.transport = transport
        self.journal = journal
        self.location = location
        self.nowMilliseconds = nowMilliseconds
    }

    // MARK: Upload

    /// Sends due items, batch after batch, until none is due. Blocking.
    /// - Throws: `SyncFailure` when a batch did not get a usable answer (its items stay, with
    ///   the attempt counted); `StoreError` for a local fault. Batches before it are settled.
    public func flush(abort: AbortFlag? = nil) throws -> FlushReport {
        var report = FlushReport()
        while true {
            let now = nowMilliseconds()
            let items = try journal.dueOutboxItems(now: now, maxItems: configuration.batchItems, maxBytes: configuration.batchBytes)
            if items.isEmpty { break }
            let body = Gzip.compress(Self.batchJSON(unit: configuration.unit, items))
            let answers: [String: OutboxSettlement]
            do {
                answers = try send(body, items: items, abort: abort)
            } catch let failure as SyncFailure {
                try journal.outboxAttemptFailed(items, error: failure.description)
                try? journal.recordUpload(UploadSummary(at: now, ok: false, acknowledged: report.acknowledged,
                                                        rejected: report.rejected, error: failure.description))
                throw failure
            }
            try journal.settleOutbox(items, answers: answers, now: now, retryAt: now + Self.itemRetryDelay(attempts: items.map(\.attempts).max() ?? 0))
            report.batches += 1
            report.bytesSent += body.count
            for answer in answers.values {
                switch answer {
                case .acknowledged: report.acknowledged += 1
                case .rejected: report.rejected += 1
                case .retry: break
                }
            }
            // Something left unanswered is held back by its own retry time; the loop ends when nothing is due.
        }
        if report.batches > 0 {
            try journal.recountOutbox()
            try? journal.recordUpload(UploadSummary(at: nowMilliseconds(), ok: true, acknowledged: report.acknowledged,
                                                    rejected: report.rejected, error: nil))
        }
        return report
    }

    /// An item the center left unanswered waits 5 s · 2^attempts, at most an hour.
    static func itemRetryDelay(attempts: Int) -> Int64 {
        min(3_600_000, 5_000 << Int64(min(attempts, 20)))
    }

    private func send(_ body: Data, items: [OutboxItem], abort: AbortFlag?) throws -> [String: OutboxSettlement] {
        let url = configuration.baseURL + "items"
        let response = try transport.post(url, body: body, headers: ["Content-Type: application/json", "Content-Encoding: gzip"],
                                          maxBytes: Self.maxResponseBytes, abort: abort)
        let decoded = try Self.decode(BatchResponse.self, response, url, "a batch response")
        var answers = Dictionary(uniqueKeysWithValues: items.map { ($0.id, OutboxSettlement.retry) })
        for result in decoded.results where answers[result.id] != nil {
            switch result.status {
            case .accepted, .duplicate: answers[result.id] = .acknowledged
            case .rejected: answers[result.id] = .rejected(result.reason ?? "rejected without a reason")
            case .retry: answers[result.id] = .retry
            }
        }
        return answers
    }

    /// `{"unit":…,"items":[{"id","kind","createdAt","attempt","payload"}]}`, the payloads
    /// inserted as the JSON they already are.
    static func batchJSON(unit: String, _ items: [OutboxItem]) -> Data {
        var out = "{\"unit\":\(JSONText.quote(unit)),\"items\":["
        for (i, item) in items.enumerated() {
            if i > 0 { out += "," }
            out += "{\"id\":\"\(item.id)\",\"kind\":\"\(item.kind.rawValue)\",\"createdAt\":\(item.createdAt),"
            out += "\"attempt\":\(item.attempts + 1),\"payload\":\(item.payload)}"
        }
        out += "]}"
        return Data(out.utf8)
    }

    /// A 200 answer's JSON body as `type`.
    static func decode<T: Decodable>(_ type: T.Type, _ response: CurlTransport.Response, _ url: String, _ what: String) throws -> T {
        try requireOK(response, url)
        do {
            return try JSONDecoder().decode(type, from: response.body)
        } catch {
            throw SyncFailure(.badFormat, "\(url): the answer is not \(what) (\(error))")
        }
    }

    static func requireOK(_ response: CurlTransport.Response, _ url: String) throws {
        switch response.status {
        case 200: return
        case 400, 495, 496:
            throw SyncFailure(.clientCertificateRefused, "\(url): the server refused the device certificate (HTTP \(response.status))")
        case 401, 403, 404, 405, 413, 415, 422:
            let detail = String(decoding: response.body.prefix(300), as: UTF8.self)
            throw SyncFailure(.refused, "\(url): HTTP \(response.status): \(detail)")
        default:
            throw SyncFailure(.network, "\(url): HTTP \(response.status)")
        }
    }

    // MARK: Dispatch

    /// One long poll: waits up to `dispatchWait` for dispatches after the stored cursor,
    /// stores them (each acknowledged `received` through the outbox) and returns the new ones.
    public func pollDispatches(abort: AbortFlag? = nil) throws -> [Dispatch] {
        let cursor = try journal.dispatchCursor()
        let wait = configuration.dispatchWait
        let url = configuration.baseURL + "dispatches?after=\(cursor)&wait=\(Int(wait))"
        let response = try transport.get(url, maxBytes: Self.maxResponseBytes, timeout: wait + transport.configuration.connectTimeout + 10,
                                         abort: abort)
        let poll = try Self.decode(DispatchPoll.self, response, url, "a dispatch poll")
        guard poll.cursor >= cursor else {
            throw SyncFailure(.badFormat, "\(url): the cursor went back from \(cursor) to \(poll.cursor)")
        }
        if poll.dispatches.isEmpty, poll.cursor == cursor { return [] }
        return try journal.storeDispatches(poll.dispatches, cursor: poll.cursor, location: location(), now: nowMilliseconds())
    }
}

