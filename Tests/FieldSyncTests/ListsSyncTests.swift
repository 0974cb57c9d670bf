import Central
import FieldSync
import FieldWire
import Foundation
import Store
import TestSupport
import Testing
import Watchlist

/// The downlink end to end: `Publisher` writes signed versions into the directory a real
/// nginx serves with mutual TLS; `ListsSync` brings a real state directory up to date.
@Suite("List sync against nginx with mutual TLS", .serialized)
struct ListsSyncTests {
    @Test("three versions arrive as deltas, then a jump past the pruned deltas takes the snapshot; checks see each version")
    func deltasThenSnapshot() throws {
        let world = try SyncWorld()
        defer { world.remove() }
        try world.publish()
        let first = try world.sync().syncOnce()
        #expect(first.outcome == .updated)
        #expect(first.methods == [.stolenVehicles: "snapshot", .wantedPersons: "snapshot", .missingPersons: "snapshot", .officers: "snapshot"])
        #expect(try world.plateOutcome("BLT-8023") == .hit)
        #expect(try world.plateOutcome("RXA-1235") == .noHit)

        // v2: BLT-8023 recovered (deleted), a new stolen car; v3: recolour some; v4: another new car.
        try world.editVehicles(drop: { $0.contains(",BLT-8023,") }, add: ["RXA-1235"])
        try world.publish()
        let second = try world.sync().syncOnce()
        #expect(second.methods == [.stolenVehicles: "deltas", .wantedPersons: "unchanged", .missingPersons: "unchanged", .officers: "unchanged"])
        #expect(try world.plateOutcome("BLT-8023") == .noHit)
        #expect(try world.plateOutcome("RXA-1235") == .hit)

        try world.editVehicles(recolour: { $0.hasPrefix("SV000001") })
        try world.publish()
        #expect(try world.sync().syncOnce().methods[.stolenVehicles] == "deltas")

        try world.editVehicles(add: ["RXB-2357"])
        try world.publish()
        #expect(try world.sync().syncOnce().methods[.stolenVehicles] == "deltas")
        #expect(try world.lists.versions()[.stolenVehicles]?.version == 4)
        #expect(try world.plateOutcome("RXB-2357") == .hit)
        try expectDigestsMatch(world)

        // Three more versions published with one delta kept: the terminal at 4 must take the snapshot.
        for plate in ["RXC-1357", "RXD-2579", "RXE-3571"] {
            try world.editVehicles(add: [plate])
            try world.publish(keepDeltas: 1)
        }
        let jump = try world.sync().syncOnce()
        #expect(jump.methods[.stolenVehicles] == "snapshot")
        #expect(jump.methods[.wantedPersons] == "unchanged")
        #expect(try world.lists.versions()[.stolenVehicles]?.version == 7)
        for plate in ["RXA-1235", "RXB-2357", "RXC-1357", "RXD-2579", "RXE-3571"] { #expect(try world.plateOutcome(plate) == .hit) }
        #expect(try world.plateOutcome("BLT-8023") == .noHit)
        try expectDigestsMatch(world)
        // One generation file in the state directory: the old one went with the swap.
        let generations = try FileManager.default.contentsOfDirectory(atPath: world.state.url.path).filter { $0.hasPrefix("lists-") && $0.hasSuffix(".db") }
        #expect(generations.count == 1)

        // Nothing new: a conditional GET (304, no manifest body); only the root probe's 404 page.
        let again = try world.sync().syncOnce()
        #expect(again.outcome == .upToDate)
        let manifestBytes = try Data(contentsOf: world.manifestURL).count
        #expect(again.bytesFetched < manifestBytes, "\(again.bytesFetched) bytes fetched; the manifest alone is \(manifestBytes)")
        #expect(try world.journal.syncAttempts(limit: 1).first?.outcome == .upToDate)
    }

    @Test("a terminal off for the night takes one catch-up delta: its deletes of records it never held are passed over, the digests match")
    func catchUp() throws {
        let world = try SyncWorld()
        defer { world.remove() }
        let hour: Int64 = 3_600
        func later() { world.clock.advance(milliseconds: hour * 1000) }
        // v1, v2 an hour later (BLT-8023 recovered, RXA-1235 stolen), v3 (recoloured): the terminal takes them all.
        try world.publish()
        try world.sync().syncOnce()
        later()
        try world.editVehicles(drop: { $0.contains(",BLT-8023,") }, add: ["RXA-1235"])
        try world.publish()
        later()
        try world.editVehicles(recolour: { $0.hasPrefix("SV000001") })
        try world.publish()
        try world.sync().syncOnce()
        #expect(try world.lists.versions()[.stolenVehicles]?.version == 3)

        // Off for the night: v4–v10 hourly, two deltas kept. RXZ-5791 comes at v5 and goes at
        // v7 (the terminal never holds it), RXA-1235 goes at v6.
        let edits: [(drop: String?, add: [String])] = [(nil, ["RXB-2357"]), (nil, ["RXZ-5791"]), (",RXA-1235,", []), (",RXZ-5791,", []),
                                                         (nil, ["RXC-1357"]), (nil, []), (nil, ["RXD-2579"])]
        var report: Publisher.Report?
        for (i, edit) in edits.enumerated() {
            later()
            try world.editVehicles(drop: { line in edit.drop.map { line.contains($0) } ?? false },
                                   recolour: { i == 5 && $0.hasPrefix("SV000002") }, add: edit.add)
            // A catch-up from the version current 9 hours before v10: v1.
            report = try world.publish(keepDeltas: 2, catchUpAges: [hour, 9 * hour])
        }
        let entry = try require(report?.manifest.lists[ListKind.stolenVehicles.rawValue], "stolen-vehicles entry")
        #expect(entry.version == 10)
        #expect(entry.deltas.map(\.fromVersion) == [8, 9])
        #expect(entry.catchUps?.map(\.fromVersion) == [1], "from v1 (9 h ago); the 1 h one would be the last delta")
        let catchUp = try require(entry.catchUps?.first, "catch-up")
        #expect(catchUp.file.length < entry.snapshot.length / 5, "\(catchUp.file.length) B against a \(entry.snapshot.length) B snapshot")
        // Nine deltas were made; the seven the catch-up needs after v1 stay on disk though the manifest names two.
        for version in 2...10 {
            let path = "stolen-vehicles/\(version - 1)-\(version).delta.csv.gz"
            #expect(FileManager.default.fileExists(atPath: world.servedFile(path).path), "\(path) kept for the catch-up")
        }

        later()
        let morning = try world.sync().syncOnce()
        #expect(morning.methods[.stolenVehicles] == "catch-up")
        #expect(morning.methods[.wantedPersons] == "unchanged")
        #expect(try world.lists.versions()[.stolenVehicles]?.version == 10)
        for plate in ["RXB-2357", "RXC-1357", "RXD-2579"] { #expect(try world.plateOutcome(plate) == .hit, "\(plate)") }
        for plate in ["RXA-1235", "RXZ-5791", "BLT-8023"] { #expect(try world.plateOutcome(plate) == .noHit, "\(plate)") }
        try expectDigestsMatch(world)
    }

    @Test("a download cut short is kept, and the next run resumes it with a Range request")
    func resumeAcrossRuns() throws {
        let world = try SyncWorld.synced()
        defer { world.remove() }
        try world.editVehicles(add: ["RXA-1235"])
        let snapshot = try require(try world.publish(keepDeltas: 0).manifest.lists[ListKind.stolenVehicles.rawValue]?.snapshot, "snapshot")
        let served = world.servedFile(snapshot.path)
        let whole = try Data(contentsOf: served)
        try whole.prefix(whole.count / 2).write(to: served)
        #expect(world.failure(world.sync()) == .truncated)
        try whole.write(to: served)
        let report = try world.sync().syncOnce()
        #expect(report.methods[.stolenVehicles] == "snapshot")
        #expect(report.bytesFetched < snapshot.length, "only the missing half (and the manifest) came over the wire")
        #expect(try world.plateOutcome("RXA-1235") == .hit)
        #expect(try FileManager.default.contentsOfDirectory(atPath: world.state.url.appendingPathComponent("sync").path).isEmpty)
    }

    @Test("a republished manifest with no list change extends the lists' freshness")
    func freshnessOnly() throws {
        let world = try SyncWorld()
        defer { world.remove() }
        try world.publish(validDays: 1)
        try world.sync().syncOnce()
        world.clock.advance(milliseconds: 2 * 86_400_000)
        #expect(try world.lists.versions()[.stolenVehicles]!.isStale(at: world.clock.nowSeconds))
        try world.publish(validDays: 1)
        let report = try world.sync().syncOnce()
        #expect(report.outcome == .updated)
        #expect(Set(report.methods.values) == ["unchanged"])
        #expect(try !world.lists.versions()[.stolenVehicles]!.isStale(at: world.clock.nowSeconds))
    }

    @Test("a rotated root is walked to, and manifests signed by the retired key are refused")
    func rootRotation() throws {
        let world = try SyncWorld.synced()
        defer { world.remove() }
        let retired = try world.manifestKey
        try CentralKeys.rotate(in: world.keys, now: world.clock.nowSeconds, validFor: 365 * 86_400)
        try world.editVehicles(add: ["RXA-1235"])
        try world.publish()
        #expect(try world.sync().syncOnce().outcome == .updated)
        #expect(try world.plateOutcome("RXA-1235") == .hit)

        try world.editVehicles(add: ["RXB-2357"])
        try world.publish()
        try world.resign(with: retired)
        #expect(world.failure(world.sync()) == .badSignature)
        #expect(try world.plateOutcome("RXB-2357") == .noHit)
    }

    // MARK: Attacks: each names its reason, and the previous lists answer unchanged.

    /// Syncs version 1, publishes version 2 (BLT-8023 deleted, RXA-1235 added), lets
    /// `tamper` change what nginx serves, and asserts the sync fails with `reason` while the
    /// terminal still answers from version 1.
    func attack(_ reason: SyncFailure.Reason, port: ((SyncWorld) throws -> Int)? = nil, clientCertificate: Bool = true,
                publishNext: Bool = true, _ tamper: (SyncWorld) throws -> Void) throws {
        let world = try SyncWorld.synced()
        defer { world.remove() }
        let before = try world.lists.versions()
        if publishNext {
            try world.editVehicles(drop: { $0.contains(",BLT-8023,") }, add: ["RXA-1235"])
            try world.publish()
        }
        try tamper(world)
        #expect(world.failure(world.sync(port: try port?(world), clientCertificate: clientCertificate)) == reason)
        #expect(try world.lists.versions() == before)
        #expect(try world.plateOutcome("BLT-8023") == .hit)
        #expect(try world.plateOutcome("RXA-1235") == .noHit)
        #expect(try world.lists.quickCheck() == "ok")
        let attempt = try #require(try world.journal.syncAttempts(limit: 1).first)
        #expect(attempt.outcome == .failed)
        #expect(attempt.reason == reason.rawValue)
    }

    @Test("a manifest signed by a key the root does not list: bad-signature")
    func wrongKey() throws {
        try attack(.badSignature) { try $0.resign(with: SigningKey()) }
    }

    @Test("a bit flipped in the signature: bad-signature")
    func flippedSignature() throws {
        try attack(.badSignature) { world in
            var envelope = try SignedEnvelope.decode(Data(contentsOf: world.manifestURL))
            var signature = try require(Data(base64Encoded: envelope.signatures[0].sig), "signature")
            signature[10] ^= 0x01
            envelope.signatures[0].sig = signature.base64EncodedString()
            try world.replaceManifest(WireJSON.encode(envelope))
        }
    }

    @Test("an older manifest replayed after a newer one was applied: rollback")
    func replay() throws {
        let world = try SyncWorld.synced()
        defer { world.remove() }
        let old = try Data(contentsOf: world.manifestURL)
        try world.editVehicles(add: ["RXA-1235"])
        try world.publish()
        try world.sync().syncOnce()
        let before = try world.lists.versions()
        try world.replaceManifest(old)
        #expect(world.failure(world.sync()) == .rollback)
        #expect(try world.lists.versions() == before)
        #expect(try world.plateOutcome("RXA-1235") == .hit)
    }

    @Test("an expired manifest: expired")
    func expired() throws {
        try attack(.expired, publishNext: false) { world in
            try world.editVehicles(add: ["RXA-1235"])
            try world.publish(at: world.clock.nowSeconds - 8 * 86_400)
        }
    }

    @Test("a file whose content differs from the manifest's hash: hash-mismatch")
    func hashMismatch() throws {
        try attack(.hashMismatch) { world in
            let delta = try deltaFile(world)
            var data = try Data(contentsOf: delta)
            data[data.count / 2] ^= 0xFF
            try data.write(to: delta)
        }
    }

    @Test("a server that sends more than the stated length: too-large")
    func longer() throws {
        try attack(.tooLarge) { world in
            let delta = try deltaFile(world)
            try (Data(contentsOf: delta) + Data(repeating: 0x41, count: 100_000)).write(to: delta)
        }
    }

    @Test("a file cut short: truncated")
    func truncated() throws {
        try attack(.truncated) { world in
            let delta = try deltaFile(world)
            try Data(contentsOf: delta).prefix(50).write(to: delta)
        }
    }

    @Test("garbage instead of a manifest: bad-format")
    func garbage() throws {
        try attack(.badFormat) { try $0.replaceManifest(Data("<html>502 Bad Gateway</html>".utf8)) }
    }

    @Test("a signed manifest naming a delta for another base: base-mismatch")
    func wrongBase() throws {
        try attack(.baseMismatch) { world in
            // Publish 3 as well, then offer the 2→3 file as if it were 1→2.
            try world.editVehicles(add: ["RXB-2357"])
            try world.publish()
            try world.resign(with: world.manifestKey) { manifest in
                var list = manifest.lists[ListKind.stolenVehicles.rawValue]!
                let later = list.deltas.last!
                list.deltas = [Manifest.Delta(fromVersion: 1, toVersion: 2, file: later.file), later]
                manifest.lists[ListKind.stolenVehicles.rawValue] = list
            }
        }
    }

    @Test("a server certificate from another CA: tls")
    func otherCA() throws {
        var rogue: NginxTLS?
        defer { rogue?.stop() }
        try attack(.tls, port: { world in
            rogue = try NginxTLS(pki: world.pki, serverName: "rogue-server", root: world.nginx.root)
            return rogue!.port
        }) { _ in }
    }

    @Test("no client certificate: the server refuses, client-cert-refused")
    func noClientCertificate() throws {
        try attack(.clientCertificateRefused, clientCertificate: false) { _ in }
    }

    @Test("a gzip bomb within a correctly hashed file is stopped at its ceiling: too-large")
    func gzipBomb() throws {
        try attack(.tooLarge) { world in
            // The center's own key signs it (a compromised publisher): the ceiling still holds.
            let bomb = Gzip.compress(Data(repeating: 0x30, count: 200 << 20), level: 9)
            let path = "stolen-vehicles/bomb.snapshot.csv.gz"
            try bomb.write(to: world.servedFile(path))
            try FileManager.default.setAttributes([.posixPermissions: 0o644], ofItemAtPath: world.servedFile(path).path)
            try world.resign(with: world.manifestKey) { manifest in
                var list = manifest.lists[ListKind.stolenVehicles.rawValue]!
                list.snapshot = Manifest.File(path: path, sha256: SHA256Hex.of(bomb), length: Int64(bomb.count))
                list.deltas = []
                list.recordCount = 1
                manifest.lists[ListKind.stolenVehicles.rawValue] = list
            }
        }
    }

    func deltaFile(_ world: SyncWorld) throws -> URL {
        let manifest = try require(try world.publisher.currentManifest(), "manifest")
        return world.servedFile(try require(manifest.lists[ListKind.stolenVehicles.rawValue]?.deltas.last, "delta").file.path)
    }

    func expectDigestsMatch(_ world: SyncWorld) throws {
        let manifest = try require(try world.publisher.currentManifest(), "manifest")
        let recomputed = try world.lists.recomputeDigests()
        // The lists the center publishes (these worlds' data sets hold no document lists).
        for list in ListKind.allCases where manifest.lists[list.rawValue] != nil {
            #expect(recomputed[list]?.digest == manifest.lists[list.rawValue]?.digest, "\(list.rawValue) digest")
            #expect(recomputed[list]?.count == manifest.lists[list.rawValue]?.recordCount, "\(list.rawValue) count")
        }
    }
}
