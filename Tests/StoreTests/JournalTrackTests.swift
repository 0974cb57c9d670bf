import FieldWire
import Foundation
import Store
import TestSupport
import Testing
import Watchlist

/// The journal's local track and the position every check record carries.
@Suite("Journal: breadcrumbs and check positions")
struct JournalTrackTests {
    @Test("a long offline stretch stays bounded: older track thinned, newest always kept")
    func thinning() throws {
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("crumbs-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: dir) }
        let journal = try JournalStore.open(path: dir.appendingPathComponent("journal.db").path)
        for i in 0..<1_000 {
            try journal.appendBreadcrumb(BreadcrumbPayload(fixTime: "t\(i)", latitude: Double(i), longitude: 0, speed: nil,
                                                    track: nil, horizontalError: nil, mode: "3d"), maxStored: 100, now: Int64(i))
        }
        let kept = try journal.breadcrumbs()
        #expect(kept.count <= 100)
        #expect(kept.count >= 50)
        #expect(kept.last?.latitude == 999)
        #expect(kept.map(\.latitude) == kept.map(\.latitude).sorted(), "the track keeps its order")
        // Newer stretches are denser than older ones.
        let gaps = zip(kept.dropFirst(), kept).map { $0.latitude - $1.latitude }
        #expect(gaps.prefix(10).reduce(0, +) > gaps.suffix(10).reduce(0, +))
        // Reopening finds the same track: nothing lives only in memory.
        #expect(try JournalStore.open(path: dir.appendingPathComponent("journal.db").path).breadcrumbs() == kept)
    }

    @Test("a check records the last fix and its age; without a location service it says so")
    func checkCarriesLocation() throws {
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("lists-\(UUID().uuidString)")
        defer { try? FileManager.default.removeItem(at: dir) }
        let lists = try ListsStore.open(StateDirectory(path: dir.path))
        let state = LocationState(status: .fix3D, lastFix: Fix.sample(0, north: 100), fixAgeSeconds: 1.25, gpsd: "x:1")
        let checker = Checker(lists: lists, journal: try .inMemory(), location: { state.forCheck })
        let context = try CheckContext(officerId: "OF-1", unitId: "U-1")
        let answer = try checker.check(.plate("ABC-1235"), context: context)
        #expect(answer.location.status == "3d")
        #expect(answer.location.ageSeconds == 1.25)
        let record = try #require(try checker.journal.recentChecks().first)
        #expect(record.location.status == "3d")
        #expect(record.location.ageSeconds == 1.3 || record.location.ageSeconds == 1.2, "rounded to a tenth")
        #expect((25.000..<25.001).contains(record.location.latitude ?? 0))

        let offline = Checker(lists: lists, journal: try .inMemory())
        _ = try offline.check(.plate("ABC-1235"), context: context)
        #expect(try offline.journal.recentChecks().first?.location == CheckLocation(status: "not-available"))
    }
}
