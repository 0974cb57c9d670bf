import Central
import FieldWire
import Foundation
import Watchlist
import LocalAPIClient
import TestSupport

/// The daemon figures: exec to READY=1 with the 1M-record lists, plate checks over the Unix
/// socket (one client: latency; eight: throughput), beside the in-process check with the
/// same durable journal write measured earlier in the run, and the daemon's resident set
/// after those checks.
struct APIBench {
    let work: URL
    let stateDirectory: URL
    let plates: [String]
    /// `check_plate_p50_us` from this run: the same check without the socket.
    let inProcessP50: Double

    func run(into results: inout Results) throws {
        let daemon = try BenchDaemon(work: work, state: stateDirectory)
        defer { daemon.stop() }
        // The notify reader polls every 20 ms at most; the figure is exec → READY seen.
        results.add("daemon_ready_ms", daemon.readyMilliseconds)

        let socket = daemon.socket
        let client = APIClient(socketPath: socket)
        // Sign-in: the roster's scrypt verifier at the standard cost, through the socket.
        let signIns = try Measure.latencies(count: 20) { _ in try daemon.signIn(client) }
        let cost = PINVerifier.Cost.standard
        print("  (sign-in: scrypt N = 2^\(cost.logN), r = \(cost.r), p = \(cost.p): \(((128 * cost.r) << cost.logN) >> 20) MiB per derivation)")
        results.add("signin_p50_ms", Measure.percentile(signIns, 50) / 1000)
        results.add("signin_p99_ms", Measure.percentile(signIns, 99) / 1000)
        let bodies = plates.map { Data(#"{"plate":"\#($0)"}"#.utf8) }
        for body in bodies.prefix(200) { _ = try client.request("POST", "/v1/checks/plate", json: body) }
        let latencies = try Measure.latencies(count: bodies.count) { i in
            guard try client.request("POST", "/v1/checks/plate", json: bodies[i]).status == 200 else { throw BenchError("check refused") }
        }
        let p50 = Measure.percentile(latencies, 50)
        results.add("api_check_p50_us", p50, reference: ("check_plate_p50_us", inProcessP50))
        results.add("api_check_p99_us", Measure.percentile(latencies, 99))

        // Eight clients at once.
        let perClient = max(100, bodies.count / 4)
        let failures = Failures()
        let group = DispatchGroup()
        let began = Measure.nowNanoseconds()
        for c in 0..<8 {
            DispatchQueue.global().async(group: group) {
                let client = APIClient(socketPath: socket)
                for i in 0..<perClient where (try? client.request("POST", "/v1/checks/plate", json: bodies[(c * perClient + i) % bodies.count]))?.status != 200 {
                    failures.add()
                }
            }
        }
        group.wait()
        let seconds = Double(Measure.nowNanoseconds() - began) / 1e9
        guard failures.count == 0 else { throw BenchError("\(failures.count) checks failed under load") }
        results.add("api_checks_per_s", Double(8 * perClient) / seconds)
        // The daemon's own resident set, after every check above went through it.
        results.add("rss_mb_after_checks", try Measure.residentMegabytes(of: daemon.processIdentifier))
    }
}

private final class Failures: @unchecked Sendable {
    private let lock = NSLock()
    private var n = 0
    func add() { lock.withLock { n += 1 } }
    var count: Int { lock.withLock { n } }
}
