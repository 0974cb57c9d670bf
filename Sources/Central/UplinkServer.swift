import FieldSync
import Foundation
import Hummingbird
import Logging
import NIOCore
import Store

/// The reference central's uplink endpoint (docs/sync-protocol.md, "Uplink"): plain HTTP on
/// loopback behind nginx, which terminates TLS, verifies the device certificate and passes
/// `X-Client-Verify` and `X-Client-DN`. The unit is the certificate's CN without its
/// `unit-` prefix; a batch for another unit is refused. Trusts those headers, so it must
/// listen only where nginx alone can reach it.
public struct UplinkServer: Sendable {
    public let database: UplinkDatabase
    /// Largest accepted request body, compressed and inflated.
    static let maxCompressedBytes = 8 << 20
    static let maxInflatedBytes = 64 << 20
    static let maxWait = 60

    public init(database: UplinkDatabase) {
        self.database = database
    }

    public func router() -> Router<BasicRequestContext> {
        let router = Router(context: BasicRequestContext.self)
        let database = database
        router.post("uplink/items") { request, _ in
            let unit = try Self.unit(request)
            var request = request
            let compressed = try await request.collectBody(upTo: Self.maxCompressedBytes)
            var data = Data(buffer: compressed)
            if request.headers[.contentEncoding]?.lowercased() == "gzip" {
                do {
                    data = try Gzip.decompress(data, maxBytes: Self.maxInflatedBytes)
                } catch {
                    throw HTTPError(.unprocessableContent, message: "the body is not valid gzip within \(Self.maxInflatedBytes) bytes")
                }
            }
            let (batchUnit, items) = try Self.parseBatch(data)
            guard batchUnit == unit else {
                throw HTTPError(.forbidden, message: "the batch is for unit \(batchUnit); the certificate is unit \(unit)")
            }
            let results = try database.ingest(unit: unit, items, now: Int64(Date().timeIntervalSince1970 * 1000))
            return Self.json(Uplink.BatchResponse(results: results))
        }
        router.get("uplink/dispatches") { request, _ in
            let unit = try Self.unit(request)
            let after = request.uri.queryParameters.get("after", as: Int64.self) ?? 0
            let wait = min(Self.maxWait, max(0, request.uri.queryParameters.get("wait", as: Int.self) ?? 0))
            let deadline = ContinuousClock.now + .seconds(wait)
            while true {
                let orders = try database.dispatches(unit: unit, after: after)
                if !orders.isEmpty || ContinuousClock.now >= deadline {
                    return Self.json(Uplink.DispatchPoll(cursor: orders.last?.cursor ?? after, dispatches: orders))
                }
                // Dispatches are created by another process (`mpolice-central dispatch create`): look again shortly.
                try await Task.sleep(for: .milliseconds(100))
            }
        }
        return router
    }

    /// Serves on 127.0.0.1:`port` until cancelled.
    public func run(port: Int, logger: Logger) async throws {
        let app = Application(router: router(), configuration: .init(address: .hostname("127.0.0.1", port: port), serverName: nil),
                              logger: logger)
        try await app.runService()
    }

    static func unit(_ request: Request) throws -> String {
        func header(_ name: String) -> String? { request.headers.first { $0.name.canonicalName == name }?.value }
        guard header("x-client-verify") == "SUCCESS", let dn = header("x-client-dn") else {
            throw HTTPError(.forbidden, message: "no verified device certificate (X-Client-Verify/X-Client-DN from nginx)")
        }
        // RFC 2253 ("CN=unit-X,O=…") or the older "/O=…/CN=unit-X".
        let parts = dn.split(whereSeparator: { $0 == "," || $0 == "/" })
        guard let cn = parts.first(where: { $0.hasPrefix("CN=") }).map({ String($0.dropFirst(3)) }), cn.hasPrefix("unit-"),
              cn.count > 5 else {
            throw HTTPError(.forbidden, message: "the device certificate's CN is not unit-<unit id>")
        }
        return String(cn.dropFirst(5))
    }

    /// Lower-case 8-4-4-4-12 hex with version 7.
    static func isUUIDv7(_ s: String) -> Bool {
        let u = Array(s.utf8)
        guard u.count == 36 else { return false }
        for (i, c) in u.enumerated() {
            if [8, 13, 18, 23].contains(i) {
                guard c == UInt8(ascii: "-") else { return false }
            } else if !((c >= 0x30 && c <= 0x39) || (c >= 0x61 && c <= 0x66)) {
                return false
            }
        }
        return u[14] == UInt8(ascii: "7")
    }

    /// The batch's unit and its items, each parsed or refused on its own.
    static func parseBatch(_ data: Data) throws -> (String, [Result<UplinkDatabase.Item, ItemRefusal>]) {
        guard let object = try? JSONSerialization.jsonObject(with: data) as? [String: Any],
              let unit = object["unit"] as? String, let items = object["items"] as? [Any] else {
            throw HTTPError(.unprocessableContent, message: "the body must be {\"unit\": string, \"items\": [...]}")
        }
        guard items.count <= 10_000 else { throw HTTPError(.contentTooLarge, message: "at most 10000 items per batch") }
        // JSONSerialization has validated the whole body; the payloads are stored as sent.
        guard let payloadTexts = RawJSONPayloads.payloads(Array(data)), payloadTexts.count == items.count else {
            throw HTTPError(.unprocessableContent, message: "the items array could not be read")
        }
        return (unit, zip(items, payloadTexts).map { raw, payloadText in
            guard let item = raw as? [String: Any], let id = item["id"] as? String else {
                return .failure(ItemRefusal(id: "", reason: "item.bad-format: not an object with an id"))
            }
            guard isUUIDv7(id) else { return .failure(ItemRefusal(id: id, reason: "item.bad-id: not a UUIDv7")) }
            guard let kind = item["kind"] as? String, let known = OutboxKind(rawValue: kind) else {
                return .failure(ItemRefusal(id: id, reason: "item.bad-kind: \(item["kind"] ?? "none")"))
            }
            guard let createdAt = (item["createdAt"] as? NSNumber)?.int64Value, let payload = item["payload"] as? [String: Any] else {
                return .failure(ItemRefusal(id: id, reason: "item.bad-format: createdAt and payload object required"))
            }
            if known == .check, payload["checkId"] as? String != id {
                return .failure(ItemRefusal(id: id, reason: "check.id-mismatch: the payload's checkId is not the item id"))
            }
            guard let text = payloadText else { return .failure(ItemRefusal(id: id, reason: "item.bad-format: no payload")) }
            return .success(.init(id: id, kind: kind, createdAt: createdAt, payload: text, fields: payload))
        })
    }

    static func json<T: Encodable>(_ value: T) -> Response {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys]
        let data = (try? encoder.encode(value)) ?? Data("{}".utf8)
        return Response(status: .ok, headers: [.contentType: "application/json"], body: ResponseBody(byteBuffer: ByteBuffer(bytes: data)))
    }
}
