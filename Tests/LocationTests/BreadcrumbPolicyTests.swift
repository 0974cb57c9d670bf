import Foundation
import Location
import Testing
import Watchlist

@Suite("Breadcrumb policy")
struct BreadcrumbPolicyTests {
    static func fix(_ t: Double, north metres: Double = 0) -> Fix {
        Fix(time: "2026-11-26T08:00:00Z", timeSeconds: t, mode: .threeD,
            latitude: 25.0 + metres / 111_195, longitude: 121.5)
    }

    @Test("interval and distance both, or the long interval alone")
    func policy() {
        let p = BreadcrumbPolicy(minInterval: 15, minDistance: 50, maxInterval: 300)
        #expect(p.shouldRecord(Self.fix(0), after: nil))
        #expect(!p.shouldRecord(Self.fix(10, north: 500), after: Self.fix(0)), "too soon")
        #expect(!p.shouldRecord(Self.fix(20, north: 10), after: Self.fix(0)), "not far enough")
        #expect(p.shouldRecord(Self.fix(20, north: 60), after: Self.fix(0)))
        #expect(p.shouldRecord(Self.fix(300), after: Self.fix(0)), "parked units still report")
        #expect(p.shouldRecord(Self.fix(5), after: Self.fix(100)), "receiver time went back")
        var noFix = Self.fix(400)
        noFix.mode = .noFix
        #expect(!p.shouldRecord(noFix, after: Self.fix(0)))
    }
}
