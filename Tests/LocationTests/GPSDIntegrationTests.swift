import Foundation
import Location
import TerminalConfiguration
import TestSupport
import Testing
import Watchlist

/// Against a real gpsd fed by gpsfake (Tests/Fixtures/gps, written by make_tracks.py).
@Suite("Location from a real gpsd", .serialized, .timeLimit(.minutes(1)))
struct GPSDIntegrationTests {
    static func start(_ config: GPSSettings, _ recorder: Recorder) -> (LocationService, Task<Void, Never>) {
        let service = LocationService(config, onChange: { recorder.record($0) }, onFix: { recorder.record($0) })
        return (service, Task { await service.run() })
    }

    @Test("replayed drive: positions, 3D → 2D → 3D → no fix → 3D, then gpsd gone")
    func drive() async throws {
        let fake = try GPSFake(log: "drive.nmea")
        let recorder = Recorder()
        let (service, task) = Self.start(.init(port: "\(fake.port)", maxFixAge: 5, maxTimeSkew: GPSFake.replaySkew), recorder)
        defer { task.cancel() }
        // gpsfake does not exit at the end of its log while a client is connected: wait for
        // the track's last second (08:02:59), then take gpsd down.
        #expect(await eventuallyAsync(timeout: 40) { recorder.fixHistory.last?.time.hasPrefix("2026-11-26T08:02:59") == true })
        fake.kill()
        #expect(await eventuallyAsync(timeout: 5) { service.state().status == .noGpsd })

        // Mode changes in the order of the track (each phase is many fixes; collapse repeats).
        var phases: [String] = []
        for s in recorder.statusHistory where ["2d", "3d", "no-fix"].contains(s) && phases.last != s { phases.append(s) }
        #expect(phases.contains(subsequence: ["3d", "2d", "3d", "no-fix", "3d"]), "\(phases)")

        let fixes = recorder.fixHistory
        #expect(fixes.count > 100)
        // No fix with a position during the no-fix stretch (t = 110…139 s after 08:00:00).
        let start = fixes.first { $0.time.hasPrefix("2026-11-26T08:00:") }?.timeSeconds.rounded(.down) ?? 0
        let base = start - start.truncatingRemainder(dividingBy: 3600)   // 08:00:00
        #expect(!fixes.contains { (110..<140).contains($0.timeSeconds - base) })
        // 2D fixes carry no altitude; 3D fixes carry the track's 12.3 m MSL.
        let twoD = fixes.filter { $0.mode == .twoD }
        #expect(!twoD.isEmpty)
        #expect(twoD.allSatisfy { $0.altitudeMSL == nil && $0.altitudeHAE == nil })
        // Altitude is the track's 12.3 m or absent (the second the receiver changes mode),
        // never a made-up 0.
        let threeD = fixes.filter { $0.mode == .threeD }
        #expect(threeD.allSatisfy { $0.altitudeMSL == nil || $0.altitudeMSL == 12.3 })
        #expect(threeD.filter { $0.altitudeMSL == 12.3 }.count >= threeD.count * 9 / 10)
        // The car starts at Taipei 101 heading east at 12 m/s.
        let first = try #require(fixes.first { $0.mode == .threeD })
        let origin = Fix(time: "", timeSeconds: 0, mode: .threeD, latitude: 25.033964, longitude: 121.564472)
        #expect(first.distance(to: origin) < 12 * (first.timeSeconds - base) + 20)
        #expect(abs((first.speed ?? 0) - 12) < 0.2)
        let last = try #require(fixes.last)
        #expect(last.latitude > first.latitude && last.longitude > first.longitude)
    }

    @Test("mpolicectl location --gpsd prints the documented JSON")
    func cli() async throws {
        let fake = try GPSFake(log: "drive.nmea", cycle: 0.05, once: false)
        defer { fake.kill() }
        let bin = ProcessInfo.processInfo.environment["MPOLICE_BIN_DIR"].map { URL(fileURLWithPath: $0) }
            ?? URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
                .deletingLastPathComponent().appendingPathComponent(".build/debug")
        let process = Process()
        process.executableURL = bin.appendingPathComponent("mpolicectl")
        process.arguments = ["location", "--gpsd", "127.0.0.1:\(fake.port)", "--timeout", "15", "--json"]
        let pipe = Pipe()
        process.standardOutput = pipe
        try process.run()
        let data = pipe.fileHandleForReading.readDataToEndOfFile()
        process.waitUntilExit()
        #expect(process.terminationStatus == 0)
        let state = try JSONDecoder().decode(LocationState.self, from: data)
        #expect(state.hasCurrentFix)
        #expect(state.gpsd == "127.0.0.1:\(fake.port)")
        #expect(abs((state.lastFix?.latitude ?? 0) - 25.034) < 0.02)
    }

    @Test("gpsd killed mid-stream: state says so, and fixes resume within 5 s of its return")
    func reconnect() async throws {
        let fake = try GPSFake(log: "drive.nmea", cycle: 0.05, once: false)
        let recorder = Recorder()
        let (service, task) = Self.start(.init(port: "\(fake.port)", maxFixAge: 5, maxTimeSkew: GPSFake.replaySkew), recorder)
        defer { task.cancel() }
        #expect(await eventuallyAsync(timeout: 15) { service.state().hasCurrentFix })
        fake.kill()
        #expect(await eventuallyAsync(timeout: 3) { service.state().status == .noGpsd })
        #expect(service.state().detail != nil)
        #expect(service.state().lastFix != nil, "the last position is kept while gpsd is down")
        try await Task.sleep(for: .seconds(2))
        let fixesBefore = recorder.fixHistory.count
        let again = try GPSFake(log: "drive.nmea", port: fake.port, cycle: 0.05, once: false)
        defer { again.kill() }
        let restarted = Date()
        #expect(await eventuallyAsync(timeout: 5) { recorder.fixHistory.count > fixesBefore })
        #expect(Date().timeIntervalSince(restarted) < 5)
        #expect(service.state().hasCurrentFix)
    }

    @Test("receiver claims 3D but sends no new fix: stale")
    func stale() async throws {
        let fake = try GPSFake(log: "stale.nmea", cycle: 0.05, once: true)
        // The log's fixes come first (120 sentences at 0.05 s: 6 s, so a client that connects
        // late on a loaded machine still sees some), then 150 GSA sentences with no position
        // or time: 7.5 s in which the receiver claims 3D and nothing new arrives.
        let recorder = Recorder()
        let (service, task) = Self.start(.init(port: "\(fake.port)", maxFixAge: 1, maxTimeSkew: GPSFake.replaySkew), recorder)
        defer { task.cancel(); fake.kill() }
        #expect(await eventuallyAsync(timeout: 15) { !recorder.fixHistory.isEmpty })
        #expect(await eventuallyAsync(timeout: 12) { service.state().status == .stale })
        #expect((service.state().fixAgeSeconds ?? 0) > 1)
    }

    @Test("a receiver reporting impossible dates (two years ahead): fixes are time-suspect, positions kept, none passed on")
    func impossibleTimes() async throws {
        let fake = try GPSFake(log: "skewed.nmea")
        let recorder = Recorder()
        let (service, task) = Self.start(.init(port: "\(fake.port)", maxFixAge: 5, maxTimeSkew: 30 * 86_400), recorder)
        defer { task.cancel(); fake.kill() }
        #expect(await eventuallyAsync(timeout: 20) { service.state().lastFix != nil })
        let state = service.state()
        #expect(state.timeSuspect, "\(state)")
        #expect(state.lastFix?.time.hasPrefix("2028-11-26") == true)
        #expect(state.forCheck.status == "time-suspect")
        #expect(state.forCheck.fixTime == nil)
        #expect(state.forCheck.latitude != nil)
        #expect(recorder.fixHistory.isEmpty, "no fix with a suspect time is passed on for breadcrumbs")
    }

    @Test("garbage and truncated NMEA produce no fix and do not stop the service")
    func garbage() async throws {
        let fake = try GPSFake(log: "garbage.nmea", cycle: 0.01)
        let recorder = Recorder()
        let (service, task) = Self.start(.init(port: "\(fake.port)", maxTimeSkew: GPSFake.replaySkew), recorder)
        defer { task.cancel() }
        #expect(await eventuallyAsync(timeout: 10) { ["no-device", "no-fix"].contains(service.state().status.rawValue) })
        try await Task.sleep(for: .seconds(4))   // 200 lines at 10 ms, with margin
        #expect(service.state().status != .noGpsd, "gpsd survived the garbage")
        fake.kill()
        #expect(await eventuallyAsync(timeout: 5) { service.state().status == .noGpsd })
        #expect(recorder.fixHistory.isEmpty)
        #expect(!recorder.statusHistory.contains("3d") && !recorder.statusHistory.contains("2d"))
    }

    @Test("gpsd without a receiver is reported as no device")
    func noDevice() async throws {
        let port = try LoopbackPort.free()
        let gpsd = Process()
        gpsd.executableURL = URL(fileURLWithPath: "/usr/sbin/gpsd")
        gpsd.arguments = ["-N", "-S", "\(port)", "-F", FileManager.default.temporaryDirectory.appendingPathComponent("gpsd-\(port).sock").path]
        gpsd.standardError = FileHandle.nullDevice
        try gpsd.run()
        defer { kill(gpsd.processIdentifier, SIGKILL); gpsd.waitUntilExit() }   // gpsd may sit out a SIGTERM
        let recorder = Recorder()
        let (service, task) = Self.start(.init(port: "\(port)"), recorder)
        defer { task.cancel() }
        #expect(await eventuallyAsync(timeout: 10) { service.state().status == .noDevice })
    }

    @Test("nothing listening: no gpsd, with the reason")
    func noGpsd() async throws {
        let recorder = Recorder()
        let port = try LoopbackPort.free()
        let (service, task) = Self.start(.init(port: "\(port)"), recorder)
        defer { task.cancel() }
        // The state starts as "not connected yet"; wait for the refused attempt's own reason.
        #expect(await eventuallyAsync(timeout: 3) { service.state().detail?.contains("127.0.0.1:\(port)") == true })
        #expect(service.state().status == .noGpsd)
    }

    @Test("cancelling run() stops the reader thread promptly")
    func cancel() async throws {
        let service = LocationService(.init(port: "\(try LoopbackPort.free())"))
        let task = Task { await service.run() }
        try await Task.sleep(for: .milliseconds(300))
        let started = Date()
        task.cancel()
        await task.value
        #expect(Date().timeIntervalSince(started) < 1)
    }
}

extension Array where Element: Equatable {
    func contains(subsequence: [Element]) -> Bool {
        guard subsequence.count <= count else { return false }
        return (0...(count - subsequence.count)).contains { Array(self[$0..<($0 + subsequence.count)]) == subsequence }
    }
}
