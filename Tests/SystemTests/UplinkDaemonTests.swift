import FieldWire
import Central
import Foundation
import LocalAPIClient
import Store
import TestSupport
import Testing

/// The whole daemon with its uplink: checks answered over the socket reach the center
/// exactly once across kill -9; dispatches arrive on the event stream, also after the link
/// was down; status changes made offline arrive in order.
@Suite("mpoliced uplink", .serialized)
struct UplinkDaemonTests {
    @Test("kill -9 at random moments during uploads, 20 times: every answered check is at the center exactly once, kills between the center's commit and the terminal's delete included")
    func killDuringUpload() throws {
        let world = try UplinkWorld()
        defer { world.stop() }
        let (scratch, state) = try DaemonTests.state(records: 500)
        defer { scratch.remove() }
        // Slow the link so that uploads are under way when the kill comes, and the center's
        // answers slower still: a kill then often lands after the center stored a batch and
        // before the terminal heard so and deleted it.
        world.proxy.mode = .delay(milliseconds: 4)
        world.backend.mode = .delay(milliseconds: 40)
        var answered: [String] = []
        var killedWithItemsQueued = 0
        for round in 0..<20 {
            let dir = try scratch.url.appendingPathComponent("r\(round)").creatingDirectory()
            let daemon = try DaemonProcess(in: dir, stateDirectory: state, extra: world.daemonConfig(batchItems: 10))
            try daemon.start()
            #expect(try daemon.client.signIn().status == 201)
            for i in 0..<40 {
                let answer = try daemon.client.json("POST", "/v1/checks/plate", ["plate": String(format: "K%02d-%04d", round, i)])
                if answer.status == 200, let id = answer.object["checkId"] as? String { answered.append(id) }
            }
            usleep(UInt32.random(in: 0..<150_000))
            kill(daemon.process.processIdentifier, SIGKILL)
            daemon.process.waitUntilExit()
            let journal = try JournalStore.open(path: StateDirectory(path: state.path).journalPath)
            if try journal.outboxStatus(now: 0).pending > 0 { killedWithItemsQueued += 1 }
        }
        #expect(answered.count == 800)
        #expect(killedWithItemsQueued >= 5, "only \(killedWithItemsQueued) of 20 kills found items still queued")

        // Restarted on a good link, the daemon delivers the rest.
        world.proxy.mode = .pass
        world.backend.mode = .pass
        let daemon = try DaemonProcess(in: try scratch.url.appendingPathComponent("final").creatingDirectory(), stateDirectory: state,
                                       extra: world.daemonConfig())
        try daemon.start()
        let drained = try eventually(timeout: 60) {
            let outbox = try daemon.client.json("GET", "/v1/status").object["outbox"] as? [String: Any]
            return outbox?["pending"] as? Int == 0
        }
        #expect(drained, "\(daemon.log)")
        #expect(daemon.stop().status == 0)

        let ids = try world.records(kind: "check").compactMap { $0["id"] as? String }
        #expect(ids.count == answered.count, "the center holds \(ids.count) check records for \(answered.count) answered checks")
        #expect(Set(ids).count == ids.count)
        #expect(Set(ids) == Set(answered))
        // A duplicate answer means the item was stored, its answer never reached a terminal
        // that lived to delete it: a kill landed between the commit and the delete.
        let deliveries = try world.deliveries()
        let accepted = deliveries.filter { $0.status == "accepted" }.map(\.id)
        let resentAfterCommit = Set(deliveries.filter { $0.status == "duplicate" }.map(\.id))
        #expect(accepted.count == Set(accepted).count, "each item accepted once")
        print("kill -9 during uploads: \(killedWithItemsQueued) of 20 kills found items queued; \(resentAfterCommit.count) items resent after the center had stored them")
        #expect(!resentAfterCommit.isEmpty, "no kill landed between the center's commit and the terminal's delete")
    }

    @Test("health reports reach the center: one soon after start, one on diag --upload; the fleet view lists the unit; no daemon, no upload")
    func healthReports() throws {
        let world = try UplinkWorld()
        defer { world.stop() }
        let (scratch, daemon) = try DaemonProcess.started(records: 500, extra: world.daemonConfig())
        defer { scratch.remove() }
        let config = daemon.dir.appendingPathComponent("mpoliced.conf").path
        func reports() throws -> [[String: Any]] { try world.records(kind: "health").compactMap { $0["payload"] as? [String: Any] } }
        #expect(try eventually(timeout: 15) { try reports().count == 1 }, "the daily report, soon after start")
        #expect(try reports().first?["trigger"] as? String == "daily")

        let diag = try Programs.run("mpolicectl", ["diag", "--upload", "--json", "--config", config, "--socket", daemon.socketPath])
        let answer = try JSONSerialization.jsonObject(with: Data(diag.stdout.utf8)) as? [String: Any] ?? [:]
        let sent = try #require(answer["healthReport"] as? [String: Any], "\(diag.stdout) \(diag.stderr)")
        #expect(sent["trigger"] as? String == "diag" && sent["unitId"] as? String == "TPE-DA-01")
        #expect(try eventually(timeout: 15) { try reports().count == 2 })
        #expect(try reports().last?["reportId"] as? String == sent["reportId"] as? String)
        #expect(try reports().last?["certificateExpiresAt"] as? String != nil, "the device certificate's expiry")

        let fleet = try Programs.run("mpolice-central", ["fleet", "--db", world.databasePath, "--json"])
        let units = try JSONSerialization.jsonObject(with: Data(fleet.stdout.utf8)) as? [[String: Any]] ?? []
        let unit = try #require(units.first { $0["unit"] as? String == "TPE-DA-01" }, "\(fleet.stdout)")
        #expect((unit["report"] as? [String: Any])?["reportId"] as? String == sent["reportId"] as? String)

        _ = daemon.stop()
        let down = try Programs.run("mpolicectl", ["diag", "--upload", "--json", "--config", config, "--socket", daemon.socketPath])
        #expect(down.status == 2)
        #expect(down.stdout.contains("healthReportError"))
    }

    @Test("a dispatch shows on the event stream within 2 s; one made while the link is down arrives after; offline status changes arrive in order")
    func dispatchOnlineAndOffline() throws {
        let world = try UplinkWorld()
        defer { world.stop() }
        let (scratch, daemon) = try DaemonProcess.started(records: 500, extra: world.daemonConfig(dispatchWait: 5))
        defer { scratch.remove() }
        let env = ["MPOLICE_SOCKET": daemon.socketPath]
        #expect(try Programs.run("mpolicectl", ["signin", DemoRecords.officer.officerId], environment: env, input: DemoRecords.officer.pin + "\n").status == 0)
        let events = EventCollector(client: daemon.client)
        #expect(events.waitConnected(timeout: 5))
        // The first poll is open at the center before the dispatch is made (seen between
        // nginx and the center), so the dispatch must come down the open long poll.
        #expect(eventually(timeout: 10) { world.backend.requests(startingWith: "GET /uplink/dispatches") >= 1 })

        let first = try world.createDispatch(summary: "traffic collision, Zhongxiao W. Rd")
        let created = Date()
        #expect(events.wait(for: "dispatch-received", timeout: 2), "no dispatch-received within 2 s: \(events.text)")
        #expect(Date().timeIntervalSince(created) < 2.5)
        #expect(events.text.contains(first))
        let listed = try Programs.run("mpolicectl", ["dispatch", "list", "--json"], environment: env)
        #expect(listed.status == 0)
        #expect(listed.stdout.contains(#""status":"received""#) && listed.stdout.contains(first))

        // The link goes down: a new dispatch waits at the center, status changes wait in the outbox.
        world.proxy.mode = .down
        let second = try world.createDispatch(summary: "noise complaint")
        for step in [["en-route"], ["on-scene"], ["cleared", "--disposition", "driver cited, road cleared"]] {
            let run = try Programs.run("mpolicectl", ["dispatch", "status", first] + step, environment: env)
            #expect(run.status == 0, "\(step): \(run.stderr)")
        }
        let backwards = try Programs.run("mpolicectl", ["dispatch", "status", first, "en-route", "--json"], environment: env)
        #expect(backwards.status == 2, "a refused change is exit 2, as offline")
        #expect(backwards.stdout.contains("dispatch.invalid-transition"))
        // The daemon has tried the downed link again (a poll or an upload turned away)
        // without the second dispatch reaching it.
        let refusedBefore = world.proxy.refused.load(ordering: .relaxed)
        #expect(eventually(timeout: 15) { world.proxy.refused.load(ordering: .relaxed) > refusedBefore + 1 })
        #expect(!events.text.contains(second), "a dispatch arrived through a link that is down")
        let whileDown = try world.records(kind: "dispatch-status").filter { ($0["payload"] as? [String: Any])?["dispatchId"] as? String == first }
        #expect(whileDown.count == 1, "only the receipt went up before the link dropped")
        let status = try daemon.client.json("GET", "/v1/status").object
        #expect((status["outbox"] as? [String: Any])?["pending"] as? Int ?? 0 >= 3)

        // The link returns.
        world.proxy.mode = .pass
        #expect(events.wait(for: "dispatch-received", count: 2, timeout: 15), "\(events.text)")
        #expect(events.text.contains(second))
        // Clearing without saying what was done is refused as bad input.
        let noDisposition = try Programs.run("mpolicectl", ["dispatch", "status", second, "cleared", "--json"], environment: env)
        #expect(noDisposition.status == 2)
        #expect(noDisposition.stdout.contains("dispatch.disposition"))
        let arrived = try eventually(timeout: 15) {
            try world.records(kind: "dispatch-status").filter { ($0["payload"] as? [String: Any])?["dispatchId"] as? String == first }.count == 4
        }
        #expect(arrived)
        let changes = try world.records(kind: "dispatch-status")
            .compactMap { $0["payload"] as? [String: Any] }
            .filter { $0["dispatchId"] as? String == first }
        #expect(changes.map { $0["status"] as? String } == ["received", "en-route", "on-scene", "cleared"])
        #expect(changes.last?["disposition"] as? String == "driver cited, road cleared")
        #expect(changes.dropFirst().allSatisfy { $0["officerId"] as? String == "OF-0042" })

        let shown = try Programs.run("mpolicectl", ["dispatch", "show", first], environment: env)
        #expect(shown.status == 0)
        #expect(shown.stdout.contains("cleared — driver cited, road cleared"))
        // A dispatch poll is open at this moment; SIGTERM must not wait for it to time out.
        let stopped = daemon.stop()
        #expect(stopped.status == 0)
        #expect(stopped.seconds < 5, "stopping took \(stopped.seconds) s with a long poll open")
    }
}

extension EventCollector {
    func wait(for event: String, count: Int, timeout: Double) -> Bool {
        let deadline = Date().addingTimeInterval(timeout)
        while Date() < deadline {
            if text.components(separatedBy: "event: \(event)").count - 1 >= count { return true }
            usleep(50_000)
        }
        return false
    }
}
