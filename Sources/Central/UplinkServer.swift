import FieldWire
import Foundation
import Hummingbird
import Logging
import NIOCore

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
            let batch = try Self.parseBatch(data)
            guard batch.unit == unit else {
                throw HTTPError(.forbidden, message: "the batch is for unit \(batch.unit); the certificate is unit \(unit)")
            }
            let results = try database.ingest(unit: unit, batch.items, now: Int64(Date().timeIntervalSince1970 * 1000))
            return Self.json(UplinkAnswer(results: results))
        }
        router.get("uplink/dispatches") { request, _ in
            let unit = try Self.unit(request)
            let after = request.uri.queryParameters.get("after", as: Int64.self) ?? 0
            let wait = min(Self.maxWait, max(0, request.uri.queryParameters.get("wait", as: Int.self) ?? 0))
            let deadline = ContinuousClock.now + .seconds(wait)
            while true {
                let orders = try database.dispatches(unit: unit, after: after)
                if !orders.isEmpty || ContinuousClock.now >= deadline {
                    return Self.json(DispatchPoll(cursor: orders.last?.cursor ?? after, dispatches: orders))
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

    /// The batch, each item parsed or refused on its own.
    static func parseBatch(_ data: Data) throws -> ReceivedBatch {
        let batch: ReceivedBatch
        do {
            batch = try WireJSON.decode(ReceivedBatch.self, from: data)
        } catch {
            throw HTTPError(.unprocessableContent, message: "the body must be {\"unit\": string, \"items\": [...]}")
        }
        guard batch.items.count <= 10_000 else { throw HTTPError(.contentTooLarge, message: "at most 10000 items per batch") }
        return batch
    }

    static func json<T: Encodable>(_ value: T) -> Response {
        let data = (try? WireJSON.encode(value)) ?? Data("{}".utf8)
        return Response(status: .ok, headers: [.contentType: "application/json"], body: ResponseBody(byteBuffer: ByteBuffer(bytes: data)))
    }
}
