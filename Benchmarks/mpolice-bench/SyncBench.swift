import Central
import FieldSync
import FieldWire
import Foundation
import Glibc
import Store
import TestSupport
import Watchlist

/// The sync figures: a full snapshot fetched from a loopback nginx (TLS, client
/// certificates) and applied, a 10,000-change delta onto the full lists, the delta's bytes on
/// the wire against uncompressed, and plate checks while a snapshot generation swaps in.
struct SyncBench {
    let work: URL
    let dataset: URL
    let plates: PlateMix

    func run(into results: inout Results, importSeconds: Double) throws {
        let keys = work.appendingPathComponent("keys")
        let now = Int64(Date().timeIntervalSince1970)
        try CentralKeys.initialise(in: keys, now: now, validFor: 86_400)
        let pkiDir = work.appendingPathComponent("pki")
        try FileManager.default.createDirectory(at: pkiDir, withIntermediateDirectories: true)
        let pki = try TestPKI(in: pkiDir)
        let nginx = try NginxTLS(pki: pki)
        defer { nginx.stop() }
        let publisher = Publisher(directory: nginx.root.appendingPathComponent("lists"), keysDirectory: keys)
        print("  (publishing the data set: not timed)")
        try publisher.publish(dataset: dataset, now: now, validFor: 86_400, keepDeltas: 30)

        let state = StateDirectory(path: work.appendingPathComponent("terminal").path)
        let lists = try ListsStore.open(state)
        let journal = try JournalStore.open(path: state.journalPath)
        let sync = ListsSync(.init(baseURL: "https://127.0.0.1:\(nginx.port)/lists/", provisionedRoot: keys.appendingPathComponent(CentralKeys.rootFile),
                                   workDirectory: state.url.appendingPathComponent("sync")),
                             transport: CurlTransport(.init(caFile: pki.path("ca.crt"), clientCertificate: pki.path("device.crt"),
                                                            clientKey: pki.path("device.key"), connectTimeout: 5, totalTimeout: 600)),
                             lists: lists, journal: journal)

        // Snapshot: nothing on the terminal yet.
        let (_, snapshotSeconds) = try Measure.seconds { try sync.syncOnce() }
        results.add("sync_snapshot_1m_s", snapshotSeconds, reference: ("sqlite3_import_1m_s", importSeconds))

        // Delta: 10,000 changes to stolen vehicles (recoloured, removed).
        // Six rounds, each a new version with 10,000 changes; the figures are the medians
        // (one commit writes tens of MB to the WAL, and this machine's I/O is noisy). Each side
        // starts with nothing left to write back: neither pays for the other's writes, and the
        // sides take turns going first, three rounds each. Raw SQLite's two copies of the lists
        // are made once, before the first round, and take each round's delta as the terminal
        // does: copies written afresh every round made whichever side ran first after them pay
        // up to double (docs/packaging.md). A first delta after the copies, before the six, is
        // not counted: both sides run slower in it.
        var rounds: [DeltaRound] = []
        var changes = 0, delta: Manifest.File?, raw = Data()
        let deltaRounds = 6
        let rawCopy = work.appendingPathComponent("raw-delta.db"), readingCopy = work.appendingPathComponent("raw-delta-reading.db")
        for copy in [rawCopy, readingCopy] { try FileManager.default.copyItem(at: state.currentListsFile()!, to: copy) }
        defer { for copy in [rawCopy, readingCopy] { try? FileManager.default.removeItem(at: copy) } }
        for round in 0...deltaRounds {
            changes = try changeVehicles(upTo: 10_000)
            let deltaManifest = try publisher.publish(dataset: dataset, now: now + 1 + Int64(round), validFor: 86_400, keepDeltas: 30).manifest
            delta = deltaManifest.lists[ListKind.stolenVehicles.rawValue]!.deltas.last!.file
            raw = try Gzip.decompress(Data(contentsOf: publisher.directory.appendingPathComponent(delta!.path)), maxBytes: 1 << 30)
            let deltaCSV = String(decoding: raw, as: UTF8.self)
            func syncDelta() throws -> ListsSync.Report {
                Glibc.sync()
                let report = try sync.syncOnce()
                guard report.methods[.stolenVehicles] == "deltas" else { throw BenchError("the delta run took \(report.methods)") }
                return report
            }
            func rawDelta() throws -> (Double, Double) {
                Glibc.sync()
                let rawSeconds = try RawDeltaApply.run(path: rawCopy.path, deltaCSV: deltaCSV)
                Glibc.sync()
                return (rawSeconds, try RawDeltaApply.run(path: readingCopy.path, deltaCSV: deltaCSV, readingStored: true))
            }
            let syncFirst = round % 2 == 1
            let report: ListsSync.Report, rawSeconds: Double, readingSeconds: Double
            if syncFirst {
                report = try syncDelta()
                (rawSeconds, readingSeconds) = try rawDelta()
            } else {
                (rawSeconds, readingSeconds) = try rawDelta()
                report = try syncDelta()
            }
            guard round > 0 else { continue }
            rounds.append(DeltaRound(sync: report.secondsUntilApplied! * 1000, apply: report.applySeconds! * 1000,
                                     checkpoint: report.checkpointSeconds! * 1000, raw: rawSeconds * 1000, rawReading: readingSeconds * 1000,
                                     syncFirst: syncFirst))
        }
        func median(_ values: [Double]) -> Double { Measure.percentile(values, 50) }
        let rawMs = median(rounds.map(\.raw))
        print("  (\(rounds.count) deltas of \(changes) changes, medians; the sync figure runs from the manifest fetch to the commit that makes the new lists answer; "
              + "sync/raw per round, * where the sync went first: \(rounds.map { String(format: "%.0f/%.0f", $0.sync, $0.raw) + ($0.syncFirst ? "*" : "") }.joined(separator: ", ")) ms)")
        results.add("sync_delta_10k_ms", median(rounds.map(\.sync)), reference: ("raw_sqlite_delta_10k_ms", rawMs))
        results.add("raw_sqlite_delta_10k_ms", rawMs)
        results.add("sync_delta_apply_ms", median(rounds.map(\.apply)), reference: ("raw_sqlite_delta_10k_ms", rawMs))
        results.add("sync_delta_checkpoint_ms", median(rounds.map(\.checkpoint)))
        results.add("raw_sqlite_delta_reading_10k_ms", median(rounds.map(\.rawReading)), reference: ("raw_sqlite_delta_10k_ms", rawMs))
        print("  (the apply against the same writes each after reading the stored record: "
              + String(format: "%.2f", median(rounds.map(\.apply)) / median(rounds.map(\.rawReading))) + ")")
        results.add("delta_10k_wire_bytes", Double(delta!.length))
        results.add("delta_10k_raw_bytes", Double(raw.count))

        // Checks while a snapshot of the stolen-vehicle list builds and swaps in.
        _ = try changeVehicles(upTo: 1_000)
        try publisher.publish(dataset: dataset, now: now + Int64(deltaRounds) + 2, validFor: 86_400, keepDeltas: 0)
        let checker = Checker(lists: lists, journal: journal)
        let context = try CheckContext(officerId: "BENCH-01", unitId: "TPE-DA-01")
        let done = Flag()
        let checking = Thread {
            var samples: [Double] = []
            var i = 0
            while !done.isSet {
                let start = Measure.nowNanoseconds()
                // The whole check, with its durable record in the journal, as the API runs it.
                do {
                    _ = try checker.check(.plate(plates.entered[i % plates.entered.count]), context: context)
                } catch {
                    if done.failures == 0 { done.firstFailure = "\(error)" }
                    done.failures += 1
                }
                samples.append(Double(Measure.nowNanoseconds() - start) / 1_000)
                i += 1
            }
            done.samples = samples
            done.finished.signal()
        }
        checking.start()
        // The swap runs as the daemon runs a sync: on a thread of its own at background
        // priority (its load's parser thread inherits it).
        let swapping = SwapRun()
        let syncing = Thread {
            WorkPriority.background.applyToCurrentThread()
            swapping.result = Result { try sync.syncOnce() }
            swapping.finished.signal()
        }
        syncing.start()
        swapping.finished.wait()
        done.set()
        done.finished.wait()
        let swap = try swapping.result!.get()
        guard swap.methods[.stolenVehicles] == "snapshot" else { throw BenchError("the swap run took \(swap.methods)") }
        guard done.failures == 0 else { throw BenchError("\(done.failures) checks failed during the snapshot swap, first: \(done.firstFailure)") }
        print("  (\(done.samples.count) checks, each with its journal record, during the snapshot swap)")
        results.add("check_p99_during_sync_us", Measure.percentile(done.samples, 99))
    }

    /// `count` changes spread evenly over the stolen vehicles (at most a quarter of them):
    /// half recoloured, half removed.
    private func changeVehicles(upTo count: Int) throws -> Int {
        var changed = 0
        return try StolenVehicleEdits.apply(to: dataset) { i, total, _ in
            let changes = min(count, total / 4)
            guard changed < changes, i % (total / max(changes, 1)) == 0 else { return .keep }
            changed += 1
            return changed % 2 == 0 ? .drop : .recolour
        }
    }
}

/// One delta round's figures, in milliseconds.
private struct DeltaRound {
    /// The sync, from the manifest fetch to the commit; of it the apply alone; then the checkpoint.
    let sync: Double, apply: Double, checkpoint: Double
    /// Raw SQLite's same writes, and the same each after reading the stored record.
    let raw: Double, rawReading: Double
    let syncFirst: Bool
}

/// The snapshot swap's outcome, from its thread.
private final class SwapRun: @unchecked Sendable {
    var result: Result<ListsSync.Report, any Error>?
    let finished = DispatchSemaphore(value: 0)
}

/// Stops the checking thread and hands its samples back.
private final class Flag: @unchecked Sendable {
    private let lock = NSLock()
    private var value = false
    var samples: [Double] = []
    var failures = 0
    var firstFailure = ""
    let finished = DispatchSemaphore(value: 0)
    var isSet: Bool { lock.withLock { value } }
    func set() { lock.withLock { value = true } }
}
