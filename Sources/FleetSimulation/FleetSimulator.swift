import FieldWire
import Foundation
import Watchlist

/// Simulated terminals against a real center behind nginx (docs/fleet.md): each with its own
/// device certificate, a dispatch long poll always held, a breadcrumb every 30 s and checks
/// at a patrol's rate, each uploaded at once through an outbox that keeps every item until
/// the center acknowledges it (retrying with backoff), and the manifest fetched on a jittered
/// schedule with its ETag. Runs on one thread (`CurlMulti`).
public final class FleetSimulator {
    public struct Configuration: Sendable {
        /// `https://127.0.0.1:PORT/`: the manifest at the root, the uplink under `uplink/`.
        public var baseURL: String
        public var caFile: String
        /// `UNIT.crt` per unit (CN `unit-UNIT`), all for the one key in `keyFile`.
        public var certificateDirectory: String
        public var keyFile: String
        public var units: [String]
        /// Seconds of traffic; then the outboxes drain (at most `drainSeconds`).
        public var seconds: Double
        public var drainSeconds: Double = 120
        /// Terminals start spread over this many seconds (a shift does not begin at one instant).
        public var rampSeconds: Double = 20
        public var breadcrumbInterval: Double = 30
        /// Mean seconds between one terminal's checks (exponentially distributed).
        public var checkInterval: Double = 300
        /// Mean seconds between manifest fetches (±50 % jitter).
        public var manifestInterval: Double = 300
        public var pollWait: Int = 60
        public var batchItems: Int = 100
        public var seed: UInt64 = 2027

        public init(baseURL: String, caFile: String, certificateDirectory: String, keyFile: String, units: [String], seconds: Double) {
            (self.baseURL, self.caFile, self.certificateDirectory, self.keyFile, self.units, self.seconds) =
                (baseURL, caFile, certificateDirectory, keyFile, units, seconds)
        }
    }

    /// What a run saw, client side.
    public struct Report: Codable, Sendable {
        public var terminals: Int
        public var seconds: Double
        public var itemsGenerated: Int
        public var itemsAcknowledged: Int
        /// Items still unacknowledged when the drain ended: lost unless the center has them.
        public var itemsPending: Int
        /// Answers `duplicate` (a resend of an item the center had taken).
        public var duplicates: Int
        public var rejected: Int
        public var uploads: Int
        public var uploadFailures: Int
        public var uploadP50Ms: Double
        public var uploadP99Ms: Double
        public var uploadMaxMs: Double
        /// Acknowledged items per second of traffic.
        public var itemsPerSecond: Double
        /// Long polls in flight, sampled each second after the ramp: the lowest and the median.
        public var longPollsHeldMin: Int
        public var longPollsHeldMedian: Int
        /// Those samples: the first at `rampSeconds + 5`, then one a second.
        public var longPollsHeld: [Int]
        public var pollFailures: Int
        public var dispatchesReceived: Int
        public var manifestFetches: Int
        public var manifestNotModified: Int
    }

    /// One upload as it went: when (seconds since the start), how long, whether acknowledged.
    public struct UploadSample: Sendable {
        public var at: Double
        public var milliseconds: Double
        public var ok: Bool
    }

    private final class Terminal {
        let unit: String
        var outbox: [UplinkItem] = []
        var sending = 0
        let connections = CurlMulti.ConnectionCache()
        let upload: CurlMulti.Transfer
        let poll: CurlMulti.Transfer
        let manifest: CurlMulti.Transfer
        var uploading = false, polling = false, fetching = false
        var nextBreadcrumb: Double, nextCheck: Double, nextManifest: Double
        var uploadAfter: Double = 0, pollAfter: Double = 0
        var uploadFailures = 0, pollFailures = 0
        var cursor: Int64 = 0
        var etag: String?
        var step = 0

        init(unit: String, configuration c: Configuration, start: Double, random: inout SeededGenerator) {
            self.unit = unit
            let certificate = "\(c.certificateDirectory)/\(unit).crt"
            upload = CurlMulti.Transfer(certificate: certificate, key: c.keyFile, caFile: c.caFile, connections: connections)
            poll = CurlMulti.Transfer(certificate: certificate, key: c.keyFile, caFile: c.caFile, connections: connections)
            manifest = CurlMulti.Transfer(certificate: certificate, key: c.keyFile, caFile: c.caFile, connections: connections)
            nextBreadcrumb = start
            nextCheck = start + random.exponential(mean: c.checkInterval)
            nextManifest = start
        }
    }

    public let configuration: Configuration
    /// Every item generated, as `unit id` lines, for the count-and-compare at the center.
    public private(set) var generated: [(unit: String, id: String)] = []
    public private(set) var samples: [UploadSample] = []

    public init(_ configuration: Configuration) {
        self.configuration = configuration
    }

    /// Runs the fleet for `seconds`, then drains the outboxes; `progress` gets a line every 10 s.
    public func run(progress: ((String) -> Void)? = nil) -> Report {
        let c = configuration
        var random = SeededGenerator(seed: c.seed)
        let clock = ContinuousClock()
        let origin = clock.now
        let now: () -> Double = { let d = clock.now - origin; return Double(d.components.seconds) + Double(d.components.attoseconds) / 1e18 }
        let multi = CurlMulti(now: now)
        let terminals = c.units.enumerated().map { index, unit in
            Terminal(unit: unit, configuration: c, start: c.rampSeconds * Double(index) / Double(max(1, c.units.count)), random: &random)
        }
        var report = Report(terminals: terminals.count, seconds: c.seconds, itemsGenerated: 0, itemsAcknowledged: 0, itemsPending: 0,
                            duplicates: 0, rejected: 0, uploads: 0, uploadFailures: 0, uploadP50Ms: 0, uploadP99Ms: 0, uploadMaxMs: 0,
                            itemsPerSecond: 0, longPollsHeldMin: 0, longPollsHeldMedian: 0, longPollsHeld: [], pollFailures: 0, dispatchesReceived: 0,
                            manifestFetches: 0, manifestNotModified: 0)
        var held: [Int] = []
        var nextSample = c.rampSeconds + 5, nextProgress = 10.0
        var sequence: Int64 = 0

        var draining = false

        func item(_ t: Terminal, _ payload: UplinkPayload, at time: Double) -> UplinkItem {
            sequence += 1
            let ms = Int64(Date().timeIntervalSince1970 * 1000)
            // A check's item is known by its check id, as the terminal's outbox does it.
            var id = UUIDv7.make(milliseconds: ms)
            if case .check(let check) = payload { id = check.checkId }
            let item = UplinkItem(id: id, createdAt: ms, attempt: 1, payload: payload)
            generated.append((t.unit, item.id))
            report.itemsGenerated += 1
            return item
        }

        func startUpload(_ t: Terminal, _ time: Double) {
            let batch = Array(t.outbox.prefix(c.batchItems))
            guard let body = try? WireJSON.encode(UplinkBatch(unit: t.unit, items: batch)) else { return }
            t.uploading = true
            t.sending = batch.count
            t.upload.prepare(url: c.baseURL + "uplink/items", post: body, headers: ["Content-Type: application/json"], timeout: 30)
            report.uploads += 1
            multi.start(t.upload, at: time) { transfer, result in
                let finished = now()
                t.uploading = false
                let milliseconds = (finished - transfer.started) * 1000
                guard case .success(200) = result, let answer = try? WireJSON.decode(UplinkAnswer.self, from: transfer.body) else {
                    report.uploadFailures += 1
                    self.samples.append(UploadSample(at: transfer.started, milliseconds: milliseconds, ok: false))
                    t.uploadFailures += 1
                    t.uploadAfter = finished + Self.backoff(t.uploadFailures, &random)
                    return
                }
                self.samples.append(UploadSample(at: transfer.started, milliseconds: milliseconds, ok: true))
                t.uploadFailures = 0
                var done = Set<String>()
                for result in answer.results {
                    switch result.status {
                    case .accepted: report.itemsAcknowledged += 1
                    case .duplicate:
                        report.itemsAcknowledged += 1
                        report.duplicates += 1
                    case .rejected: report.rejected += 1
                    case .retry: continue
                    }
                    done.insert(result.id)
                }
                t.outbox.removeAll { done.contains($0.id) }
                // What came meanwhile goes at once, as the terminal's outbox does it.
                if !t.outbox.isEmpty { startUpload(t, finished) }
            }
        }

        func startPoll(_ t: Terminal, _ time: Double) {
            t.polling = true
            t.poll.prepare(url: c.baseURL + "uplink/dispatches?after=\(t.cursor)&wait=\(c.pollWait)", timeout: c.pollWait + 30)
            multi.start(t.poll, at: time) { transfer, result in
                t.polling = false
                guard case .success(200) = result, let poll = try? WireJSON.decode(DispatchPoll.self, from: transfer.body) else {
                    report.pollFailures += 1
                    t.pollFailures += 1
                    t.pollAfter = now() + Self.backoff(t.pollFailures, &random)
                    return
                }
                t.pollFailures = 0
                report.dispatchesReceived += poll.dispatches.count
                t.cursor = poll.cursor
                if !draining { startPoll(t, now()) }
            }
        }

        func startManifest(_ t: Terminal, _ time: Double) {
            t.fetching = true
            t.manifest.prepare(url: c.baseURL + Manifest.path, headers: t.etag.map { ["If-None-Match: \($0)"] } ?? [], timeout: 30)
            report.manifestFetches += 1
            multi.start(t.manifest, at: time) { transfer, result in
                t.fetching = false
                if case .success(let status) = result {
                    if status == 304 { report.manifestNotModified += 1 }
                    if status == 200 { t.etag = transfer.etag }
                }
            }
        }

        // Timers (breadcrumbs, checks, manifests, retries) are looked at every 50 ms, not on
        // every network event: 2,000 terminals' schedules scanned a thousand times a second
        // would cost the one thread more than the network does.
        var nextScan = 0.0
        while true {
            let time = now()
            if !draining, time >= c.seconds {
                draining = true
                progress?("traffic stopped after \(Int(time)) s; draining \(terminals.reduce(0) { $0 + $1.outbox.count }) queued items")
            }
            if draining, terminals.allSatisfy({ $0.outbox.isEmpty && !$0.uploading }) || time >= c.seconds + c.drainSeconds { break }
            if time >= nextScan {
                nextScan = time + 0.05
                for (index, t) in terminals.enumerated() {
                    let start = c.rampSeconds * Double(index) / Double(max(1, terminals.count))
                    guard time >= start else { continue }
                    if !draining {
                        if time >= t.nextBreadcrumb {
                            t.step += 1
                            t.outbox.append(item(t, .breadcrumb(BreadcrumbPayload(
                                fixTime: Timestamp.iso8601(milliseconds: Int64(Date().timeIntervalSince1970 * 1000)),
                                latitude: 25.03 + Double(index % 100) * 0.001 + Double(t.step % 60) * 0.0001,
                                longitude: 121.50 + Double(index / 100) * 0.001, speed: 8.3, track: 90, horizontalError: 6, mode: "3d")), at: time))
                            t.nextBreadcrumb += c.breadcrumbInterval
                        }
                        if time >= t.nextCheck {
                            t.outbox.append(item(t, .check(Self.check(t.unit, query: sequence)), at: time))
                            t.nextCheck = time + random.exponential(mean: c.checkInterval)
                        }
                        if !t.polling, time >= t.pollAfter { startPoll(t, time) }
                        if !t.fetching, time >= t.nextManifest {
                            startManifest(t, time)
                            t.nextManifest = time + c.manifestInterval * Double.random(in: 0.5...1.5, using: &random)
                        }
                    }
                    if !t.uploading, !t.outbox.isEmpty, time >= t.uploadAfter { startUpload(t, time) }
                }
            }
            if !draining, time >= nextSample {
                held.append(terminals.filter(\.polling).count)
                nextSample += 1
            }
            if time >= nextProgress {
                progress?("\(Int(time)) s: \(report.itemsAcknowledged)/\(report.itemsGenerated) items acknowledged, "
                          + "\(terminals.filter(\.polling).count) polls held, \(report.uploadFailures) failed uploads")
                nextProgress += 10
            }
            multi.step(timeout: Int32(max(1, min(50, (nextScan - now()) * 1000))))
        }
        let ok = samples.filter(\.ok).map(\.milliseconds).sorted()
        func percentile(_ p: Double) -> Double { ok.isEmpty ? 0 : ok[min(ok.count - 1, Int(Double(ok.count - 1) * p / 100))] }
        report.uploadP50Ms = percentile(50)
        report.uploadP99Ms = percentile(99)
        report.uploadMaxMs = ok.last ?? 0
        report.itemsPending = terminals.reduce(0) { $0 + $1.outbox.count }
        report.itemsPerSecond = Double(report.itemsAcknowledged) / max(1, c.seconds)
        let sortedHeld = held.sorted()
        report.longPollsHeldMin = sortedHeld.first ?? 0
        report.longPollsHeldMedian = sortedHeld.isEmpty ? 0 : sortedHeld[sortedHeld.count / 2]
        report.longPollsHeld = held
        return report
    }

    /// Seconds before a retry: 1, 2, 4 … 30, each ±25 %.
    static func backoff(_ failures: Int, _ random: inout SeededGenerator) -> Double {
        min(30, pow(2, Double(min(failures, 6) - 1))) * Double.random(in: 0.75...1.25, using: &random)
    }

    /// A plate check's record as a terminal uploads it (no hit; the query is not a real plate
    /// anyone holds).
    static func check(_ unit: String, query sequence: Int64) -> CheckRecordPayload {
        let ms = Int64(Date().timeIntervalSince1970 * 1000)
        let id = UUIDv7.make(milliseconds: ms)
        var payload = try! WireJSON.decode(CheckRecordPayload.self, from: Data("""
            {"checkId":"\(id)","checkedAt":"\(Timestamp.iso8601(milliseconds: ms))","officerId":"OF-\(unit)","unitId":"\(unit)",
             "kind":"plate","query":"SIM\(sequence % 10_000)","outcome":"no-hit","matches":[],"listVersions":{"stolen-vehicles":1},
             "location":{"status":"not-available"},"authentication":"pin"}
            """.utf8))
        payload.checkId = id
        return payload
    }
}

/// A small seeded generator (SplitMix64): the same seed, the same schedule.
struct SeededGenerator: RandomNumberGenerator {
    private var state: UInt64

    init(seed: UInt64) { state = seed }

    mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }

    mutating func exponential(mean: Double) -> Double {
        -mean * log(1 - Double.random(in: 0..<1, using: &self))
    }
}
