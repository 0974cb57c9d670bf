import FieldWire
import Foundation
import Hummingbird
import Logging
import NIOCore

/// The reference central's uplink endpoint (docs/sync-protocol.md, "Uplink"): plain HTTP on a
/// Unix socket behind nginx, which terminates TLS, verifies the device certificate and passes
/// `X-Client-Verify` and `X-Client-DN`. The unit is the certificate's CN without its
/// `unit-` prefix; a batch for another unit is refused. It trusts those headers, so it
/// listens where only nginx can reach it: a socket file whose mode and group admit nginx's
/// workers and nobody else (no TCP port another local user could reach).
public struct UplinkServer: Sendable {
    public let database: UplinkDatabase
    /// Emergencies are announced here at once (critical), with the nearest other units.
    let logger: Logger
    /// The long polls waiting now, woken by what the database says changed.
    public let waiters = PollWaiters()
    private let waker: PollWaker
    /// Largest accepted request body, compressed and inflated.
    static let maxCompressedBytes = 8 << 20
    static let maxInflatedBytes = 64 << 20
    static let maxWait = 60

    public init(database: UplinkDatabase, logger: Logger = Logger(label: "mpolice-central")) {
        self.database = database
        self.logger = logger
        waker = PollWaker(database: database, waiters: waiters, logger: logger)
    }

    public func router() -> Router<BasicRequestContext> {
        let router = Router(context: BasicRequestContext.self)
        let database = database
        let logger = logger
        let (waiters, waker) = (waiters, waker)
        router.post("uplink/items") { request, _ in
            let unit = try Self.unit(request)
            var request = request
            let compressed: ByteBuffer
            do {
                compressed = try await request.collectBody(upTo: Self.maxCompressedBytes)
            } catch {
                // Past the limit (Hummingbird's own 413 says no more), or the body ended early.
                throw HTTPError(.contentTooLarge, message: "batch.too-large: at most \(Self.maxCompressedBytes) bytes per request")
            }
            var data = Data(buffer: compressed)
            if request.headers[.contentEncoding]?.lowercased() == "gzip" {
                do {
                    data = try Gzip.decompress(data, maxBytes: Self.maxInflatedBytes)
                } catch {
                    throw HTTPError(.unprocessableContent, message: "batch.bad-gzip: the body is not valid gzip within \(Self.maxInflatedBytes) bytes")
                }
            }
            let batch = try Self.parseBatch(data)
            guard batch.unit == unit else {
                throw HTTPError(.forbidden, message: "batch.wrong-unit: the batch is for unit \(batch.unit); the certificate is unit \(unit)")
            }
            let stored = try await Self.offload {
                try database.ingest(unit: unit, batch.items, chainHead: batch.chainHead, now: Int64(Date().timeIntervalSince1970 * 1000))
            }
            for emergency in stored.emergencies { Self.announce(emergency, logger) }
            return Self.json(UplinkAnswer(results: stored.results))
        }
        router.get("uplink/dispatches") { request, _ in
            let unit = try Self.unit(request)
            let query = request.uri.queryParameters
            let cursors = UplinkDatabase.PollCursors(
                dispatches: query.get("after", as: Int64.self) ?? 0,
                orders: query.get("orders_after", as: Int64.self) ?? 0,
                // Terminals that predate bulletins or confirmations do not ask for them.
                bulletins: query.get("bulletins_after", as: Int64.self),
                region: query.get("region").flatMap { $0.removingPercentEncoding }.flatMap { $0.isEmpty ? nil : $0 },
                confirmations: query.get("confirmations_after", as: Int64.self))
            let wait = min(Self.maxWait, max(0, query.get("wait", as: Int.self) ?? 0))
            let deadline = ContinuousClock.now + .seconds(wait)
            while true {
                // The mark before the query: a change between the query and the wait wakes it.
                let mark = waiters.mark(unit)
                let poll = try await Self.offload { try database.poll(unit: unit, cursors, now: Int64(Date().timeIntervalSince1970)) }
                if poll.hasNews || ContinuousClock.now >= deadline { return Self.json(poll) }
                // Dispatches, orders and bulletins are created by other processes (`mpolice-central
                // dispatch create`, `order`, `bulletin create`): their transactions say so
                // (NOTIFY on PostgreSQL, poll_change on SQLite) and the waker wakes this poll.
                waker.start()
                await waiters.wait(unit, since: mark, until: deadline)
                try Task.checkCancellation()
            }
        }
        return router
    }

    /// Runs blocking database work off the concurrency pool's few threads (libpq and SQLite
    /// block their caller), on a queue that grows threads while they wait.
    static func offload<T: Sendable>(_ body: @escaping @Sendable () throws -> T) async throws -> T {
        try await withCheckedThrowingContinuation { continuation in
            databaseQueue.async { continuation.resume(with: Result { try body() }) }
        }
    }

    private static let databaseQueue = DispatchQueue(label: "mpolice-central.database", attributes: .concurrent)

    /// The log line an emergency raises (no names or IDs of the public: unit, officer, place).
    static func announce(_ e: UplinkDatabase.RaisedEmergency, _ logger: Logger) {
        let place = e.location.latitude.flatMap { lat in e.location.longitude.map { "\(lat),\($0)" } } ?? "position \(e.location.status)"
        let nearest = e.nearestUnits.isEmpty ? "no other unit with a recent position"
            : e.nearestUnits.map { "\($0.unit) \(Int($0.distanceMeters)) m\($0.available ? "" : " (busy)")" }.joined(separator: ", ")
        logger.critical("EMERGENCY: officer needs help, unit \(e.unit) officer \(e.officerId.isEmpty ? "-" : e.officerId) at \(place); nearest units: \(nearest)",
                        metadata: ["emergency": "\(e.emergencyId)"])
    }

    /// Serves on the Unix socket at `socket` until cancelled; the socket file gets `mode`
    /// and, when given, `group` (nginx's workers' group) before anything is served, and
    /// `onServing` runs once it has them.
    /// - Throws: `SocketSetupError` when the socket cannot be given its group or mode:
    ///   nginx could not reach it, and the center must not look as if it were serving.
    /// - Parameter retentionMonths: uplink items and deliveries older than this many months
    ///   are removed once a day (nil: kept).
    public func run(socket: String, mode: mode_t, group: gid_t?, retentionMonths: Int? = nil, logger: Logger,
                    onServing: @escaping @Sendable () -> Void = {}) async throws {
        unlink(socket)
        let previous = umask(0o177)
        let (setup, report) = AsyncStream.makeStream(of: SocketSetupError?.self)
        let app = Application(
            router: router(), configuration: .init(address: .unixDomainSocket(path: socket), serverName: nil),
            onServerRunning: { _ in
                umask(previous)
                if let group, chown(socket, uid_t.max, group) != 0 {
                    report.yield(SocketSetupError("cannot give \(socket) to group \(group): \(String(cString: strerror(errno)))"))
                } else if chmod(socket, mode) != 0 {
                    report.yield(SocketSetupError("cannot set mode \(String(mode, radix: 8)) on \(socket): \(String(cString: strerror(errno)))"))
                } else {
                    report.yield(nil)
                }
                report.finish()
            },
            logger: logger)
        defer { waker.stop() }
        try await withThrowingTaskGroup(of: Bool.self) { tasks in
            tasks.addTask {
                try await app.runService()
                return true
            }
            tasks.addTask {
                await self.maintain(retentionMonths: retentionMonths, logger: logger)
                return false
            }
            tasks.addTask {
                for await failure in setup {
                    if let failure { throw failure }
                    onServing()
                }
                return false
            }
            // A setup failure thrown here cancels the server; the server's end (a graceful
            // shutdown on SIGTERM or SIGINT) ends the upkeep.
            for try await serverEnded in tasks where serverEnded {
                tasks.cancelAll()
            }
        }
    }

    /// The month partitions ahead and the retention, at start and then daily.
    private func maintain(retentionMonths: Int?, logger: Logger) async {
        while !Task.isCancelled {
            do {
                let done = try await Self.offload {
                    try database.maintainPartitions(now: Int64(Date().timeIntervalSince1970), retentionMonths: retentionMonths)
                }
                if !done.created.isEmpty || !done.dropped.isEmpty {
                    logger.notice("uplink partitions: created \(done.created.joined(separator: ", ")); dropped \(done.dropped.joined(separator: ", "))")
                }
            } catch {
                logger.error("uplink partition upkeep failed: \(error)")
            }
            try? await Task.sleep(for: .seconds(86_400))
        }
    }

    /// Why the center's socket could not be set up.
    public struct SocketSetupError: Error, CustomStringConvertible, Sendable {
        public let description: String
        init(_ description: String) { self.description = description }
    }

    static func unit(_ request: Request) throws -> String {
        func header(_ name: String) -> String? { request.headers.first { $0.name.canonicalName == name }?.value }
        guard header("x-client-verify") == "SUCCESS", let dn = header("x-client-dn") else {
            throw HTTPError(.forbidden, message: "certificate.unverified: no verified device certificate (X-Client-Verify/X-Client-DN from nginx)")
        }
        guard let name = DistinguishedName(dn) else { throw HTTPError(.forbidden, message: "certificate.bad-subject: the device certificate's subject cannot be read") }
        let names = name.values("CN")
        guard names.count == 1, let cn = names.first, cn.hasPrefix("unit-"), cn.count > 5,
              cn.dropFirst(5).allSatisfy({ $0.isASCII && ($0.isLetter || $0.isNumber || $0 == "-" || $0 == "_" || $0 == ".") }) else {
            throw HTTPError(.forbidden, message: "certificate.not-a-unit: the device certificate must have one CN, unit-<unit id>")
        }
        return String(cn.dropFirst(5))
    }

    /// The batch, each item parsed or refused on its own.
    static func parseBatch(_ data: Data) throws -> ReceivedBatch {
        let batch: ReceivedBatch
        do {
            batch = try WireJSON.decode(ReceivedBatch.self, from: data)
        } catch {
            throw HTTPError(.unprocessableContent, message: "batch.bad-format: the body must be {\"unit\": string, \"items\": [...]}")
        }
        guard batch.items.count <= 10_000 else { throw HTTPError(.contentTooLarge, message: "batch.too-many-items: at most 10000 items per batch") }
        return batch
    }

    static func json<T: Encodable>(_ value: T) -> Response {
        let data = (try? WireJSON.encode(value)) ?? Data("{}".utf8)
        return Response(status: .ok, headers: [.contentType: "application/json"], body: ResponseBody(byteBuffer: ByteBuffer(bytes: data)))
    }
}
