import Central
import FieldSync
import FieldWire
import Foundation
import Store
import TerminalConfiguration
import TestSupport
import Watchlist

/// A center and a terminal for one test: keys, a data set the test edits, the publisher
/// writing into the directory a real nginx (TLS, `ssl_verify_client on`) serves, and a
/// terminal state directory synced through `ListsSync` over `CurlTransport`.
final class SyncWorld {
    static let start: Int64 = 1_795_700_000
    let dir: URL
    let pki: TestPKI
    let nginx: NginxTLS
    let keys: URL
    let dataset: URL
    let publisher: Publisher
    let state: StateDirectory
    let lists: ListsStore
    let journal: JournalStore
    /// The terminal's clock; tests move it.
    let clock = ManualClock(nowMilliseconds: (SyncWorld.start + 60) * 1000)

    init(records: Int = 3_000, registrations: Int = 0, licences: Int = 0) throws {
        dir = FileManager.default.temporaryDirectory.appendingPathComponent("sync-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        pki = try TestPKI(in: dir)
        nginx = try NginxTLS(pki: pki)
        keys = dir.appendingPathComponent("keys")
        try CentralKeys.initialise(in: keys, now: Self.start, validFor: 365 * 86_400)
        // What the terminal was provisioned with; keys/root.json moves on when the center rotates.
        try FileManager.default.copyItem(at: keys.appendingPathComponent(CentralKeys.rootFile), to: dir.appendingPathComponent("provisioned-root.json"))
        dataset = dir.appendingPathComponent("dataset")
        try DatasetGenerator(counts: .init(records: records, registrations: registrations, licences: licences), seed: 11,
                             issuedAt: Self.start).write(to: dataset)
        publisher = Publisher(directory: nginx.root, keysDirectory: keys)
        state = StateDirectory(path: dir.appendingPathComponent("terminal").path)
        lists = try ListsStore.open(state)
        journal = try JournalStore.open(path: state.journalPath)
    }

    /// A world whose data set is published and synced once: where most tests start.
    static func synced(records: Int = 3_000) throws -> SyncWorld {
        let world = try SyncWorld(records: records)
        do {
            try world.publish()
            try world.sync().syncOnce()
            return world
        } catch {
            world.remove()
            throw error
        }
    }

    func remove() {
        nginx.stop()
        try? FileManager.default.removeItem(at: dir)
    }

    var provisionedRoot: URL { dir.appendingPathComponent("provisioned-root.json") }

    func transport(clientCertificate: Bool = true) -> CurlTransport {
        CurlTransport(.init(caFile: pki.path("ca.crt"), clientCertificate: clientCertificate ? pki.path("device.crt") : nil,
                            clientKey: clientCertificate ? pki.path("device.key") : nil, connectTimeout: 5, totalTimeout: 30))
    }

    func sync(port: Int? = nil, clientCertificate: Bool = true, schedule: RetryPolicy = RetryPolicy(),
              transport custom: (any SyncTransport)? = nil) -> ListsSync {
        ListsSync(.init(baseURL: "https://127.0.0.1:\(port ?? nginx.port)/", provisionedRoot: provisionedRoot,
                        workDirectory: state.url.appendingPathComponent("sync")),
                  transport: custom ?? transport(clientCertificate: clientCertificate), lists: lists, journal: journal, clock: clock,
                  schedule: schedule)
    }

    @discardableResult
    func publish(at time: Int64? = nil, validDays: Int64 = 7, keepDeltas: Int = 30,
                 catchUpAges: [Int64] = Publisher.defaultCatchUpAges) throws -> Publisher.Report {
        try publisher.publish(dataset: dataset, now: time ?? clock.nowSeconds, validFor: validDays * 86_400, keepDeltas: keepDeltas,
                              catchUpAges: catchUpAges)
    }

    /// The reason code of a failed sync (nil when it succeeded).
    func failure(_ sync: ListsSync) -> SyncFailure.Reason? {
        do {
            try sync.syncOnce()
            return nil
        } catch {
            return (error as? SyncFailure)?.reason
        }
    }

    func plateOutcome(_ plate: String) throws -> CheckAnswer.Outcome {
        let checker = Checker(lists: lists, journal: journal, clock: clock)
        return try checker.check(.plate(plate), context: CheckContext(officerId: "OF-1", unitId: "U-1")).outcome
    }

    // MARK: Editing the data set

    /// Drops the stolen vehicles whose line passes `drop`, recolours those that pass
    /// `recolour`, and adds new ones with these plates.
    func editVehicles(drop: (String) -> Bool = { _ in false }, recolour: (String) -> Bool = { _ in false }, add plates: [String] = []) throws {
        try StolenVehicleEdits.apply(to: dataset, add: plates) { _, _, line in drop(line) ? .drop : recolour(line) ? .recolour : .keep }
    }

    /// Sets columns of one record of `list` in the data set (by record id).
    func editRow(_ list: ListKind, recordId: String, set values: [String: String]) throws {
        let url = dataset.appendingPathComponent(Dataset.fileName(list))
        var lines = try String(contentsOf: url, encoding: .utf8).split(separator: "\n", omittingEmptySubsequences: false).map(String.init)
        let columns = Dataset.columns(list)
        guard let index = lines.firstIndex(where: { $0.hasPrefix(recordId + ",") }) else { throw TestError("no \(recordId) in \(list)") }
        var fields = lines[index].split(separator: ",", omittingEmptySubsequences: false).map(String.init)
        for (column, value) in values { fields[columns.firstIndex(of: column)!] = value }
        lines[index] = fields.joined(separator: ",")
        try lines.joined(separator: "\n").write(to: url, atomically: true, encoding: .utf8)
    }

    // MARK: Tampering with what nginx serves

    var manifestURL: URL { nginx.root.appendingPathComponent(Publisher.manifestFile) }

    func servedFile(_ path: String) -> URL { nginx.root.appendingPathComponent(path) }

    func replaceManifest(_ data: Data) throws {
        try data.write(to: manifestURL)
        try FileManager.default.setAttributes([.posixPermissions: 0o644], ofItemAtPath: manifestURL.path)
    }

    /// The published manifest re-signed (after `edit`) by `key`.
    func resign(with key: SigningKey, _ edit: (inout Manifest) -> Void = { _ in }) throws {
        var manifest = try require(try publisher.currentManifest(), "manifest")
        edit(&manifest)
        try replaceManifest(WireJSON.encode(manifest.signed(by: [key])))
    }

    var manifestKey: SigningKey { get throws { try CentralKeys.load(from: keys).manifestKey } }
}

/// `#require` outside a test function's body.
func require<T>(_ value: T?, _ what: String = "value") throws -> T {
    guard let value else { throw TestError("missing \(what)") }
    return value
}

extension UplinkWorld {
    /// The terminal's mutual-TLS transport to this center (through the proxy).
    func transport(connectTimeout: Double = 2, timeout: Double = 20) -> CurlTransport {
        CurlTransport(.init(caFile: pki.path("ca.crt"), clientCertificate: pki.path("device.crt"), clientKey: pki.path("device.key"),
                            connectTimeout: connectTimeout, totalTimeout: timeout))
    }
}
