import Central
import FieldWire
import Foundation
import TestSupport

/// A center for the system tests: signing keys, a data set, and its publications in the
/// directory a real nginx (TLS, client certificates) serves.
final class PublishedCenter {
    let scratch: Scratch
    let pki: TestPKI
    let nginx: NginxTLS
    let keys: URL
    let dataset: URL

    /// `photos`: persons given synthetic photos, published as `photos/<sha256>.jpg`.
    init(records: Int = 500, seed: UInt64 = 5, photos: Int = 0) throws {
        scratch = try Scratch("center", worldReadable: true)
        pki = try TestPKI(in: try scratch.directory("pki"))
        nginx = try NginxTLS(pki: pki)
        keys = scratch.url.appendingPathComponent("keys")
        try CentralKeys.initialise(in: keys, now: Int64(Date().timeIntervalSince1970), validFor: 365 * 86_400)
        dataset = scratch.url.appendingPathComponent("dataset")
        try DatasetGenerator(counts: .init(records: records), seed: seed, issuedAt: Int64(Date().timeIntervalSince1970), photos: photos)
            .write(to: dataset)
    }

    /// The published directory's URL; each `scenario` is a directory of its own.
    func listsURL(_ scenario: String? = nil) -> String {
        "https://127.0.0.1:\(nginx.port)/" + (scenario.map { "\($0)/" } ?? "")
    }

    /// Publishes the data set as the next version; `keepDeltas: 0` makes terminals take snapshots.
    @discardableResult
    func publish(scenario: String? = nil, keepDeltas: Int = 30, now: Int64? = nil, validDays: Int64 = 7) throws -> Manifest {
        let directory = scenario.map { nginx.root.appendingPathComponent($0) } ?? nginx.root
        return try Publisher(directory: directory, keysDirectory: keys)
            .publish(dataset: dataset, now: now ?? Int64(Date().timeIntervalSince1970), validFor: validDays * 86_400,
                     keepDeltas: keepDeltas).manifest
    }

    /// `mpolicectl sync --db state` against this center.
    func syncArguments(state: URL, scenario: String? = nil) -> [String] {
        ["sync", "--db", state.path, "--central", listsURL(scenario), "--ca", pki.path("ca.crt"), "--cert", pki.path("device.crt"),
         "--key", pki.path("device.key"), "--root", keys.appendingPathComponent(CentralKeys.rootFile).path]
    }

    /// The daemon's `[sync]` section for this center.
    func daemonSyncConfig(central: String? = nil, extra: String = "") -> String {
        """
        [sync]
        central = \(central ?? listsURL())
        ca = \(pki.path("ca.crt"))
        certificate = \(pki.path("device.crt"))
        key = \(pki.path("device.key"))
        trust_root = \(keys.appendingPathComponent(CentralKeys.rootFile).path)
        connect_timeout = 2
        \(extra)
        """
    }

    func stop() {
        nginx.stop()
        scratch.remove()
    }
}
