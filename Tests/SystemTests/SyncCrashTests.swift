import Central
import FieldSync
import FieldWire
import Foundation
import Store
import TestSupport
import Testing
import Watchlist

/// kill -9 of `mpolicectl sync` while it applies a delta and while it builds and swaps in a
/// snapshot generation — each kill triggered by the progress the sync reports: at random
/// moments while records are written, and at every step of the apply (held there by the
/// debug build's pause hook so the kill lands exactly there). Afterwards SQLite's
/// integrity_check is ok, the lists are exactly the old or the new version (their content
/// digest says so), and the next sync completes. The test prints where each kill landed.
@Suite("Sync survives kill -9 during apply", .serialized)
struct SyncCrashTests {
    /// Where a run's kill is aimed.
    enum Target: CustomStringConvertible {
        /// A random moment while records are written (after "applying" shows).
        case records
        /// Held at this step of the apply (`MPOLICE_TEST_PAUSE_AT`), killed when its line shows.
        case step(String)

        var description: String {
            switch self {
            case .records: "records"
            case .step(let name): name
            }
        }

        /// What the sync prints (stderr, one line per phase) when the target is reached.
        var line: String {
            switch self {
            case .records: "applying"
            case .step("deltas-written"): "deltas written"
            case .step(let name): "lists generation: \(name)"
            }
        }
    }

    static let plans: [String: [Target]] = [
        "delta": Array(repeating: .records, count: 6) + Array(repeating: .step("deltas-written"), count: 2),
        "snapshot": Array(repeating: .records, count: 6)
            + GenerationStep.allCases.flatMap { step in Array(repeating: Target.step(step.rawValue), count: 2) },
    ]

    /// Starts `mpolicectl sync`; the semaphore is signalled when it prints `line` (or closes
    /// its stderr).
    static func startSync(_ arguments: [String], until line: String = "applying", pauseAt: String? = nil) throws -> (Process, DispatchSemaphore) {
        let process = Process()
        process.executableURL = Programs.binDirectory.appendingPathComponent("mpolicectl")
        process.arguments = arguments
        if let pauseAt {
            process.environment = ProcessInfo.processInfo.environment.merging(["MPOLICE_TEST_PAUSE_AT": pauseAt]) { $1 }
        }
        let err = Pipe()
        process.standardError = err
        process.standardOutput = FileHandle.nullDevice
        let applying = DispatchSemaphore(value: 0)
        let reader = err.fileHandleForReading
        let buffer = LineBuffer(awaiting: line)
        reader.readabilityHandler = { handle in
            let data = handle.availableData
            if data.isEmpty {
                handle.readabilityHandler = nil
                applying.signal()
                return
            }
            if buffer.append(data) { applying.signal() }
        }
        try process.run()
        return (process, applying)
    }

    final class LineBuffer: @unchecked Sendable {
        private let lock = NSLock()
        private let awaiting: String
        private var text = ""
        private var seen = false

        init(awaiting: String) { self.awaiting = awaiting }

        /// True the first time the awaited text appears.
        func append(_ data: Data) -> Bool {
            lock.withLock {
                text += String(decoding: data, as: UTF8.self)
                guard !seen, text.contains(awaiting) else { return false }
                seen = true
                return true
            }
        }
    }

    /// Runs each scenario: a reference run measures how long the apply takes, then each
    /// crash run copies the v1 template, starts the sync and kills -9 at its target: a random
    /// part of the apply time after "applying", or the moment it holds at a step.
    @Test("kill -9 while records are written and at every step of a delta apply and a snapshot swap leaves old or new lists, never a mix",
          arguments: [("delta", 30), ("snapshot", 0)])
    func crash(scenario: String, keepDeltas: Int) throws {
        // One published directory per scenario under one nginx.
        let center = try PublishedCenter(records: 30_000, seed: 3)
        defer { center.stop() }
        let v1 = try center.publish(scenario: scenario, keepDeltas: keepDeltas)
        let template = center.scratch.url.appendingPathComponent("template")
        let first = try Programs.run("mpolicectl", center.syncArguments(state: template, scenario: scenario))
        try #require(first.status == 0, "first sync: \(first.stderr)")
        // Every seventh vehicle dropped, every third of the rest recoloured: about 8,400 changes.
        try StolenVehicleEdits.apply(to: center.dataset) { i, _, _ in i % 7 == 3 ? .drop : i % 3 == 0 ? .recolour : .keep }
        let v2 = try center.publish(scenario: scenario, keepDeltas: keepDeltas)
        let method = keepDeltas > 0 ? "deltas" : "snapshot"

        // Reference: the whole apply, uninterrupted.
        let reference = center.scratch.url.appendingPathComponent("reference")
        try FileManager.default.copyItem(at: template, to: reference)
        let (refProcess, refApplying) = try Self.startSync(center.syncArguments(state: reference, scenario: scenario))
        refApplying.wait()
        let applyStart = Date()
        refProcess.waitUntilExit()
        let applySeconds = Date().timeIntervalSince(applyStart)
        #expect(refProcess.terminationStatus == 0)
        let refVersions = try ListsStore.open(StateDirectory(path: reference.path)).versions()
        #expect(refVersions[.stolenVehicles]?.version == 2)

        var outcomes: [String: Int] = [:]
        for (run, target) in Self.plans[scenario]!.enumerated() {
            let state = center.scratch.url.appendingPathComponent("run-\(run)")
            try FileManager.default.copyItem(at: template, to: state)
            let pauseAt: String? = if case .step(let name) = target { name } else { nil }
            let (process, reached) = try Self.startSync(center.syncArguments(state: state, scenario: scenario), until: target.line, pauseAt: pauseAt)
            reached.wait()
            if case .records = target { usleep(UInt32(Double.random(in: 0...(applySeconds * 0.9)) * 1_000_000)) }
            kill(process.processIdentifier, SIGKILL)
            process.waitUntilExit()
            let killed = process.terminationReason == .uncaughtSignal
            if case .step = target { #expect(killed, "run \(run): held at \(target), it must die there") }

            // integrity_check by the sqlite3 shell on the file the link names.
            let directory = StateDirectory(path: state.path)
            let file = try #require(try directory.currentListsFile())
            let integrity = try Programs.system("/usr/bin/sqlite3", [file.path, "PRAGMA integrity_check"]).stdout
            #expect(integrity.trimmingCharacters(in: .whitespacesAndNewlines) == "ok", "run \(run)")

            // Exactly v1 or v2: version, count and recomputed digest agree with that manifest.
            let lists = try ListsStore.open(directory)
            let version = try #require(try lists.versions()[.stolenVehicles]?.version)
            #expect(version == 1 || version == 2, "run \(run)")
            let expected = (version == 2 ? v2 : v1).lists[ListKind.stolenVehicles.rawValue]!
            let recomputed = try lists.recomputeDigests()[.stolenVehicles]!
            #expect(recomputed.digest == expected.digest, "run \(run): records match version \(version)")
            #expect(recomputed.count == expected.recordCount, "run \(run)")
            outcomes[killed ? "killed at \(target) → v\(version)" : "finished → v\(version)", default: 0] += 1

            // The next sync completes and leaves one generation behind.
            let again = try Programs.run("mpolicectl", center.syncArguments(state: state, scenario: scenario) + ["--json"])
            #expect(again.status == 0, "run \(run): \(again.stderr)")
            #expect(try ListsStore.open(directory).versions()[.stolenVehicles]?.version == 2)
            let generations = try FileManager.default.contentsOfDirectory(atPath: state.path).filter { $0.hasPrefix("lists-") && $0.hasSuffix(".db") }
            #expect(generations.count == 1, "run \(run): \(generations)")
            if version == 1 { #expect(again.stdout.contains(#""\#(ListKind.stolenVehicles.rawValue)":"\#(method)""#)) }
            try? FileManager.default.removeItem(at: state)
        }
        print("\(scenario): apply \(String(format: "%.0f", applySeconds * 1000)) ms; kills by phase: \(outcomes.sorted { $0.key < $1.key })")
        #expect(outcomes.keys.contains { $0.hasPrefix("killed at records") }, "some kills landed while records were written")
        for case .step(let name) in Self.plans[scenario]! {
            #expect(outcomes.keys.contains { $0.hasPrefix("killed at \(name) ") }, "a kill landed at \(name)")
        }
    }
}
