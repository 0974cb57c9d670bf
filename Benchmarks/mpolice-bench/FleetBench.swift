import Central
import FieldWire
import Foundation
import TestSupport
import Watchlist

/// The center at fleet scale (docs/fleet.md): `mpolice-central simulate` runs `terminals`
/// simulated terminals against the release `mpolice-central serve` on PostgreSQL behind nginx
/// with mutual TLS; PostgreSQL is restarted near the end. Figures: long polls held, ingest
/// items/s, upload acknowledgement p50/p99 in the steady part, center and PostgreSQL CPU and
/// memory, database bytes per day, items lost (generated against stored, counted and
/// compared); and the morning's downlink per terminal with and without catch-up deltas.
struct FleetBench {
    let work: URL
    let terminals: Int
    let seconds: Double
    /// The lists' size of the morning figures (the bench's `--records`).
    let records: Int
    /// Where the release `mpolice-central` is.
    let binDirectory: URL

    func run(into results: inout Results) throws {
        try simulate(into: &results)
        try morning(into: &results)
    }

    private func simulate(into results: inout Results) throws {
        print("  (fleet: \(terminals) device certificates, PostgreSQL, the center and nginx: not timed)")
        // What the simulator and the center wrote stays in the work directory for a look after the run.
        let files = work.appendingPathComponent("fleet")
        try FileManager.default.createDirectory(at: files, withIntermediateDirectories: true)
        let world = try FleetWorld(terminals: terminals, binDirectory: binDirectory, label: "bench-fleet")
        defer {
            try? FileManager.default.copyItem(at: world.centralLog, to: files.appendingPathComponent("central.log"))
            try? FileManager.default.copyItem(at: world.nginx.accessLogURL, to: files.appendingPathComponent("nginx-access.log"))
            world.stop()
        }
        let ramp = max(10, Double(terminals) / 50)
        let generated = files.appendingPathComponent("generated.txt")
        let uploads = files.appendingPathComponent("uploads.txt")
        let reportFile = files.appendingPathComponent("report.json")
        FileManager.default.createFile(atPath: reportFile.path, contents: nil)
        let simulate = Process()
        simulate.executableURL = binDirectory.appendingPathComponent("mpolice-central")
        simulate.arguments = world.simulateArguments(seconds: seconds, ramp: ramp, generated: generated, uploadLog: uploads)
        simulate.standardOutput = try FileHandle(forWritingTo: reportFile)
        simulate.standardError = FileHandle.nullDevice
        let sizeAtStart = try world.cluster.size(of: world.databaseURL)
        let started = Date()
        try simulate.run()

        // The steady part: from the ramp's end (and the first breadcrumbs of the last
        // terminals) to the restart.
        let steadyFrom = ramp + 35
        let restartAt = seconds - 30
        Thread.sleep(until: started.addingTimeInterval(steadyFrom))
        let center0 = try FootprintBench.sample(world.centralPID)
        let postgres0 = Self.treeCPUSeconds(of: try world.cluster.postmasterPID())
        let at0 = Date()
        Thread.sleep(until: started.addingTimeInterval(restartAt))
        let center1 = try FootprintBench.sample(world.centralPID)
        let postgres1 = Self.treeCPUSeconds(of: try world.cluster.postmasterPID())
        let nginxMB = Self.treeResidentMegabytes(of: world.nginx.processIdentifier)
        let steady = Date().timeIntervalSince(at0)
        print("  (restarting PostgreSQL \(Int(restartAt)) s in, down 5 s)")
        try world.cluster.stop()
        Thread.sleep(forTimeInterval: 5)
        try world.cluster.start()
        simulate.waitUntilExit()
        let sizeAtEnd = try world.cluster.size(of: world.databaseURL)

        struct Report: Decodable {
            var itemsGenerated: Int, itemsAcknowledged: Int, itemsPending: Int, uploadFailures: Int, longPollsHeld: [Int]
            var manifestFetches: Int, manifestNotModified: Int
        }
        let report = try JSONDecoder().decode(Report.self, from: Data(contentsOf: reportFile))
        let sent = Set(try String(contentsOf: generated, encoding: .utf8).split(separator: "\n").map(String.init))
        let stored = try world.storedItems()
        let lost = sent.subtracting(stored).count
        let duplicated = stored.count - Set(stored).count
        print("  (\(report.itemsGenerated) items generated, \(stored.count) stored, \(lost) lost, \(duplicated) duplicated; "
              + "\(report.uploadFailures) uploads failed and were retried around the restart; "
              + "\(report.manifestNotModified) of \(report.manifestFetches) manifest fetches 304)")

        // Upload acknowledgement latency in the steady part (the restart's failures aside).
        let latencies = try String(contentsOf: uploads, encoding: .utf8).split(separator: "\n").compactMap { line -> Double? in
            let f = line.split(separator: " ")
            guard f.count == 3, let at = Double(f[0]), let ms = Double(f[1]), f[2] == "ok", at >= steadyFrom, at < restartAt else { return nil }
            return ms
        }
        let ticks = Double(sysconf(Int32(_SC_CLK_TCK)))
        // The polls held each second of the steady part (samples start 5 s after the ramp).
        let held = report.longPollsHeld.enumerated().filter { (steadyFrom..<restartAt).contains(ramp + 5 + Double($0.offset)) }
            .map(\.element).sorted()
        guard !held.isEmpty else { throw BenchError("no long-poll samples in the steady part") }
        results.add("fleet_terminals", Double(held.first!))
        results.add("fleet_long_polls_held_median", Double(held[held.count / 2]))
        let itemsPerSecond = Double(try world.itemsReceived(from: at0, to: at0.addingTimeInterval(steady))) / steady
        results.add("fleet_items_per_s", itemsPerSecond)
        results.add("fleet_upload_p50_ms", Measure.percentile(latencies, 50))
        results.add("fleet_upload_p99_ms", Measure.percentile(latencies, 99))
        results.add("fleet_lost_items", Double(lost + duplicated + report.itemsPending))
        results.add("fleet_center_cpu_pct", Double(center1.cpuTicks - center0.cpuTicks) / ticks / steady * 100)
        results.add("fleet_center_rss_mb", Double(center1.rssKB) / 1024)
        results.add("fleet_postgres_cpu_pct", (postgres1 - postgres0) / steady * 100)
        results.add("fleet_nginx_rss_mb", nginxMB)
        // Storage: the database's growth over the whole run per item stored, at the steady
        // part's rate for a day (PostgreSQL fills allocated pages first: over the steady part
        // alone a small fleet may not grow the files at all).
        let bytesPerItem = Double(sizeAtEnd - sizeAtStart) / Double(max(stored.count, 1))
        results.add("fleet_db_bytes_per_day", bytesPerItem * itemsPerSecond * 86_400)
    }

    /// A terminal off overnight: `records` (1,000,000 in `make bench`) published, then hourly versions it misses
    /// (0.1 % of the stolen vehicles changed each), three deltas kept. What it fetches in the
    /// morning: the snapshot, or the catch-up from the version it holds.
    private func morning(into results: inout Results) throws {
        let dir = work.appendingPathComponent("morning")
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        let dataset = dir.appendingPathComponent("dataset")
        let keys = dir.appendingPathComponent("keys")
        let t0 = Int64(Date().timeIntervalSince1970) - 7 * 3_600
        print("  (the morning's downlink: \(records) records, six hourly versions missed; publishing, not timed)")
        try DatasetGenerator(counts: .init(records: records), seed: 2030, issuedAt: t0).write(to: dataset)
        try CentralKeys.initialise(in: keys, now: t0, validFor: 86_400)
        let publisher = Publisher(directory: dir.appendingPathComponent("published"), keysDirectory: keys)
        let first = try publisher.publish(dataset: dataset, now: t0, validFor: 86_400, keepDeltas: 3, catchUpAges: [3_600, 6 * 3_600])
        var report = first
        for hour in 1...6 {
            let letter = Array("ABCDEF")[hour - 1]
            try StolenVehicleEdits.apply(to: dataset, add: (0..<200).map { "M\(letter)X-" + String(format: "%04d", $0) }) { index, _, _ in
                index % 1_000 == hour ? .drop : index % 1_000 == 500 + hour ? .recolour : .keep
            }
            report = try publisher.publish(dataset: dataset, now: t0 + Int64(hour) * 3_600, validFor: 86_400, keepDeltas: 3,
                                           catchUpAges: [3_600, 6 * 3_600])
        }
        let held = first.manifest.lists[ListKind.stolenVehicles.rawValue]!.version
        let entry = report.manifest.lists[ListKind.stolenVehicles.rawValue]!
        guard let catchUp = entry.catchUps?.first(where: { $0.fromVersion <= held }) else {
            throw BenchError("no catch-up from version \(held) in the manifest")
        }
        results.add("fleet_morning_catchup_bytes", Double(catchUp.file.length), reference: ("fleet_morning_snapshot_bytes", Double(entry.snapshot.length)))
        results.add("fleet_morning_snapshot_bytes", Double(entry.snapshot.length))
    }

    /// CPU seconds of `pid` and every process it started (PostgreSQL's backends), those that
    /// ended and were reaped included: each live process's run time in nanoseconds (every
    /// thread's schedstat; clock ticks would read 0 for a quiet cluster over a short window),
    /// plus the reaped children's user and system time `pid` holds (cutime, cstime).
    static func treeCPUSeconds(of pid: Int32) -> Double {
        let ticks = Double(sysconf(Int32(_SC_CLK_TCK)))
        return tree(of: pid).reduce(0) { total, process in
            var seconds = 0.0
            for task in (try? FileManager.default.contentsOfDirectory(atPath: "/proc/\(process.pid)/task")) ?? [] {
                guard let line = try? String(contentsOfFile: "/proc/\(process.pid)/task/\(task)/schedstat", encoding: .utf8),
                      let ns = line.split(separator: " ").first.flatMap({ Double($0) }) else { continue }
                seconds += ns / 1e9
            }
            if process.pid == pid { seconds += Double(process.reapedTicks) / ticks }
            return total + seconds
        }
    }

    /// Resident megabytes of `pid` and the processes it started.
    static func treeResidentMegabytes(of pid: Int32) -> Double {
        tree(of: pid).reduce(0) { total, process in total + ((try? Measure.residentMegabytes(of: process.pid)) ?? 0) }
    }

    /// `pid` and its children, with the user and system ticks of the children it reaped.
    private static func tree(of pid: Int32) -> [(pid: Int32, reapedTicks: Int)] {
        var found: [(Int32, Int)] = []
        for name in (try? FileManager.default.contentsOfDirectory(atPath: "/proc")) ?? [] {
            guard let p = Int32(name), let stat = try? String(contentsOfFile: "/proc/\(p)/stat", encoding: .utf8) else { continue }
            let fields = stat[stat.index(after: stat.lastIndex(of: ")")!)...].split(separator: " ")
            guard p == pid || Int32(fields[1]) == pid else { continue }
            found.append((p, (Int(fields[13]) ?? 0) + (Int(fields[14]) ?? 0)))
        }
        return found
    }
}
