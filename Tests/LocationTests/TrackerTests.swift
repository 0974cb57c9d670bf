import Foundation
@testable import Location
import Testing
import Watchlist

@Suite("Location state machine")
struct TrackerTests {
    static func fix(_ t: Double, _ mode: Fix.Mode = .threeD) -> Fix {
        Fix(time: "t\(t)", timeSeconds: t, mode: mode, latitude: 25.03, longitude: 121.56)
    }

    /// The terminal's clock in these tests: the fixes' own times are near it.
    static let fixClock: Double = 100

    @Test("a fix whose own time is far from the terminal's clock is time-suspect: its position is kept, its time not passed on")
    func timeSuspect() {
        var t = LocationTracker(gpsd: "x:1", maxFixAge: 10, maxTimeSkew: 3_600)
        t.didConnect()
        let rollover = 1_795_700_000.0 - 1024 * 7 * 86_400   // GPS week rollover: 19.6 years early
        t.received(.init(mode: .threeD, fix: Self.fix(rollover)), at: 1, wallClock: 1_795_700_000)
        let state = t.state(at: 1.5)
        #expect(state.status == .fix3D)
        #expect(state.timeSuspect)
        let recorded = state.forCheck
        #expect(recorded.status == "time-suspect")
        #expect(recorded.fixTime == nil)
        #expect(recorded.latitude == 25.03)
        #expect(recorded.ageSeconds == 0.5)
        // The receiver recovers: the next fix is current.
        t.received(.init(mode: .threeD, fix: Self.fix(1_795_700_001)), at: 2, wallClock: 1_795_700_001)
        #expect(!t.state(at: 2).timeSuspect)
        #expect(t.state(at: 2).forCheck.status == "3d")
    }

    @Test("no gpsd, then no device, then no fix, 3D, 2D")
    func transitions() {
        var t = LocationTracker(gpsd: "127.0.0.1:2947", maxFixAge: 5)
        #expect(t.state(at: 0).status == .noGpsd)
        t.disconnected("connection refused")
        #expect(t.state(at: 0).detail == "connection refused")
        t.didConnect()
        t.received(.init(deviceCount: 0), at: 1, wallClock: Self.fixClock)
        #expect(t.state(at: 1).status == .noDevice)
        t.received(.init(deviceCount: 1), at: 2, wallClock: Self.fixClock)
        #expect(t.state(at: 2).status == .noFix)
        t.received(.init(mode: .threeD, fix: Self.fix(100)), at: 3, wallClock: Self.fixClock)
        #expect(t.state(at: 3).status == .fix3D)
        #expect(t.state(at: 3).lastFix?.timeSeconds == 100)
        t.received(.init(mode: .twoD, fix: Self.fix(101, .twoD)), at: 4, wallClock: Self.fixClock)
        #expect(t.state(at: 4).status == .fix2D)
        t.received(.init(mode: .noFix), at: 5, wallClock: Self.fixClock)
        let noFix = t.state(at: 5)
        #expect(noFix.status == .noFix)
        #expect(noFix.lastFix?.timeSeconds == 101, "the last position is kept, with its age")
        #expect(noFix.fixAgeSeconds == 1)
    }

    @Test("a fix whose own time does not move on turns stale by the monotonic clock")
    func stale() {
        var t = LocationTracker(gpsd: "x:1", maxFixAge: 5)
        t.didConnect()
        t.received(.init(deviceCount: 1, mode: .threeD, fix: Self.fix(100)), at: 0, wallClock: Self.fixClock)
        // gpsd repeating the same fix is not news.
        t.received(.init(mode: .threeD, fix: Self.fix(100)), at: 4, wallClock: Self.fixClock)
        #expect(t.state(at: 4.9).status == .fix3D)
        #expect(t.state(at: 5.1).status == .stale)
        #expect(t.state(at: 5.1).fixAgeSeconds == 5.1)
        t.received(.init(mode: .threeD, fix: Self.fix(106)), at: 6, wallClock: Self.fixClock)
        #expect(t.state(at: 6).status == .fix3D)
    }

    @Test("a receiver that claims 3D but never gave a position has no fix")
    func modeWithoutPosition() {
        var t = LocationTracker(gpsd: "x:1", maxFixAge: 5)
        t.didConnect()
        t.received(.init(deviceCount: 1, mode: .threeD), at: 0, wallClock: Self.fixClock)
        #expect(t.state(at: 1).status == .noFix)
        #expect(t.state(at: 1).lastFix == nil)
    }

    @Test("losing gpsd says so but keeps the last fix")
    func lost() {
        var t = LocationTracker(gpsd: "x:1", maxFixAge: 5)
        t.didConnect()
        t.received(.init(deviceCount: 1, mode: .threeD, fix: Self.fix(100)), at: 0, wallClock: Self.fixClock)
        t.disconnected("gpsd closed the connection")
        let s = t.state(at: 1)
        #expect(s.status == .noGpsd)
        #expect(s.lastFix != nil)
        #expect(!s.hasCurrentFix)
    }

    @Test("backoff doubles to its cap and resets on success")
    func backoff() {
        var b = ReconnectBackoff(initial: 0.25, maximum: 2, jitter: 0.1)
        #expect([b.failed(random: 0), b.failed(random: 0), b.failed(random: 0), b.failed(random: 0), b.failed(random: 0)] == [0.25, 0.5, 1, 2, 2])
        #expect(b.failed(random: 0.99) == 2, "jitter never pushes past the cap")
        b.succeeded()
        #expect(b.failed(random: 0.5) == 0.25 * 1.05)
    }

    @Test("haversine distance")
    func distance() {
        let a = Fix(time: "", timeSeconds: 0, mode: .threeD, latitude: 25.033964, longitude: 121.564472)
        var b = a
        b.latitude += 1.0 / 60   // one arc-minute north ≈ 1,853 m
        #expect(abs(a.distance(to: b) - 1_853) < 5)
    }
}
