@testable import Agent
import FieldWire
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

    @Test("while an emergency is active, a drive played in real time (1 fix/s) gives a breadcrumb every 2 s, first in the outbox, whatever the policy")
    func emergencyCadence() async throws {
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("emergency-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: dir) }
        let journal = try JournalStore.open(path: dir.appendingPathComponent("journal.db").path)
        // The policy alone would record one breadcrumb a minute here.
        let recorder = BreadcrumbRecorder(policy: .init(minInterval: 60, minDistance: 5_000, maxInterval: 600), journal: journal, clock: SystemClock())
        // drive.nmea has three sentences per fix: a third of a second apart is one fix a second.
        let fake = try GPSFake(log: "drive.nmea", cycle: 1.0 / 3, once: false)
        let seen = Recorder()
        let service = LocationService(GPSSettings(port: "\(fake.port)", maxTimeSkew: GPSFake.replaySkew), onFix: { seen.record($0); recorder.record($0) })
        let task = Task { await service.run() }
        defer { task.cancel(); fake.kill() }
        #expect(await eventuallyAsync(timeout: 15) { seen.fixHistory.count >= 2 })
        let (emergency, _) = try journal.raiseEmergency(officerId: "OF-0042", unitId: "TPE-DA-01", location: .notAvailable, now: SystemClock().nowMilliseconds)
        let start = seen.fixHistory.count
        #expect(await eventuallyAsync(timeout: 40) { seen.fixHistory.count >= start + 24 })
        _ = try journal.clearEmergency(by: "OF-0042", unitId: "TPE-DA-01", location: .notAvailable, now: SystemClock().nowMilliseconds)
        let fixes = seen.fixHistory.count - start

        let queued = try journal.dueOutboxItems(now: .max, maxItems: 1_000, maxBytes: 1 << 24).filter { $0.kind == .breadcrumb }
        let urgent = try queued.filter { $0.priority == 0 }.map { try WireJSON.decode(BreadcrumbPayload.self, from: Data($0.payload.utf8)) }
        #expect(urgent.allSatisfy { $0.emergencyId == emergency.emergencyId })
        // About one breadcrumb per two fixes, each 2 s of the drive after the one before.
        #expect(abs(urgent.count - fixes / 2) <= 2, "\(urgent.count) emergency breadcrumbs over \(fixes) fixes")
        let gaps = zip(urgent, urgent.dropFirst()).compactMap { a, b -> Int64? in
            guard let ta = Timestamp.milliseconds(iso8601: a.fixTime), let tb = Timestamp.milliseconds(iso8601: b.fixTime) else { return nil }
            return (tb - ta) / 1000
        }
        #expect(gaps.count >= 10)
        #expect(gaps.filter { $0 == 2 }.count * 10 >= gaps.count * 9, "gaps between emergency breadcrumbs (s): \(gaps)")
        #expect(gaps.allSatisfy { (2...3).contains($0) }, "\(gaps)")
        #expect(recorder.failureCount == 0)
    }
}
