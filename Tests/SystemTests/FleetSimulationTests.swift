import Foundation
import TestSupport
import Testing

/// The fleet simulator against the real center on PostgreSQL behind nginx with mutual TLS,
/// the database restarted in the middle: uploads fail over to retries, and afterwards the
/// center holds every item generated exactly once (counted and compared).
@Suite("Fleet simulation against the center on PostgreSQL", .serialized)
struct FleetSimulationTests {
    struct Report: Decodable {
        var terminals: Int
        var itemsGenerated: Int
        var itemsAcknowledged: Int
        var itemsPending: Int
        var rejected: Int
        var uploadFailures: Int
        var pollFailures: Int
        var longPollsHeldMin: Int
        var longPollsHeldMedian: Int
        var manifestFetches: Int
        var manifestNotModified: Int
        var uploadP99Ms: Double
    }

    @Test("60 terminals, PostgreSQL restarted mid-run: uploads retried, every item stored exactly once, the long polls held again")
    func restartMidRun() throws {
        let world = try FleetWorld(terminals: 60)
        defer { world.stop() }
        let generated = world.scratch.url.appendingPathComponent("generated.txt")
        let simulate = Process()
        simulate.executableURL = Programs.binDirectory.appendingPathComponent("mpolice-central")
        simulate.arguments = world.simulateArguments(seconds: 40, ramp: 5, generated: generated)
            + ["--check-interval", "15", "--manifest-interval", "10", "--poll-wait", "10", "--drain", "90"]
        // A file, not a pipe: the restarted server inherits this process's descriptors, and a
        // pipe would never reach its end.
        let reportFile = world.scratch.url.appendingPathComponent("report.json")
        FileManager.default.createFile(atPath: reportFile.path, contents: nil)
        simulate.standardOutput = try FileHandle(forWritingTo: reportFile)
        simulate.standardError = FileHandle.nullDevice
        try simulate.run()

        Thread.sleep(forTimeInterval: 15)
        try world.cluster.stop()
        Thread.sleep(forTimeInterval: 6)
        try world.cluster.start()
        simulate.waitUntilExit()

        let report = try JSONDecoder().decode(Report.self, from: Data(contentsOf: reportFile))
        #expect(simulate.terminationStatus == 0)
        #expect(report.itemsPending == 0)
        #expect(report.rejected == 0)
        #expect(report.uploadFailures > 0, "the restart was seen: uploads failed and were retried")
        #expect(report.itemsGenerated > 60 * 2)
        #expect(report.longPollsHeldMedian == 60)
        #expect(report.manifestNotModified > 0, "conditional manifest fetches answered 304")
        // Count and compare: everything generated is stored, once (the unique key forbids a second).
        let sent = try String(contentsOf: generated, encoding: .utf8).split(separator: "\n").map(String.init).sorted()
        let stored = try world.storedItems()
        #expect(sent.count == report.itemsGenerated)
        #expect(stored.count == sent.count, "stored \(stored.count) of \(sent.count)")
        #expect(stored == sent, "the first difference: \(zip(stored, sent).first { $0 != $1 }.map { "\($0) / \($1)" } ?? "-")")
        let log = try String(contentsOf: world.centralLog, encoding: .utf8)
        #expect(log.contains("poll waker"), "the center noticed the database going and coming back")
    }

}
