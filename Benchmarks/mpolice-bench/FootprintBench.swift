import Central
import Foundation
import LocalAPIClient
import Logging
import TestSupport

/// The handheld's footprint (docs/packaging.md, "Size"): the package's bytes on the wire and
/// on disk beside the ICU data Foundation links in; and the packaged (static, release)
/// daemon on the 1M-record lists after 10,000 checks through its socket, then idle with gpsd
/// streaming at 1 Hz and the sync and uplink configured but quiet: its resident set, private
/// dirty memory, CPU and wakeups (context switches of all its threads).
struct FootprintBench {
    let work: URL
    /// The state directory the sync figures brought to the center's publication.
    let stateDirectory: URL
    /// The published directory, keys and PKI the sync figures used (the daemon syncs from it: nothing new).
    let published: URL
    let keys: URL
    let plates: [String]
    /// The package (`make deb`) and its unstripped multi-call binary.
    let deb: URL
    let packaged: URL
    let idleSeconds: Double

    func run(into results: inout Results) throws {
        try package(into: &results)
        try idle(into: &results)
    }

    private func package(into results: inout Results) throws {
        guard let debBytes = (try? FileManager.default.attributesOfItem(atPath: deb.path))?[.size] as? Int else {
            throw BenchError("\(deb.path) is missing: make bench builds it (make deb)")
        }
        let field = try Programs.system("/usr/bin/dpkg-deb", ["-f", deb.path, "Installed-Size"])
        guard field.status == 0, let kib = Double(field.stdout.trimmingCharacters(in: .whitespacesAndNewlines)) else {
            throw BenchError("dpkg-deb -f \(deb.path) Installed-Size: \(field.stderr)")
        }
        // ICU's data table, linked in through Foundation: the one symbol that dwarfs the rest
        // (in a binary with a dynamic Swift runtime, in the lib_FoundationICU it loads).
        func icuData(in file: String) throws -> Int? {
            let symbols = try Programs.system("/usr/bin/nm", ["-S", "--size-sort", file])
            let line = symbols.stdout.split(separator: "\n").last { $0.hasSuffix("_dat") && $0.contains(" icudt") }
            return line.flatMap { Int($0.split(separator: " ")[1], radix: 16) }
        }
        let loaded = try Programs.system("/usr/bin/ldd", [packaged.path]).stdout.split(separator: "\n")
            .first { $0.contains("lib_FoundationICU") }.flatMap { $0.split(separator: " ").dropFirst(2).first.map(String.init) }
        guard let size = try icuData(in: packaged.path) ?? loaded.flatMap({ try icuData(in: $0) }) else {
            throw BenchError("no icudt*_dat symbol in \(packaged.path) or the ICU library it loads")
        }
        print("  (the package: one multi-call binary, \(String(format: "%.1f", Double(size) / 1e6)) MB of it ICU data)")
        results.add("deb_bytes", Double(debBytes), reference: ("installed_bytes", kib * 1024))
        results.add("installed_bytes", kib * 1024, reference: ("icu_data_bytes", Double(size)))
        results.add("icu_data_bytes", Double(size))
    }

    private func idle(into results: inout Results) throws {
        let dir = work.appendingPathComponent("footprint")
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        // The packaged binary run by the daemon's name, as the package's link runs it.
        let program = dir.appendingPathComponent("mpoliced")
        try? FileManager.default.removeItem(at: program)
        try FileManager.default.createSymbolicLink(at: program, withDestinationURL: packaged)

        // The center: its uplink in process behind nginx, which also serves the publication.
        let pki = try TestPKI(in: try dir.appendingPathComponent("pki").creatingDirectory())
        let database = try UplinkDatabase(dir.appendingPathComponent("central.db").path)
        let socket = dir.appendingPathComponent("central.sock").path
        let workers = getgrnam(NginxTLS.workerGroup)?.pointee.gr_gid
        let quiet = Logger(label: "bench-central", factory: { _ in SwiftLogNoOpLogHandler() })
        let server = Task { try await UplinkServer(database: database, logger: quiet).run(socket: socket, mode: 0o660, group: workers, logger: quiet) }
        defer { server.cancel() }
        while !UnixSocket.accepts(socket) { usleep(20_000) }
        let nginx = try NginxTLS(pki: pki, root: published, uplinkSocket: socket)
        defer { nginx.stop() }
        let gps = try GPSFake(log: "drive.nmea", cycle: 1.0 / 3, once: false)
        defer { gps.kill() }

        // It hands memory back after `api.trim_after` quiet seconds (30 by default, as
        // shipped): within the idle window whatever its length.
        let trimAfter = min(30, max(1, Int(idleSeconds / 2)))
        let daemon = try BenchDaemon(work: dir, state: stateDirectory, program: program,
                                     gps: "gpsd = 127.0.0.1:\(gps.port)\n# The recorded drive's date is old: accept it.\nmax_time_skew = 3153600000",
                                     api: "trim_after = \(trimAfter)",
                                     extra: """
            [sync]
            central = https://127.0.0.1:\(nginx.port)/lists/
            ca = \(pki.path("ca.crt"))
            certificate = \(pki.path("device.crt"))
            key = \(pki.path("device.key"))
            trust_root = \(keys.appendingPathComponent(CentralKeys.rootFile).path)
            [uplink]
            central = https://127.0.0.1:\(nginx.port)/uplink/
            [photos]
            # No prefetch: the published photos would keep it busy (a hit's photos still come).
            budget_mb = 0
            """)
        defer { daemon.stop() }
        let client = APIClient(socketPath: daemon.socket)
        try daemon.signIn(client)
        let bodies = plates.prefix(10_000).map { Data(#"{"plate":"\#($0)"}"#.utf8) }
        for body in bodies {
            guard try client.request("POST", "/v1/checks/plate", json: body).status == 200 else { throw BenchError("check refused") }
        }
        // Quiet: the checks uploaded, the first sync done, a fix streaming.
        let settled = Date().addingTimeInterval(60)
        var settledQuietly = false, seen = ""
        while !settledQuietly, Date() < settled {
            let status = try JSONSerialization.jsonObject(with: client.request("GET", "/v1/status").body) as? [String: Any] ?? [:]
            let pending = (status["outbox"] as? [String: Any])?["pending"] as? Int
            let synced = (status["lastSync"] as? [String: Any])?["outcome"] as? String
            let fix = (status["location"] as? [String: Any])?["status"] as? String
            settledQuietly = pending == 0 && (synced == "updated" || synced == "up-to-date") && (fix == "3d" || fix == "2d")
            seen = "outbox \(pending ?? -1), sync \(synced ?? "never"), gps \(fix ?? "none")"
            if !settledQuietly { usleep(200_000) }
        }
        guard settledQuietly else { throw BenchError("the daemon did not settle within 60 s (\(seen)): see \(dir.path)/mpoliced.log") }
        let pid = daemon.processIdentifier
        let before = try Self.sample(pid)
        // The resident set through the window, every 5 s: where the trim falls, what grows back.
        var series: [Double] = []
        let end = Date().addingTimeInterval(idleSeconds)
        while Date() < end {
            Thread.sleep(forTimeInterval: min(5, max(0, end.timeIntervalSinceNow)))
            series.append(Double(try Self.sample(pid).rssKB) / 1024)
        }
        let after = try Self.sample(pid)
        // Kept for reading where the resident set is (per mapping: docs/packaging.md).
        if let smaps = FileHandle(forReadingAtPath: "/proc/\(pid)/smaps")?.readDataToEndOfFile() {
            try smaps.write(to: dir.appendingPathComponent("smaps-after-idle.txt"))
        }
        // What handing memory back costs: the first check after it reads code and lists
        // pages back from storage.
        let firstCheck = try Measure.latencies(count: 1) { _ in
            guard try client.request("POST", "/v1/checks/plate", json: bodies[0]).status == 200 else { throw BenchError("check refused") }
        }[0]
        let seconds = Double(after.at - before.at) / 1e9
        let cpu = Double(after.cpuTicks - before.cpuTicks) / Double(sysconf(Int32(_SC_CLK_TCK))) / seconds * 100
        let uploaded = try database.records(kind: .check).count
        // Who wakes: each thread's context switches over the idle window, busiest first.
        let busiest = after.perThread.map { tid, entry in (entry.name, entry.switches - (before.perThread[tid]?.switches ?? 0)) }
            .sorted { $0.1 > $1.1 }.prefix(4).map { "\($0.0) \(String(format: "%.1f", Double($0.1) / seconds))/s" }
        print("  (wakeups by thread: \(busiest.joined(separator: ", ")))")
        print("  (resident set every 5 s of the idle window: \(series.map { String(format: "%.1f", $0) }.joined(separator: " ")) MB)")
        print("  (idle \(Int(seconds)) s: gpsd at 1 Hz, sync and uplink configured and quiet, \(after.perThread.count) threads; \(uploaded) check records at the center)")
        results.add("daemon_idle_rss_mb", Double(after.rssKB) / 1024)
        results.add("daemon_idle_anon_mb", Double(after.privateDirtyKB) / 1024)
        results.add("daemon_idle_cpu_pct", cpu)
        results.add("api_check_after_trim_ms", firstCheck / 1000)
        // Threads come and go (the dispatch pool's): a thread's switches count from its first
        // sample, or from its start when it began in the window; one that ended in it is not
        // seen (the kernel keeps no per-process total in /proc).
        let switches = after.perThread.reduce(0) { $0 + $1.value.switches - (before.perThread[$1.key]?.switches ?? 0) }
        results.add("daemon_wakeups_per_s", Double(switches) / seconds)
    }

    struct Sample {
        var at: UInt64
        var cpuTicks: Int
        /// By thread id: its name and context switches.
        var perThread: [String: (name: String, switches: Int)]
        var rssKB: Int
        var privateDirtyKB: Int
    }

    /// utime + stime, every thread's context switches, the resident set and its private dirty part.
    static func sample(_ pid: Int32) throws -> Sample {
        let stat = try String(contentsOfFile: "/proc/\(pid)/stat", encoding: .utf8)
        // Fields after the command's closing parenthesis: state is field 3, utime 14, stime 15.
        let afterCommand = stat.index(after: stat.lastIndex(of: ")") ?? stat.startIndex)
        let fields = stat[afterCommand...].split(separator: " ")
        let ticks = (Int(fields[11]) ?? 0) + (Int(fields[12]) ?? 0)
        var perThread: [String: (name: String, switches: Int)] = [:]
        for task in try FileManager.default.contentsOfDirectory(atPath: "/proc/\(pid)/task") {
            guard let status = try? String(contentsOfFile: "/proc/\(pid)/task/\(task)/status", encoding: .utf8) else { continue }
            var mine = 0
            for line in status.split(separator: "\n") where line.hasPrefix("voluntary_ctxt_switches:") || line.hasPrefix("nonvoluntary_ctxt_switches:") {
                mine += Int(line.split(separator: "\t").last?.trimmingCharacters(in: .whitespaces) ?? "") ?? 0
            }
            let name = (try? String(contentsOfFile: "/proc/\(pid)/task/\(task)/comm", encoding: .utf8))?.trimmingCharacters(in: .whitespacesAndNewlines) ?? task
            perThread[task] = (name, mine)
        }
        func kilobytes(_ file: String, _ key: String) throws -> Int {
            let text = try String(contentsOfFile: "/proc/\(pid)/\(file)", encoding: .utf8)
            guard let line = text.split(separator: "\n").first(where: { $0.hasPrefix(key) }),
                  let kb = Int(line.split(separator: " ", omittingEmptySubsequences: true)[1]) else {
                throw BenchError("no \(key) in /proc/\(pid)/\(file)")
            }
            return kb
        }
        return Sample(at: Measure.nowNanoseconds(), cpuTicks: ticks, perThread: perThread,
                      rssKB: try kilobytes("status", "VmRSS:"), privateDirtyKB: try kilobytes("smaps_rollup", "Private_Dirty:"))
    }
}
