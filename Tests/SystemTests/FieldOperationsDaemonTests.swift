import Central
import FieldWire
import Foundation
import LocalAPIClient
import Store
import TestSupport
import Testing
import Watchlist

/// Field operations through the whole stack: the daemon over its socket, the fault proxy,
/// nginx with client certificates, `mpolice-central serve`, and (for the breadcrumbs) a real
/// gpsd playing a drive.
@Suite("mpoliced field operations", .serialized)
struct FieldOperationsDaemonTests {
    static let pin = DemoRecords.officer.pin

    /// The center's items, read straight from its database (every 20 ms while waiting).
    static func centerItems(_ world: UplinkWorld) throws -> [UplinkDatabase.Record] {
        try UplinkDatabase(world.databasePath).records()
    }

    static func percentile(_ values: [Double], _ q: Double) -> Double {
        let sorted = values.sorted()
        return sorted[min(sorted.count - 1, Int((Double(sorted.count - 1) * q).rounded(.up)))]
    }

    @Test("an emergency reaches the center within 2 s (p99 of 20) on a live link; after an outage with 10,000 checks queued and the uploader backing off, it is the first item the center receives")
    func emergencyFirst() throws {
        let world = try UplinkWorld()
        defer { world.stop() }
        // Backoff as deep as a long outage makes it: 30 s doubling to 10 minutes.
        let config = world.daemonConfig(batchItems: 500).replacingOccurrences(of: "first_retry = 0.2", with: "first_retry = 30")
            .replacingOccurrences(of: "max_retry = 1", with: "max_retry = 600")
        let (scratch, daemon) = try DaemonProcess.started(records: 500, extra: config)
        defer { scratch.remove() }
        #expect(try daemon.client.signIn().status == 201)
        let events = EventCollector(client: daemon.client)
        #expect(events.waitConnected(timeout: 5))

        var latencies: [Double] = []
        for round in 0..<20 {
            let started = Date()
            let raised = try daemon.client.json("POST", "/v1/emergency")
            #expect(raised.status == 201, "round \(round): \(raised.object)")
            let id = try #require(raised.object["emergencyId"] as? String)
            let arrived = try eventually(timeout: 10, interval: 0.02) { try UplinkDatabase(world.databasePath).holds(unit: "TPE-DA-01", id: id) }
            #expect(arrived, "round \(round): the emergency did not reach the center")
            latencies.append(Date().timeIntervalSince(started))
            #expect(try daemon.client.json("POST", "/v1/emergency/cancel", ["pin": Self.pin]).status == 200)
        }
        let p99 = Self.percentile(latencies, 0.99)
        print("emergency enqueue → center on a live link: p50 \(Int(Self.percentile(latencies, 0.5) * 1000)) ms, p99 \(Int(p99 * 1000)) ms")
        #expect(p99 <= 2, "p99 \(p99) s")
        #expect(events.wait(for: "emergency-active", count: 20, timeout: 5) && events.wait(for: "emergency-cleared", count: 20, timeout: 5))
        // The center announced it and kept it flagged urgent.
        let log = (try? String(contentsOf: world.scratch.url.appendingPathComponent("central.log"), encoding: .utf8)) ?? ""
        #expect(log.components(separatedBy: "EMERGENCY: officer needs help, unit TPE-DA-01").count - 1 == 20, "\(log.suffix(2_000))")
        // The last cancel may still be on its way.
        #expect(try eventually(timeout: 10) { try world.records().filter { $0["urgent"] as? Bool == true }.count == 40 }, "20 raised and 20 cleared")
        #expect(eventually(timeout: 15) { ((try? daemon.client.json("GET", "/v1/status").object["outbox"] as? [String: Any])??["pending"] as? Int) == 0 })

        // The outage: the link drops, the uploader fails and backs off, 10,000 checks queue up.
        let before = try Self.centerItems(world).last?.receivedSeq ?? 0
        world.proxy.mode = .down
        let refused = world.proxy.refused.load(ordering: .relaxed)
        for i in 0..<10_000 {
            let answer = try daemon.client.json("POST", "/v1/checks/plate", ["plate": String(format: "QU-%04d", i)])
            if answer.status != 200 { Issue.record("check \(i): \(answer.status) \(answer.object)"); break }
        }
        #expect(eventually(timeout: 30) { world.proxy.refused.load(ordering: .relaxed) > refused }, "the uploader tried the downed link")
        let pending = (try daemon.client.json("GET", "/v1/status").object["outbox"] as? [String: Any])?["pending"] as? Int ?? 0
        #expect(pending >= 10_000, "\(pending) queued")
        let raised = try daemon.client.json("POST", "/v1/emergency")
        let id = try #require(raised.object["emergencyId"] as? String)
        // Retried every second while the link is down, not after the backoff.
        let refusedAtRaise = world.proxy.refused.load(ordering: .relaxed)
        #expect(eventually(timeout: 6) { world.proxy.refused.load(ordering: .relaxed) >= refusedAtRaise + 3 })
        world.proxy.mode = .pass
        let back = Date()
        #expect(try eventually(timeout: 10, interval: 0.02) { try UplinkDatabase(world.databasePath).holds(unit: "TPE-DA-01", id: id) })
        let afterLink = Date().timeIntervalSince(back)
        let received = try Self.centerItems(world).filter { $0.receivedSeq > before }
        #expect(received.first?.id == id, "first after the outage: \(received.first.map { "\($0.kind) \($0.id)" } ?? "nothing")")
        print("after the outage the emergency reached the center \(Int(afterLink * 1000)) ms after the link returned, first of \(pending + 1) items")
        #expect(afterLink <= 2.5, "\(afterLink) s after the link returned")
        // The rest follows in the same flush: nothing lost, the backoff does not hold it back.
        #expect(try eventually(timeout: 60) { try UplinkDatabase(world.databasePath).records(kind: .check).count >= 10_000 })
        #expect(try daemon.client.json("POST", "/v1/emergency/cancel", ["pin": Self.pin]).status == 200)
        #expect(daemon.stop().status == 0)
    }

    @Test("kill -9 during an active emergency, gpsd playing a drive: still active after the restart, its 2 s breadcrumbs resume; then --near dispatches this unit and report arrival has its times")
    func emergencySurvivesKill() throws {
        let world = try UplinkWorld()
        defer { world.stop() }
        let fake = try GPSFake(log: "drive.nmea", cycle: 1.0 / 3, once: false)
        defer { fake.kill() }
        let gps = "[gps]\ngpsd = 127.0.0.1:\(fake.port)\nmax_time_skew = \(Int(GPSFake.replaySkew))\n"
        let (scratch, state) = try DaemonTests.state(records: 500)
        defer { scratch.remove() }
        var daemon = try DaemonProcess(in: try scratch.url.appendingPathComponent("first").creatingDirectory(), stateDirectory: state,
                                       extra: world.daemonConfig() + "\n" + gps)
        try daemon.start()
        #expect(try daemon.client.signIn().status == 201)
        #expect(eventually(timeout: 20) { (try? daemon.client.json("GET", "/v1/location").object["status"] as? String) == "3d" })
        let raised = try daemon.client.json("POST", "/v1/emergency")
        let id = try #require(raised.object["emergencyId"] as? String)
        func crumbs() throws -> [BreadcrumbPayload] {
            try Self.centerItems(world).compactMap { r -> BreadcrumbPayload? in
                guard case .breadcrumb(let b) = r.payload, b.emergencyId == id else { return nil }
                return b
            }
        }
        #expect(try eventually(timeout: 20) { try crumbs().count >= 4 })
        kill(daemon.process.processIdentifier, SIGKILL)
        daemon.process.waitUntilExit()
        let beforeKill = try crumbs()

        daemon = try DaemonProcess(in: try scratch.url.appendingPathComponent("second").creatingDirectory(), stateDirectory: state,
                                   extra: world.daemonConfig() + "\n" + gps)
        try daemon.start()
        let shown = try daemon.client.json("GET", "/v1/emergency").object
        #expect((shown["active"] as? [String: Any])?["emergencyId"] as? String == id, "\(shown)")
        #expect(daemon.log.contains("an emergency is active"))
        #expect(try eventually(timeout: 20) { try crumbs().count >= beforeKill.count + 4 }, "breadcrumbs did not resume")
        let all = try crumbs()
        let gaps = zip(all, all.dropFirst()).compactMap { a, b in
            Timestamp.milliseconds(iso8601: b.fixTime).flatMap { tb in Timestamp.milliseconds(iso8601: a.fixTime).map { (tb - $0) / 1000 } }
        }
        // Every 2 s of the drive, except across the kill and restart (and the drive's loop back to its start).
        #expect(gaps.filter { $0 == 2 }.count >= gaps.count - 3, "gaps (s): \(gaps)")

        // The restart ended the session; root at the terminal is a technician, who cancels
        // without a PIN (an officer's PIN is the client path: FieldOperationsAPITests).
        let events = EventCollector(client: daemon.client)
        #expect(events.waitConnected(timeout: 5))
        let cancelled = try daemon.client.json("POST", "/v1/emergency/cancel", [:])
        #expect(cancelled.status == 200 && cancelled.object["clearedBy"] as? String == "technician", "\(cancelled.object)")
        #expect(events.wait(for: "emergency-cleared", timeout: 5))
        #expect(try daemon.client.signIn().status == 201)
        #expect(try eventually(timeout: 10) {
            try Self.centerItems(world).contains { if case .emergency(let e) = $0.payload { e.event == .cleared } else { false } }
        })

        // The nearest available unit: this one, by its latest breadcrumb (it says it is available).
        let env = ["MPOLICE_SOCKET": daemon.socketPath]
        #expect(try Programs.run("mpolicectl", ["unit-status", "available"], environment: env).status == 0)
        #expect(try eventually(timeout: 10) { try Self.centerItems(world).contains { $0.kind == .unitStatus } })
        let position = try #require(try Self.centerItems(world).compactMap { r -> BreadcrumbPayload? in
            if case .breadcrumb(let b) = r.payload { b } else { nil } }.last)
        let created = try Programs.run("mpolice-central", ["dispatch", "create", "--db", world.databasePath, "--near",
                                                           "\(position.latitude + 0.01),\(position.longitude)", "--summary", "robbery in progress",
                                                           "--priority", "urgent", "--address", "No. 1, Sec. 4, Ren'ai Rd",
                                                           "--incident-type", "robbery", "--callback", "0912-000-111"])
        #expect(created.status == 0, "\(created.stderr)")
        #expect(created.stderr.contains("nearest available unit: TPE-DA-01"), "\(created.stderr)")
        let dispatchId = created.stdout.trimmingCharacters(in: .whitespacesAndNewlines)
        #expect(eventually(timeout: 10) { (try? daemon.client.json("GET", "/v1/dispatches/\(dispatchId)").status) == 200 })
        let received = try daemon.client.json("GET", "/v1/dispatches/\(dispatchId)").object
        #expect(received["address"] as? String == "No. 1, Sec. 4, Ren'ai Rd" && received["callbackNumber"] as? String == "0912-000-111")
        // Busy with it, the unit is not chosen for the next call.
        let busy = try Programs.run("mpolice-central", ["dispatch", "create", "--db", world.databasePath, "--near",
                                                        "\(position.latitude),\(position.longitude)", "--summary", "second call"])
        #expect(busy.status == 1 && busy.stderr.contains("no available unit"), "\(busy.stderr)")
        for step in ["en-route", "on-scene"] {
            #expect(try Programs.run("mpolicectl", ["dispatch", "status", dispatchId, step], environment: env).status == 0)
        }
        #expect(try eventually(timeout: 10) {
            try UplinkDatabase(world.databasePath).dispatchReports().first { $0.id == dispatchId }?.onSceneAt != nil
        })
        let report = try Programs.run("mpolice-central", ["report", "arrival", "--db", world.databasePath, "--json"])
        #expect(report.status == 0)
        let arrival = try #require(try JSONSerialization.jsonObject(with: Data(report.stdout.utf8)) as? [String: Any])
        #expect((arrival["toOnScene"] as? [String: Any])?["count"] as? Int == 1, "\(report.stdout)")
        let status = try daemon.client.json("GET", "/v1/status").object
        #expect((status["unitStatus"] as? [String: Any])?["status"] as? String == "on-scene", "implied by the dispatch")
        #expect(daemon.stop().status == 0)
    }

    @Test("dispatch changes from the center: an update arrives as an event; a cancel made during an outage is reconciled when the link returns and the queued on-scene is answered dispatch.cancelled; a reassigned dispatch refuses changes")
    func dispatchChanges() throws {
        let world = try UplinkWorld()
        defer { world.stop() }
        let (scratch, daemon) = try DaemonProcess.started(records: 500, extra: world.daemonConfig(dispatchWait: 5))
        defer { scratch.remove() }
        let env = ["MPOLICE_SOCKET": daemon.socketPath]
        #expect(try daemon.client.signIn().status == 201)
        let events = EventCollector(client: daemon.client)
        #expect(events.waitConnected(timeout: 5))
        let id = try world.createDispatch(summary: "traffic collision")
        #expect(events.wait(for: "dispatch-received", timeout: 5))

        let update = try Programs.run("mpolice-central", ["dispatch", "update", id, "--db", world.databasePath, "--notes", "two cars, one injured",
                                                          "--address", "Zhongxiao W. Rd & Chongqing S. Rd", "--priority", "high"])
        #expect(update.status == 0, "\(update.stderr)")
        #expect(events.wait(for: "dispatch-updated", timeout: 3), "\(events.text)")
        let updated = try daemon.client.json("GET", "/v1/dispatches/\(id)").object
        #expect(updated["notes"] as? String == "two cars, one injured" && updated["priority"] as? String == "high")
        #expect(try Programs.run("mpolicectl", ["dispatch", "status", id, "en-route"], environment: env).status == 0)
        #expect(try eventually(timeout: 10) {
            try world.records(kind: "dispatch-status").contains { ($0["payload"] as? [String: Any])?["status"] as? String == "en-route" }
        })

        // The link drops; the officer arrives (queued); the center calls the dispatch off meanwhile.
        world.proxy.mode = .down
        #expect(try Programs.run("mpolicectl", ["dispatch", "status", id, "on-scene"], environment: env).status == 0)
        let cancel = try Programs.run("mpolice-central", ["dispatch", "cancel", id, "--db", world.databasePath, "--reason", "handled by the fire brigade"])
        #expect(cancel.status == 0, "\(cancel.stderr)")
        usleep(1_500_000)
        #expect(!events.text.contains("dispatch-cancelled"), "the cancel came through a link that is down")

        world.proxy.mode = .pass
        #expect(events.wait(for: "dispatch-cancelled", timeout: 15), "\(events.text)")
        #expect(try eventually(timeout: 15) {
            let history = try daemon.client.json("GET", "/v1/dispatches/\(id)").object["history"] as? [[String: Any]] ?? []
            return (history.last?["refused"] as? String)?.hasPrefix("dispatch.cancelled") == true
        })
        let shown = try Programs.run("mpolicectl", ["dispatch", "show", id], environment: env)
        #expect(shown.stdout.contains("status     cancelled"), "\(shown.stdout)")
        #expect(shown.stdout.contains("REFUSED by the center: dispatch.cancelled"), "\(shown.stdout)")
        #expect(shown.stdout.contains("cancelled by the center: handled by the fire brigade"), "\(shown.stdout)")
        let atCenter = try world.records(kind: "dispatch-status").compactMap { $0["payload"] as? [String: Any] }.filter { $0["dispatchId"] as? String == id }
        #expect(atCenter.map { $0["status"] as? String } == ["received", "en-route"])
        let after = try daemon.client.json("POST", "/v1/dispatches/\(id)/status", ["status": "cleared", "disposition": "x"])
        #expect(after.status == 409 && (after.object["error"] as? [String: Any])?["code"] as? String == "dispatch.cancelled")
        let unit = try daemon.client.json("GET", "/v1/status").object["unitStatus"] as? [String: Any]
        #expect(unit?["status"] as? String == "available", "the cancel freed the unit: \(unit ?? [:])")

        // Reassigned to another unit: closed here.
        let second = try world.createDispatch(summary: "shoplifting")
        #expect(events.wait(for: "dispatch-received", count: 2, timeout: 10))
        let reassign = try Programs.run("mpolice-central", ["dispatch", "reassign", second, "--db", world.databasePath, "--to", "TPE-DA-02"])
        #expect(reassign.status == 0, "\(reassign.stderr)")
        #expect(events.wait(for: "dispatch-reassigned", timeout: 10))
        let refused = try daemon.client.json("POST", "/v1/dispatches/\(second)/status", ["status": "en-route"])
        #expect((refused.object["error"] as? [String: Any])?["code"] as? String == "dispatch.reassigned")
        let list = try Programs.run("mpolice-central", ["dispatch", "list", "--db", world.databasePath, "--json"])
        let reports = try JSONSerialization.jsonObject(with: Data(list.stdout.utf8)) as? [[String: Any]] ?? []
        #expect(reports.first { $0["id"] as? String == second }?["unit"] as? String == "TPE-DA-02")
        #expect(daemon.stop().status == 0)
    }
}
