import Central
@testable import FieldSync
import FieldWire
import Foundation
import Store
import TerminalConfiguration
import TestSupport
import Testing
import Watchlist

/// The sync's faults closed by the hardening issue, against the real nginx with mutual TLS.
@Suite("Sync hardening", .serialized)
struct SyncHardeningTests {
    @Test("losing lists.db does not lose the rollback floor: a replayed older manifest is refused from the journal's copy")
    func floorSurvivesListsLoss() throws {
        let world = try SyncWorld.synced(records: 500)
        defer { world.remove() }
        let older = try Data(contentsOf: world.manifestURL)
        try world.editVehicles(add: ["RXA-1235"])
        try world.publish()
        #expect(try world.sync().syncOnce().manifestSequence == 2)
        #expect(try world.journal.trustFloor()?.manifestSequence == 2)
        // The lists are lost (the file gone); the center's manifest 1 is replayed.
        for name in try FileManager.default.contentsOfDirectory(atPath: world.state.url.path) where name.hasPrefix("lists") {
            try FileManager.default.removeItem(at: world.state.url.appendingPathComponent(name))
        }
        try world.replaceManifest(older)
        #expect(world.failure(world.sync()) == .rollback)
    }

    @Test("a partial download of a file no manifest lists any more is removed by the next sync; one still needed is resumed")
    func stalePartialsRemoved() throws {
        let world = try SyncWorld.synced(records: 200)
        defer { world.remove() }
        // Left by an interrupted run of an older manifest: the center has moved on since.
        let work = world.state.url.appendingPathComponent("sync")
        let stale = work.appendingPathComponent(String(repeating: "ab", count: 32) + ".gz")
        try FileManager.default.createDirectory(at: work, withIntermediateDirectories: true)
        try Data(repeating: 7, count: 100_000).write(to: stale)
        try world.editVehicles(add: ["RXA-1236"])
        let snapshot = try #require(try world.publish(keepDeltas: 0).manifest.lists[ListKind.stolenVehicles.rawValue]?.snapshot)
        // And half of the file this manifest does need.
        let needed = work.appendingPathComponent("\(snapshot.sha256).gz")
        try Data(contentsOf: world.servedFile(snapshot.path)).prefix(Int(snapshot.length / 2)).write(to: needed)
        let report = try world.sync().syncOnce()
        #expect(report.outcome == .updated)
        #expect(report.bytesFetched < snapshot.length, "the needed partial was resumed, not fetched again")
        #expect(!FileManager.default.fileExists(atPath: stale.path), "the stale partial is gone")
        #expect(try FileManager.default.contentsOfDirectory(atPath: work.path).isEmpty)
        #expect(try world.plateOutcome("RXA-1236") == .hit)
    }

    @Test("a sequence pushed far ahead with a stolen manifest key is undone by a root rotation with --reset-manifest-sequence")
    func sequenceResetByRotation() throws {
        let world = try SyncWorld.synced(records: 200)
        defer { world.remove() }
        let genuine = try Data(contentsOf: world.manifestURL)
        // The stolen key signs sequence 10^12; the terminal trusts it.
        try world.resign(with: try world.manifestKey) { $0.sequence = 1_000_000_000_000 }
        _ = try world.sync().syncOnce()
        #expect(try world.journal.trustFloor()?.manifestSequence == 1_000_000_000_000)
        // The center puts its own manifest back and publishes on: refused as a rollback...
        try world.replaceManifest(genuine)
        try world.editVehicles(add: ["RXA-1237"])
        try world.publish()
        #expect(world.failure(world.sync()) == .rollback)
        // ...until a rotation resets the floor to the last genuine sequence (and retires the key).
        let stolen = try world.manifestKey
        try CentralKeys.rotate(in: world.keys, now: world.clock.nowSeconds, validFor: 365 * 86_400, resetManifestSequence: 2)
        try world.editVehicles(add: ["RXA-1238"])
        try world.publish()
        let synced = try world.sync().syncOnce()
        #expect(synced.outcome == .updated)
        #expect(try world.plateOutcome("RXA-1238") == .hit)
        #expect(try world.journal.trustFloor()?.manifestSequence == synced.manifestSequence, "the floor was lowered, in the journal too")
        // The stolen key no longer vouches for anything.
        try world.resign(with: stolen) { $0.sequence = 2_000_000_000_000 }
        #expect(world.failure(world.sync()) == .badSignature)
    }

    @Test("an error page from the server never lands in a partial download; the resume after it completes the file")
    func errorPageKeptOut() throws {
        let world = try SyncWorld(records: 100)
        defer { world.remove() }
        let body = Data((0..<200_000).map { UInt8(truncatingIfNeeded: $0 &* 13) })
        try world.nginx.serve(body, as: "big.bin")
        let partial = world.dir.appendingPathComponent("big.partial")
        try body.prefix(50_000).write(to: partial)
        // The file is gone from the server: nginx answers the ranged GET with its 404 page.
        try FileManager.default.removeItem(at: world.servedFile("big.bin"))
        let url = "https://127.0.0.1:\(world.nginx.port)/big.bin"
        #expect { try world.transport().download(url, to: partial, expectedLength: Int64(body.count), expectedSHA256: SHA256Hex.of(body)) } throws: {
            ($0 as? SyncFailure)?.reason == .network
        }
        #expect(try Data(contentsOf: partial) == body.prefix(50_000), "the partial file is exactly what was downloaded before")
        try world.nginx.serve(body, as: "big.bin")
        let done = try world.transport().download(url, to: partial, expectedLength: Int64(body.count), expectedSHA256: SHA256Hex.of(body))
        #expect(done.resumedFrom == 50_000)
        #expect(try Data(contentsOf: partial) == body)
    }

    @Test("a 403 for the next root means none (object stores answer so); any other failure of the probe fails the sync")
    func rootProbeAnswers() throws {
        let world = try SyncWorld(records: 100)
        defer { world.remove() }
        try world.publish()
        let roots = world.nginx.root.appendingPathComponent("roots")
        try FileManager.default.createDirectory(at: roots, withIntermediateDirectories: true, attributes: [.posixPermissions: 0o755])
        // Unreadable to nginx's workers: 403.
        let next = roots.appendingPathComponent("2.root.json")
        try Data("{}".utf8).write(to: next)
        try FileManager.default.setAttributes([.posixPermissions: 0o600], ofItemAtPath: next.path)
        #expect(try world.sync().syncOnce().outcome == .updated)
        // A directory where the root should be: nginx redirects (301) — not "no root".
        try FileManager.default.removeItem(at: next)
        try FileManager.default.createDirectory(at: next, withIntermediateDirectories: true, attributes: [.posixPermissions: 0o755])
        #expect(world.failure(world.sync()) == .network)
    }

    @Test("a missing or invalid provisioned trust root is trust-root, not bad-format")
    func trustRootReason() throws {
        let world = try SyncWorld(records: 100)
        defer { world.remove() }
        try world.publish()
        try FileManager.default.removeItem(at: world.provisionedRoot)
        #expect(world.failure(world.sync()) == .trustRoot)
        try Data("not a root".utf8).write(to: world.provisionedRoot)
        #expect(world.failure(world.sync()) == .trustRoot)
    }

    @Test("staleness does not trust a wall clock set back: expired lists stay expired, judged by the last manifest's time plus monotonic time")
    func clockSetBack() throws {
        let world = try SyncWorld(records: 200)
        defer { world.remove() }
        try world.publish(validDays: 7)
        try world.sync().syncOnce()
        let checker = Checker(lists: world.lists, journal: world.journal, clock: world.clock)
        let context = try CheckContext(officerId: "OF-1", unitId: "U-1")
        #expect(try !checker.check(.plate("ABC-1235"), context: context).lists[0].version.stale)
        world.clock.advance(milliseconds: 8 * 86_400_000)
        #expect(try checker.check(.plate("ABC-1235"), context: context).lists[0].version.stale)
        // Somebody sets the clock back to the day of the sync.
        world.clock.setWall(milliseconds: (SyncWorld.start + 60) * 1000)
        let answer = try checker.check(.plate("ABC-1235"), context: context)
        #expect(answer.lists[0].version.stale, "still expired")
        #expect((answer.lists[0].version.ageSeconds ?? 0) >= 8 * 86_400)
    }

    @Test("sync-now during the backoff after a failure is refused with the wait; twenty requests make no extra attempt")
    func syncNowBackoff() async throws {
        let world = try SyncWorld(records: 100)
        defer { world.remove() }
        let clock = ManualClock(nowMilliseconds: (SyncWorld.start + 60) * 1000)
        let sync = ListsSync(.init(baseURL: "https://127.0.0.1:\(try LoopbackPort.free())/", provisionedRoot: world.provisionedRoot,
                                   workDirectory: world.state.url.appendingPathComponent("sync")),
                             transport: world.transport(), lists: world.lists, journal: world.journal, clock: clock,
                             schedule: RetryPolicy(interval: .seconds(3600), firstRetry: .seconds(120), maxRetry: .seconds(600)))
        let task = Task { await sync.run() }
        defer { task.cancel() }
        #expect(await eventuallyAsync(timeout: 20) { (try? world.journal.syncAttempts(limit: 5).count) == 1 })
        for _ in 0..<20 {
            let wait = try #require(sync.requestSync())
            #expect(wait > 0 && wait <= 120)
        }
        try await Task.sleep(for: .milliseconds(500))
        #expect(try world.journal.syncAttempts(limit: 5).count == 1, "no extra attempt")
        // The backoff over (by the terminal's monotonic clock), a sync-now is taken — and the next one within 10 s is not.
        clock.advance(milliseconds: 130_000)
        #expect(sync.requestSync() == nil)
        #expect(await eventuallyAsync(timeout: 20) { (try? world.journal.syncAttempts(limit: 5).count) == 2 })
        #expect(sync.requestSync() != nil)
    }
}
