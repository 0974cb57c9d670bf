import Central
import FieldWire
import Foundation
import LocalAPIClient
import TestSupport
import Watchlist

/// The photo figures, on the release daemon against a loopback nginx with client
/// certificates serving 10,000 photos (`--photos`): prefetch of them all (beside curl fetching the same
/// files over one connection), `GET /v1/photos` offline (beside reading the file), and a
/// hit's uncached face photo through a 32 kB/s link while the lists sync (beside the link's
/// own floor for those bytes).
struct PhotoBench {
    let work: URL
    /// Photos published (`--photos`; 10,000 in `make bench`).
    let photos: Int
    static let throttle = 32_000

    func run(into results: inout Results) throws {
        let root = work.appendingPathComponent("photo-bench")
        try FileManager.default.createDirectory(at: root, withIntermediateDirectories: true)
        let now = Int64(Date().timeIntervalSince1970)
        let keys = root.appendingPathComponent("keys")
        try CentralKeys.initialise(in: keys, now: now - 60, validFor: 86_400)
        let pkiDir = root.appendingPathComponent("pki")
        try FileManager.default.createDirectory(at: pkiDir, withIntermediateDirectories: true)
        let pki = try TestPKI(in: pkiDir)
        let dataset = root.appendingPathComponent("dataset")
        // Enough persons for every photo: 70 % of them go to wanted persons, a quarter of the records.
        let records = max(2_000, photos * 3)
        print("  (photo bench: generating \(records) records with \(photos) photos and publishing them: not timed)")
        try DatasetGenerator(counts: .init(records: records), seed: 17, issuedAt: now - 60, photos: photos).write(to: dataset)
        let nginx = try NginxTLS(pki: pki)
        defer { nginx.stop() }
        try Publisher(directory: nginx.root, keysDirectory: keys).publish(dataset: dataset, now: now - 60, validFor: 86_400, keepDeltas: 30)
        try chmodTree(nginx.root)
        let photoDirectory = DatasetGenerator.photoDirectory(dataset)
        let names = try FileManager.default.contentsOfDirectory(atPath: photoDirectory.path).filter { $0.hasSuffix(".jpg") }.sorted()
        let totalBytes = try names.reduce(Int64(0)) { $0 + Int64(try Data(contentsOf: photoDirectory.appendingPathComponent($1)).count) }

        // The reference: curl fetching every photo over one kept-alive connection.
        let urls = root.appendingPathComponent("curl-urls.txt")
        try names.map { "url = \"https://127.0.0.1:\(nginx.port)/photos/\($0)\"\noutput = \"/dev/null\"" }.joined(separator: "\n")
            .write(to: urls, atomically: true, encoding: .utf8)
        let (_, curlSeconds) = try Measure.seconds {
            try Self.run("/usr/bin/curl", ["-sSf", "--cacert", pki.path("ca.crt"), "--cert", pki.path("device.crt"), "--key", pki.path("device.key"),
                                          "-K", urls.path])
        }

        // Prefetch of them all by the daemon (budget above the total).
        let daemon = try BenchDaemon(work: root.appendingPathComponent("prefetch"),
                                     extra: Self.syncSection(central: nginx.port, pki: pki, keys: keys) + "[photos]\nbudget_mb = 1024\n")
        defer { daemon.stop() }
        let client = APIClient(socketPath: daemon.socket)
        _ = try Self.waitFor(seconds: 60, "the first sync") { try? client.status().manifestSequence }
        let prefetchStart = Measure.nowNanoseconds()
        _ = try Self.waitFor(seconds: 600, "the prefetch of every photo") { () -> Bool? in
            (try? client.status().photos?.held).flatMap { $0 >= names.count ? true : nil }
        }
        let prefetchSeconds = Double(Measure.nowNanoseconds() - prefetchStart) / 1e9
        print("  (prefetch timed from the first sync's end to the last photo held, status polled every 50 ms)")
        results.add("photo_prefetch_s", prefetchSeconds, reference: ("curl_photos_s", curlSeconds))
        results.add("curl_photos_s", curlSeconds)
        results.add("photo_prefetch_per_s", Double(names.count) / prefetchSeconds)
        results.add("photo_prefetch_bytes", Double(totalBytes))

        // Offline: the center gone, photos served from the cache through the socket.
        nginx.stop()
        try daemon.signIn(client)
        var rng = SystemRandomNumberGenerator()
        let asked = (0..<2_000).map { _ in String(names.randomElement(using: &rng)!.dropLast(4)) }
        for sha in asked.prefix(100) { _ = try client.request("GET", "/v1/photos/\(sha)") }
        var api: [Double] = [], file: [Double] = []
        for block in stride(from: 0, to: asked.count, by: 200) {
            let range = block..<min(asked.count, block + 200)
            api += try Measure.latencies(count: range.count) { i in
                guard try client.request("GET", "/v1/photos/\(asked[range.lowerBound + i])").status == 200 else { throw BenchError("a held photo was not served") }
            }
            file += try Measure.latencies(count: range.count) { i in
                _ = try Data(contentsOf: photoDirectory.appendingPathComponent("\(asked[range.lowerBound + i]).jpg"))
            }
        }
        results.add("photo_get_p50_ms", Measure.percentile(api, 50) / 1000, reference: ("photo_file_read_p50_ms", Measure.percentile(file, 50) / 1000))
        results.add("photo_get_p99_ms", Measure.percentile(api, 99) / 1000)
        results.add("photo_file_read_p50_ms", Measure.percentile(file, 50) / 1000)
        daemon.stop()

        try throttledHit(into: &results, root: root, pki: pki, keys: keys, dataset: dataset, now: now)
    }

    /// A hit's uncached face photo over a weak cell while the lists sync downloads a large
    /// delta: five persons one after another, the median.
    private func throttledHit(into results: inout Results, root: URL, pki: TestPKI, keys: URL, dataset: URL, now: Int64) throws {
        let www = root.appendingPathComponent("www-throttled")
        let nginx = try NginxTLS(pki: pki, serverName: "server", root: www)
        defer { nginx.stop() }
        let publisher = Publisher(directory: www, keysDirectory: keys)
        try publisher.publish(dataset: dataset, now: now - 30, validFor: 86_400, keepDeltas: 30)
        try chmodTree(www)
        let proxy = try FaultProxy(to: nginx.port)
        defer { proxy.stop() }
        let daemon = try BenchDaemon(work: root.appendingPathComponent("throttled"),
                                     extra: Self.syncSection(central: proxy.port, pki: pki, keys: keys) + "[photos]\nbudget_mb = 0\n")
        defer { daemon.stop() }
        let client = APIClient(socketPath: daemon.socket)
        _ = try Self.waitFor(seconds: 60, "the first sync") { try? client.status().manifestSequence }
        try daemon.signIn(client)
        // Wanted persons with a face photo and an ID, from the end of the list.
        let faces = try Dataset.readRows(.wantedPersons, from: dataset).reversed().compactMap { row -> (id: String, photo: PhotoReference)? in
            guard let id = row.fields[1], !id.isEmpty, let face = PhotoReference.parse(field: row.fields[9] ?? "")?.first(where: { $0.kind == .face }) else { return nil }
            return (id, face)
        }.prefix(5)
        guard faces.count == 5 else { throw BenchError("the data set has too few photographed wanted persons") }

        proxy.mode = .throttle(bytesPerSecond: Self.throttle)
        _ = try StolenVehicleEdits.apply(to: dataset) { _, _, _ in .recolour }
        try publisher.publish(dataset: dataset, now: now, validFor: 86_400, keepDeltas: 30)
        try chmodTree(www)
        guard try client.request("POST", "/v1/sync").status == 202 else { throw BenchError("sync-now refused") }
        let sync = URL(fileURLWithPath: daemon.state).appendingPathComponent("sync")
        func downloading() -> Bool {
            ((try? FileManager.default.contentsOfDirectory(atPath: sync.path)) ?? []).contains { name in
                ((try? FileManager.default.attributesOfItem(atPath: sync.appendingPathComponent(name).path)[.size] as? Int) ?? 0) > 0
            }
        }
        _ = try Self.waitFor(seconds: 30, "the lists sync downloading") { downloading() ? true : nil }
        var seconds: [Double] = [], floors: [Double] = [], duringSync = 0
        for (id, face) in faces {
            let body = Data(#"{"id":"\#(id)","purpose":"law-6-1"}"#.utf8)
            let start = Measure.nowNanoseconds()
            guard try client.request("POST", "/v1/checks/person", json: body).status == 200 else { throw BenchError("person check refused") }
            _ = try Self.waitFor(seconds: 120, "a hit's photo over the weak link", poll: 0.02) { (try? client.photo(face.sha256)).flatMap { $0 } }
            seconds.append(Double(Measure.nowNanoseconds() - start) / 1e9)
            floors.append(Double(face.bytes) / Double(Self.throttle))
            if downloading() { duringSync += 1 }
        }
        print("  (\(duringSync) of \(seconds.count) hit photos arrived while the lists sync was still downloading)")
        proxy.mode = .pass
        let median = Measure.percentile(seconds, 50)
        results.add("photo_uncached_32kbps_s", median, reference: ("photo_link_floor_32kbps_s", Measure.percentile(floors, 50)))
        results.add("photo_link_floor_32kbps_s", Measure.percentile(floors, 50))
    }

    /// The daemon's `[sync]` for the loopback center on `port`.
    static func syncSection(central port: Int, pki: TestPKI, keys: URL) -> String {
        """
        [sync]
        central = https://127.0.0.1:\(port)/
        ca = \(pki.path("ca.crt"))
        certificate = \(pki.path("device.crt"))
        key = \(pki.path("device.key"))
        trust_root = \(keys.appendingPathComponent(CentralKeys.rootFile).path)

        """
    }

    private func chmodTree(_ url: URL) throws {
        _ = try Self.run("/bin/chmod", ["-R", "a+rX", url.path])
    }

    @discardableResult
    static func run(_ program: String, _ arguments: [String]) throws -> Int32 {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: program)
        process.arguments = arguments
        try process.run()
        process.waitUntilExit()
        guard process.terminationStatus == 0 else { throw BenchError("\(program) exited \(process.terminationStatus)") }
        return process.terminationStatus
    }

    static func waitFor<T>(seconds: Double, _ what: String, poll: Double = 0.05, _ probe: () throws -> T?) throws -> T {
        let deadline = Date().addingTimeInterval(seconds)
        while Date() < deadline {
            if let value = try probe() { return value }
            Thread.sleep(forTimeInterval: poll)
        }
        throw BenchError("timed out waiting for \(what)")
    }
}
