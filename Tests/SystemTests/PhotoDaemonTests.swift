import Central
import FieldWire
import Foundation
import LocalAPIClient
import Store
import TestSupport
import Testing
import Watchlist

/// Photos end to end: a center publishing thousands of real JPEGs behind a real nginx with
/// client certificates, the built daemon prefetching them into its budget in priority order,
/// refusing a tampered one, fetching a hit's photo at once (also over a throttled 32 kB/s
/// link while the lists sync), and resuming a download a kill -9 cut.
@Suite("mpoliced photos", .serialized)
struct PhotoDaemonTests {
    static let region = "臺北"

    static func listed(_ dataset: URL) throws -> [ListedPhoto] { try ListedPhoto.all(in: dataset, region: region) }

    static func photoConfig(budgetMB: Int) -> String {
        """

        [photos]
        budget_mb = \(budgetMB)
        region = \(region)
        """
    }

    /// The photos the daemon holds, by the files in its state directory.
    static func held(_ state: URL) -> Set<String> {
        let names = (try? FileManager.default.contentsOfDirectory(atPath: state.appendingPathComponent("photos").path)) ?? []
        return Set(names.filter { $0.hasSuffix(".jpg") }.map { String($0.dropLast(4)) })
    }

    static func personCheck(_ daemon: DaemonProcess, id: String) throws -> [String: Any] {
        let answer = try daemon.client.json("POST", "/v1/checks/person", ["id": id, "purpose": "law-6-1"])
        guard answer.status == 200 else { throw TestError("person check: \(answer.status) \(answer.object)") }
        return answer.object
    }

    /// `onDevice` of each photo of the answer's matched wanted or missing persons, by sha256.
    static func onDevice(_ answer: [String: Any]) -> [String: Bool] {
        var result: [String: Bool] = [:]
        for list in answer["lists"] as? [[String: Any]] ?? [] {
            for match in list["matches"] as? [[String: Any]] ?? [] {
                let record = match["record"] as? [String: Any] ?? [:]
                for person in [record["wantedPerson"], record["missingPerson"]].compactMap({ $0 as? [String: Any] }) {
                    for photo in person["photos"] as? [[String: Any]] ?? [] {
                        if let sha = photo["sha256"] as? String { result[sha] = photo["onDevice"] as? Bool }
                    }
                }
            }
        }
        return result
    }

    @Test("nginx (mTLS) serves 10,000 photos: the daemon prefetches within its budget in priority order, refuses a photo whose bytes changed on the server and never serves it, serves the rest as image/jpeg, and fetches a hit's uncached photo at once with a photo-available event")
    func prefetchTenThousand() throws {
        let center = try PublishedCenter(records: 30_000, photos: 10_000)
        defer { center.stop() }
        try center.publish()
        let listed = try Self.listed(center.dataset)
        #expect(listed.count >= 10_000)
        let served = try FileManager.default.contentsOfDirectory(atPath: center.nginx.root.appendingPathComponent("photos").path)
        #expect(served.count == listed.count, "every photo published")

        // A photo of the first class altered on the server: same length, other bytes.
        let tampered = try #require(listed.first { $0.rank == 0 && $0.list == .wantedPersons && $0.idNumber != nil && $0.recordId != "WP00000000" })
        let tamperedURL = center.nginx.root.appendingPathComponent("photos/\(tampered.photo.sha256).jpg")
        var bytes = try Data(contentsOf: tamperedURL)
        bytes[bytes.count / 2] ^= 0x5A
        try bytes.write(to: tamperedURL)

        let scratch = try Scratch("photos-10k")
        defer { scratch.remove() }
        let state = scratch.url.appendingPathComponent("state")
        let budgetMB = 64, budget = Int64(budgetMB) << 20
        let daemon = try DaemonProcess(in: scratch.url, stateDirectory: state, extra: center.daemonSyncConfig() + Self.photoConfig(budgetMB: budgetMB))
        try daemon.start()
        let started = Date()
        // Prefetch is done when the held set stops growing.
        var last = -1, stableSince = Date()
        try #require(eventually(timeout: 240) {
            let count = Self.held(state).count
            if count != last { (last, stableSince) = (count, Date()) }
            return count > 0 && Date().timeIntervalSince(stableSince) > 3
        }, "\(daemon.log.suffix(2_000))")
        let seconds = Date().timeIntervalSince(started) - 3
        let held = Self.held(state)
        let heldBytes = listed.filter { held.contains($0.photo.sha256) }.reduce(Int64(0)) { $0 + Int64($1.photo.bytes) }
        print("prefetch: \(held.count) photos, \(heldBytes) bytes in \(String(format: "%.1f", seconds)) s")

        // The budget, filled.
        #expect(heldBytes <= budget)
        #expect(heldBytes > budget - 2 * Int64(PhotoReference.maxBytes / 20), "the budget is used: \(heldBytes) of \(budget)")
        // The order: every photo before the first one left out is held (the tampered one
        // apart); past it, at most the few small photos first-fit squeezes in.
        let ordered = listed.sorted { ($0.rank, $0.recordId) < ($1.rank, $1.recordId) }
        let firstLeftOut = try #require(ordered.firstIndex { !held.contains($0.photo.sha256) && $0.photo.sha256 != tampered.photo.sha256 })
        #expect(ordered[firstLeftOut].rank <= 1, "the budget ends inside the first two classes")
        #expect(ordered[..<firstLeftOut].allSatisfy { held.contains($0.photo.sha256) || $0.photo.sha256 == tampered.photo.sha256 })
        let pastBoundary = ordered[firstLeftOut...].filter { held.contains($0.photo.sha256) }
        #expect(pastBoundary.count <= 3, "first-fit past the boundary: \(pastBoundary.count)")
        #expect(!ordered.contains { $0.rank >= 2 && held.contains($0.photo.sha256) }, "nothing of the region or the rest fits")

        // The tampered photo: refused, not on the device, not served, and said so in the answer.
        #expect(!held.contains(tampered.photo.sha256))
        #expect(daemon.log.contains("photo refused or not fetched"))
        try #require(try daemon.client.signIn().status == 201)
        let bad = try daemon.client.request("GET", "/v1/photos/\(tampered.photo.sha256)")
        #expect(bad.status == 404 && String(decoding: bad.body, as: UTF8.self).contains("photo.not-on-device"))
        #expect(Self.onDevice(try Self.personCheck(daemon, id: tampered.idNumber!))[tampered.photo.sha256] == false)

        // A held photo: the verified bytes, as a JPEG, cacheable for good.
        let good = try #require(ordered.first { held.contains($0.photo.sha256) })
        let response = try daemon.client.request("GET", "/v1/photos/\(good.photo.sha256)")
        #expect(response.status == 200 && SHA256Hex.of(response.body) == good.photo.sha256)
        #expect(response.body.starts(with: [0xFF, 0xD8, 0xFF]), "a JPEG")

        // A hit on a person whose photo is not cached: fetched at once, with an event.
        let events = EventCollector(client: daemon.client)
        try #require(events.waitConnected(timeout: 5))
        let uncached = try #require(ordered.last { $0.rank == 3 && $0.list == .wantedPersons && $0.idNumber != nil })
        let asked = Date()
        #expect(Self.onDevice(try Self.personCheck(daemon, id: uncached.idNumber!))[uncached.photo.sha256] == false)
        #expect(eventually(timeout: 10) { (try? daemon.client.photo(uncached.photo.sha256)) != nil })
        print("uncached hit photo on the device after \(String(format: "%.2f", Date().timeIntervalSince(asked))) s")
        #expect(events.wait(for: "photo-available", timeout: 5))
        #expect(events.text.contains(uncached.photo.sha256))
        #expect(Self.onDevice(try Self.personCheck(daemon, id: uncached.idNumber!))[uncached.photo.sha256] == true)

        // A terminal without a front-end: mpolicectl writes the hit's photos to a directory.
        let out = try scratch.url.appendingPathComponent("cli-photos").creatingDirectory()
        let cli = try Programs.run("mpolicectl", ["check", "person", "--id", uncached.idNumber!, "--purpose", "law-6-1",
                                                  "--photos", out.path, "--photo-wait", "5", "--socket", daemon.socketPath])
        #expect(cli.status == 0, "\(cli.stderr)")
        let written = try FileManager.default.contentsOfDirectory(atPath: out.path)
        #expect(written == ["\(uncached.recordId)-face-\(uncached.photo.sha256.prefix(12)).jpg"], "\(written)")
        #expect(try written.first.map { SHA256Hex.of(try Data(contentsOf: out.appendingPathComponent($0))) } == uncached.photo.sha256)
        let refused = try Programs.run("mpolicectl", ["check", "person", "--id", tampered.idNumber!, "--purpose", "law-6-1",
                                                      "--photos", out.path, "--photo-wait", "1", "--socket", daemon.socketPath])
        #expect(refused.status == 0 && refused.stderr.contains("photo not on the terminal: \(tampered.recordId)"), "\(refused.stderr)")
        let notADirectory = try Programs.run("mpolicectl", ["check", "plate", "ABC-1234", "--photos", "/nonexistent", "--socket", daemon.socketPath])
        #expect(notADirectory.status == 64 && notADirectory.stderr.contains("not a directory"), "a usage error, as every bad argument")

        // The downloads share connections instead of a TLS handshake each.
        let log = center.nginx.accessLog.filter { $0.hasPrefix("/photos/") }
        #expect(log.count >= held.count)
        let connections = Set(log.compactMap { $0.split(separator: " ").last })
        #expect(connections.count * 20 < log.count, "\(log.count) photo requests over \(connections.count) connections")
        #expect(daemon.stop().status == 0)
    }

    @Test("over a fault proxy throttled to 32 kB/s: a kill -9 in the middle of a photo download resumes with a Range request; with the lists sync downloading, a hit's uncached face photo is on the device within 30 s")
    func throttled() throws {
        let center = try PublishedCenter(records: 20_000, photos: 300)
        defer { center.stop() }
        try center.publish()
        let listed = try Self.listed(center.dataset)
        let proxy = try FaultProxy(to: center.nginx.port)
        defer { proxy.stop() }
        let central = "https://127.0.0.1:\(proxy.port)/"
        let scratch = try Scratch("photos-throttled")
        defer { scratch.remove() }
        let state = scratch.url.appendingPathComponent("state")
        func daemon(_ name: String, budgetMB: Int) throws -> DaemonProcess {
            let dir = try scratch.url.appendingPathComponent(name).creatingDirectory()
            return try DaemonProcess(in: dir, stateDirectory: state, extra: center.daemonSyncConfig(central: central) + Self.photoConfig(budgetMB: budgetMB))
        }

        // First the lists, at full speed, and no prefetch.
        let first = try daemon("first", budgetMB: 0)
        try first.start()
        try #require(eventually(timeout: 30) { (try? first.client.signIn().status) == 201 }, "\(first.log)")
        #expect(Self.held(state).isEmpty, "budget 0: nothing prefetched")
        #expect(first.stop().status == 0)

        // A weak cell: prefetch starts; kill -9 with a photo half downloaded.
        proxy.mode = .throttle(bytesPerSecond: 32_000)
        let second = try daemon("second", budgetMB: 1)
        try second.start()
        let photos = state.appendingPathComponent("photos")
        var cut: (sha: String, bytes: Int)?
        try #require(eventually(timeout: 30) {
            for name in (try? FileManager.default.contentsOfDirectory(atPath: photos.path)) ?? [] where name.hasSuffix(".part") {
                let size = (try? FileManager.default.attributesOfItem(atPath: photos.appendingPathComponent(name).path)[.size] as? Int) ?? 0
                if size > 4_096 {
                    kill(second.process.processIdentifier, SIGKILL)
                    cut = (String(name.dropLast(5)), size)
                    return true
                }
            }
            return false
        }, "\(second.log)")
        second.process.waitUntilExit()
        let (cutSHA, cutBytes) = try #require(cut)
        let cutPhoto = try #require(listed.first { $0.photo.sha256 == cutSHA })
        #expect(cutBytes < cutPhoto.photo.bytes)

        let third = try daemon("third", budgetMB: 1)
        try third.start()
        #expect(eventually(timeout: 20) { Self.held(state).contains(cutSHA) }, "\(third.log)")
        let ranged = center.nginx.accessLog.filter { $0.hasPrefix("/photos/\(cutSHA).jpg 206 ") }
        #expect(ranged.count == 1, "resumed with a Range request: \(center.nginx.accessLog.filter { $0.contains(cutSHA) })")
        if let line = ranged.first {
            let parts = line.split(separator: " ")
            let from = Int(parts[3].dropFirst("bytes=".count).split(separator: "-").first ?? "") ?? -1
            #expect(from > 0 && from <= cutBytes, "from \(from), \(cutBytes) on disk at the kill")
            #expect(Int(parts[2]) == cutPhoto.photo.bytes - from, "only the rest was sent")
        }
        #expect(third.log.contains("photo download resumed"))

        // The next lists: every stolen vehicle changed, a large delta over the weak link.
        try StolenVehicleEdits.apply(to: center.dataset) { _, _, _ in .recolour }
        try center.publish()
        try #require(try third.client.signIn().status == 201)
        let events = EventCollector(client: third.client)
        try #require(events.waitConnected(timeout: 5))
        #expect(try third.client.request("POST", "/v1/sync").status == 202)
        let sync = state.appendingPathComponent("sync")
        func downloading() -> Bool {
            ((try? FileManager.default.contentsOfDirectory(atPath: sync.path)) ?? []).contains { name in
                ((try? FileManager.default.attributesOfItem(atPath: sync.appendingPathComponent(name).path)[.size] as? Int) ?? 0) > 0
            }
        }
        try #require(eventually(timeout: 20, downloading), "the sync is downloading the delta")

        // A hit on a person whose face is not on the device.
        let uncached = try #require(listed.last { $0.rank == 3 && $0.photo.kind == .face && $0.idNumber != nil && !Self.held(state).contains($0.photo.sha256) })
        let asked = Date()
        #expect(Self.onDevice(try Self.personCheck(third, id: uncached.idNumber!))[uncached.photo.sha256] == false)
        try #require(eventually(timeout: 45) { Self.held(state).contains(uncached.photo.sha256) }, "\(third.log.suffix(2_000))")
        let seconds = Date().timeIntervalSince(asked)
        let stillSyncing = downloading()
        print("photo_uncached_32kbps_s: \(String(format: "%.2f", seconds)) (\(uncached.photo.bytes) bytes; lists sync still downloading: \(stillSyncing))")
        #expect(seconds <= 30)
        #expect(stillSyncing, "the photo came while the lists were still downloading")
        #expect(events.wait(for: "photo-available", timeout: 5) && events.text.contains(uncached.photo.sha256))
        #expect(try third.client.photo(uncached.photo.sha256).map(SHA256Hex.of) == uncached.photo.sha256)
        proxy.mode = .pass
        #expect(third.stop().status == 0)
    }
}
