@testable import Agent
import Foundation
import Location
import Store
import TerminalConfiguration
import TestSupport
import Testing
import Watchlist

/// Where Location meets Store: fixes from a real gpsd (fed by gpsfake) become breadcrumbs.
@Suite("Breadcrumbs from gpsd", .serialized, .timeLimit(.minutes(1)))
struct BreadcrumbRecorderTests {
    @Test("breadcrumbs from a real drive follow the policy")
    func breadcrumbs() async throws {
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("drive-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: dir) }
        let journal = try JournalStore.open(path: dir.appendingPathComponent("journal.db").path)
        let recorder = BreadcrumbRecorder(policy: .init(minInterval: 15, minDistance: 50, maxInterval: 300), journal: journal, clock: SystemClock())
        let fake = try GPSFake(log: "drive.nmea")
        let seen = Recorder()
        let service = LocationService(GPSSettings(port: "\(fake.port)", maxTimeSkew: GPSFake.replaySkew), onFix: { seen.record($0); recorder.record($0) })
        let task = Task { await service.run() }
        defer { task.cancel(); fake.kill() }
        #expect(await eventuallyAsync(timeout: 40) { seen.fixHistory.last?.time.hasPrefix("2026-11-26T08:02:59") == true })
        let crumbs = try journal.breadcrumbs()
        // 150 s with a position at 12 m/s: one breadcrumb per 15 s, give or take the edges.
        #expect((8...12).contains(crumbs.count), "\(crumbs.count)")
        #expect(recorder.failureCount == 0)
        for (a, b) in zip(crumbs, crumbs.dropFirst()) {
            let fa = Fix(time: a.fixTime, timeSeconds: 0, mode: .threeD, latitude: a.latitude, longitude: a.longitude)
            let fb = Fix(time: b.fixTime, timeSeconds: 0, mode: .threeD, latitude: b.latitude, longitude: b.longitude)
            #expect(fa.distance(to: fb) >= 50)
            #expect(a.fixTime < b.fixTime)
        }
    }

}
