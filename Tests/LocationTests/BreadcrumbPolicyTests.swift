import Foundation
import Location
import TestSupport
import Testing
import Watchlist

@Suite("Breadcrumb policy")
struct BreadcrumbPolicyTests {
    @Test("interval and distance both, or the long interval alone")
    func policy() {
        let p = BreadcrumbPolicy(minInterval: 15, minDistance: 50, maxInterval: 300)
        #expect(p.shouldRecord(Fix.sample(0), after: nil))
        #expect(!p.shouldRecord(Fix.sample(10, north: 500), after: Fix.sample(0)), "too soon")
        #expect(!p.shouldRecord(Fix.sample(20, north: 10), after: Fix.sample(0)), "not far enough")
        #expect(p.shouldRecord(Fix.sample(20, north: 60), after: Fix.sample(0)))
        #expect(p.shouldRecord(Fix.sample(300), after: Fix.sample(0)), "parked units still report")
        #expect(p.shouldRecord(Fix.sample(5), after: Fix.sample(100)), "receiver time went back")
        var noFix = Fix.sample(400)
        noFix.mode = .noFix
        #expect(!p.shouldRecord(noFix, after: Fix.sample(0)))
    }
}
