import Foundation

/// One outbox item on the wire: its idempotency id, kind (from the payload), when it was
/// queued, which delivery this is, and the payload.
public struct UplinkItem: Sendable, Equatable, Codable {
    /// UUIDv7; the center keeps one item per unit and id.
    public var id: String
    /// Unix milliseconds.
    public var createdAt: Int64
    /// 1 for the first delivery.
    public var attempt: Int
    public var payload: UplinkPayload

    public var kind: OutboxKind { payload.kind }

    public init(id: String, createdAt: Int64, attempt: Int, payload: UplinkPayload) {
        (self.id, self.createdAt, self.attempt, self.payload) = (id, createdAt, attempt, payload)
    }

    enum CodingKeys: String, CodingKey { case attempt, createdAt, id, kind, payload }

    public init(from decoder: any Decoder) throws {
        let c = try decoder.container(keyedBy: CodingKeys.self)
        id = try c.decode(String.self, forKey: .id)
        createdAt = try c.decode(Int64.self, forKey: .createdAt)
        attempt = try c.decode(Int.self, forKey: .attempt)
        payload = try UplinkPayload(kind: c.decode(OutboxKind.self, forKey: .kind), from: c)
    }

    public func encode(to encoder: any Encoder) throws {
        var c = encoder.container(keyedBy: CodingKeys.self)
        try c.encode(attempt, forKey: .attempt)
        try c.encode(createdAt, forKey: .createdAt)
        try c.encode(id, forKey: .id)
        try c.encode(kind, forKey: .kind)
        try payload.encode(to: &c)
    }
}

/// `POST /uplink/items`: a unit's batch of outbox items.
public struct UplinkBatch: Sendable, Equatable, Codable {
    /// The terminal's newest chained record when the batch was made (nil before the first).
    public var chainHead: ChainHead?
    public var unit: String
    public var items: [UplinkItem]

    public init(unit: String, items: [UplinkItem], chainHead: ChainHead? = nil) {
        self.unit = unit
        self.items = items
        self.chainHead = chainHead
    }

    /// An item as the outbox holds it: the payload already in its wire JSON.
    public struct StoredItem: Sendable {
        public var id: String
        public var kind: OutboxKind
        public var createdAt: Int64
        public var attempt: Int
        /// `UplinkPayload.json` of the item's payload.
        public var payloadJSON: String

        public init(id: String, kind: OutboxKind, createdAt: Int64, attempt: Int, payloadJSON: String) {
            (self.id, self.kind, self.createdAt, self.attempt, self.payloadJSON) = (id, kind, createdAt, attempt, payloadJSON)
        }
    }

    /// The batch's wire JSON assembled from stored payloads without decoding them again:
    /// the same bytes `WireJSON.encode(UplinkBatch(…))` gives for the decoded items (a test
    /// holds the two equal); decoding and re-encoding 500 payloads per batch is what this saves.
    public static func json(unit: String, items: [StoredItem], chainHead: ChainHead? = nil) -> Data {
        var out = "{"
        if let chainHead { out += "\"chainHead\":\(WireJSON.text(chainHead))," }
        out += "\"items\":["
        for (i, item) in items.enumerated() {
            if i > 0 { out += "," }
            out += "{\"attempt\":\(item.attempt),\"createdAt\":\(item.createdAt),\"id\":\(WireJSON.text(item.id)),"
            out += "\"kind\":\(WireJSON.text(item.kind)),\"payload\":\(item.payloadJSON)}"
        }
        out += "],\"unit\":\(WireJSON.text(unit))}"
        return Data(out.utf8)
    }
}

/// A batch as the center reads it: each item decoded on its own, so one malformed item is
/// refused without refusing the others.
public struct ReceivedBatch: Sendable, Decodable {
    public var unit: String
    public var items: [Result<UplinkItem, ItemRefusal>]
    public var chainHead: ChainHead?

    enum CodingKeys: String, CodingKey { case unit, items, chainHead }

    public init(from decoder: any Decoder) throws {
        let c = try decoder.container(keyedBy: CodingKeys.self)
        unit = try c.decode(String.self, forKey: .unit)
        chainHead = try c.decodeIfPresent(ChainHead.self, forKey: .chainHead)
        items = try c.decode([Lenient].self, forKey: .items).map(\.result)
    }

    private struct Lenient: Decodable {
        var result: Result<UplinkItem, ItemRefusal>

        private enum Keys: String, CodingKey { case id, kind }

        init(from decoder: any Decoder) throws {
            let id = (try? decoder.container(keyedBy: Keys.self).decode(String.self, forKey: .id)) ?? ""
            guard !id.isEmpty else {
                result = .failure(ItemRefusal(id: "", reason: "item.bad-format: not an object with an id"))
                return
            }
            guard UUIDv7.isValid(id) else {
                result = .failure(ItemRefusal(id: id, reason: "item.bad-id: not a UUIDv7"))
                return
            }
            if let kind = try? decoder.container(keyedBy: Keys.self).decode(String.self, forKey: .kind), OutboxKind(rawValue: kind) == nil {
                result = .failure(ItemRefusal(id: id, reason: "item.bad-kind: \(kind)"))
                return
            }
            do {
                let item = try UplinkItem(from: decoder)
                if case .check(let check) = item.payload, check.checkId != id {
                    result = .failure(ItemRefusal(id: id, reason: "check.id-mismatch: the payload's checkId is not the item id"))
                } else {
                    result = .success(item)
                }
            } catch {
                result = .failure(ItemRefusal(id: id, reason: "item.bad-format: \(ItemRefusal.describe(error))"))
            }
        }
    }
}

/// An item the center refused at parse time, with its reason.
public struct ItemRefusal: Error, Sendable, Equatable {
    public var id: String
    public var reason: String

    public init(id: String, reason: String) {
        self.id = id
        self.reason = reason
    }

    /// A decoding error in a few words: which field, what was wrong.
    static func describe(_ error: any Error) -> String {
        guard let error = error as? DecodingError else { return "\(error)" }
        func path(_ context: DecodingError.Context) -> String { context.codingPath.map(\.stringValue).joined(separator: ".") }
        switch error {
        case .keyNotFound(let key, let context): return "missing \((context.codingPath.map(\.stringValue) + [key.stringValue]).joined(separator: "."))"
        case .typeMismatch(_, let context), .valueNotFound(_, let context): return "wrong type at \(path(context))"
        case .dataCorrupted(let context): return "bad value at \(path(context))"
        @unknown default: return "malformed"
        }
    }
}

/// The center's answer to a batch: one result per item it looked at.
public struct UplinkAnswer: Sendable, Equatable, Codable {
    public struct Result: Sendable, Equatable, Codable {
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
            (self.id, self.status, self.reason) = (id, status, reason)
        }
    }

    public var results: [Result]

    public init(results: [Result]) { self.results = results }
}
