import FieldWire
import Foundation
import Watchlist

/// Monotonic time and summary statistics for the benchmark.
enum Measure {
    static func nowNanoseconds() -> UInt64 {
        var ts = timespec()
        clock_gettime(CLOCK_MONOTONIC, &ts)
        return UInt64(ts.tv_sec) * 1_000_000_000 + UInt64(ts.tv_nsec)
    }

    /// Runs `body` and returns its result with the elapsed seconds.
    static func seconds<T>(_ body: () throws -> T) rethrows -> (T, Double) {
        let start = nowNanoseconds()
        let result = try body()
        return (result, Double(nowNanoseconds() - start) / 1e9)
    }

    /// Per-call latencies in microseconds.
    static func latencies(count: Int, _ body: (Int) throws -> Void) rethrows -> [Double] {
        var samples = [Double]()
        samples.reserveCapacity(count)
        for i in 0..<count {
            let start = nowNanoseconds()
            try body(i)
            samples.append(Double(nowNanoseconds() - start) / 1_000)
        }
        return samples
    }

    static func percentile(_ samples: [Double], _ p: Double) -> Double {
        let sorted = samples.sorted()
        guard !sorted.isEmpty else { return .nan }
        let index = min(sorted.count - 1, Int((p / 100 * Double(sorted.count)).rounded(.up)) - 1)
        return sorted[max(0, index)]
    }

    /// Resident set size of this process, from /proc/self/status.
    /// The resident set of process `pid` (VmRSS), in MB.
    static func residentMegabytes(of pid: Int32) throws -> Double {
        guard let status = try? String(contentsOfFile: "/proc/\(pid)/status", encoding: .utf8),
              let line = status.split(separator: "\n").first(where: { $0.hasPrefix("VmRSS:") }),
              let kb = Double(line.split(separator: " ", omittingEmptySubsequences: true)[1]) else {
            throw BenchError("no VmRSS in /proc/\(pid)/status")
        }
        return kb / 1024
    }
}
