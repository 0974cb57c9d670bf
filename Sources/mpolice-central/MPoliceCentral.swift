import ArgumentParser
import Central
import FieldWire
import Foundation
import Store
import Watchlist

@main
struct MPoliceCentral: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "mpolice-central",
        abstract: "The reference central side for tests and demos: signed watch lists, the uplink, dispatches.",
        subcommands: [Generate.self, Publish.self, Keys.self, Serve.self, DispatchCommand.self, ReportCommand.self, OrderCommand.self,
                      Records.self, AuditCommand.self, BulletinCommand.self, FleetCommand.self, SimulateCommand.self])
}

struct Keys: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Manage the center's signing keys.",
        subcommands: [Init.self, Rotate.self])

    struct Init: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Create root, manifest and orders signing keys and the root.json terminals are provisioned with.",
            discussion: """
                Writes DIR/root.key, DIR/manifest.key and DIR/orders.key (Ed25519 private keys, mode 0600) and
                DIR/root.json (root version 1, self-signed, public keys only). Existing keys are
                never overwritten.
                """)

        @Option(name: .customLong("dir"), help: ArgumentHelp("Key directory (created mode 0700).", valueName: "dir"))
        var directory: String

        @Option(help: "Days until root.json expires.")
        var validDays: Int = 365

        func validate() throws {
            guard (1...3650).contains(validDays) else { throw ValidationError("--valid-days must be 1 to 3650") }
        }

        func run() throws {
            do {
                let keys = try CentralKeys.initialise(in: URL(fileURLWithPath: directory, isDirectory: true),
                                                      now: SystemClock().nowSeconds,
                                                      validFor: Int64(validDays) * 86_400)
                print("root key \(keys.rootKey.keyID), manifest key \(keys.manifestKey.keyID), orders key \(keys.ordersKey.keyID)")
                print("provision terminals with \(directory)/\(CentralKeys.rootFile); keep the .key files offline and backed up")
            } catch let error as CentralError {
                FileHandle.standardError.write(Data("mpolice-central: \(error)\n".utf8))
                throw ExitCode(1)
            }
        }
    }
}

extension Keys {
    struct Rotate: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Replace the root, manifest and orders keys with a new root version signed by the old root key.",
            discussion: """
                Writes DIR/roots/<version>.root.json (signed by the old and the new root key) for
                `publish` to serve, moves the old keys to DIR/retired/, and makes DIR/root.json
                the new root. Terminals walk to the new root on their next sync.

                After a manifest key was compromised and used to publish a sequence far ahead,
                --reset-manifest-sequence N (the sequence of the last genuine manifest) makes
                terminals that rotate to this root accept manifests from N on again; the new
                manifest key replaces the compromised one in the same step.
                """)

        @Option(name: .customLong("dir"), help: ArgumentHelp("Key directory.", valueName: "dir"))
        var directory: String

        @Option(help: "Days until the new root expires.")
        var validDays: Int = 365

        @Option(help: ArgumentHelp("Lower the terminals' manifest sequence floor to this (see below).", valueName: "sequence"))
        var resetManifestSequence: Int64?

        func validate() throws {
            guard (1...3650).contains(validDays) else { throw ValidationError("--valid-days must be 1 to 3650") }
            if let resetManifestSequence, resetManifestSequence < 0 { throw ValidationError("--reset-manifest-sequence must be 0 or more") }
        }

        func run() throws {
            do {
                let version = try CentralKeys.rotate(in: URL(fileURLWithPath: directory, isDirectory: true),
                                                     now: SystemClock().nowSeconds, validFor: Int64(validDays) * 86_400,
                                                     resetManifestSequence: resetManifestSequence)
                print("root version \(version) written; publish again to serve it")
            } catch {
                FileHandle.standardError.write(Data("mpolice-central: \(error)\n".utf8))
                throw ExitCode(1)
            }
        }
    }
}

struct Publish: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Publish a data set as the next signed list version.",
        discussion: """
            Reads the data set in --dataset (as `generate` writes it), compares each list with the
            version already published in --out, and writes a new snapshot and delta for each list
            that changed, rotated roots from --keys, and a new signed manifest.json (last, and
            atomically). Any static HTTPS server can serve --out. Deltas beyond --keep-deltas per
            list are pruned from the manifest. A changed list also gets a catch-up delta from
            the version current at each --catch-up age (default 1h,1d,7d): a terminal at or
            after that version takes the one file when it is smaller than the deltas or the
            snapshot. The deltas the catch-ups are made from stay on disk (history.json lists
            them) for the longest age.
            """)

    @Option(help: ArgumentHelp("Data set directory (one CSV per list and dataset.json).", valueName: "dir"))
    var dataset: String

    @Option(help: ArgumentHelp("Key directory from `keys init`.", valueName: "dir"))
    var keys: String

    @Option(help: ArgumentHelp("Published directory (created when missing).", valueName: "dir"))
    var out: String

    @Option(help: "Days until the manifest expires (terminals then flag their lists stale).")
    var validDays: Int = 7

    @Option(help: "Deltas kept per list.")
    var keepDeltas: Int = 30

    @Option(help: ArgumentHelp("Issue time, Unix seconds (tests; default now).", valueName: "seconds"))
    var now: Int64?

    @Option(name: .customLong("uplink-db"),
            help: ArgumentHelp("The uplink database: its unexpired bulletins go into the manifest, and the records confirmation requests are answered from are brought to this version (an SQLite file or a postgresql:// URL).", valueName: "path|url"))
    var uplinkDatabase: String?

    @Option(name: .customLong("exceptions-only"), parsing: .upToNextOption,
            help: ArgumentHelp("Document lists (registrations, licences) to publish with their invalid records only, for a fleet of small terminals.",
                               valueName: "list"))
    var exceptionsOnly: [String] = []

    @Option(help: ArgumentHelp("Ages to publish catch-up deltas from, comma-separated (90s, 30m, 6h, 2d; at most 30d), or none.",
                               valueName: "ages"))
    var catchUp: String = "1h,1d,7d"

    /// `--catch-up` in seconds.
    var catchUpAges: [Int64] {
        get throws {
            guard catchUp != "none" else { return [] }
            return try catchUp.split(separator: ",").map { text in
                do {
                    return try BulletinCommand.Create.seconds(String(text))
                } catch {
                    throw ValidationError("--catch-up \(text): give ages such as 1h,1d,7d (at most 30d), or none")
                }
            }
        }
    }

    func validate() throws {
        _ = try catchUpAges
        guard (1...3650).contains(validDays) else { throw ValidationError("--valid-days must be 1 to 3650") }
        guard (0...10_000).contains(keepDeltas) else { throw ValidationError("--keep-deltas must be 0 to 10000") }
        for name in exceptionsOnly {
            guard let list = ListKind(rawValue: name), ListSchema.of(list).document != nil else {
                throw ValidationError("--exceptions-only: \(name) is not a document list (registrations, licences)")
            }
        }
    }

    func run() throws {
        do {
            let publisher = Publisher(directory: URL(fileURLWithPath: out, isDirectory: true),
                                      keysDirectory: URL(fileURLWithPath: keys, isDirectory: true))
            let progress = ProgressLine(enabled: isatty(STDERR_FILENO) == 1)
            let center = try uplinkDatabase.map { try UplinkDatabase($0) }
            let report = try publisher.publish(dataset: URL(fileURLWithPath: dataset, isDirectory: true),
                                               now: now ?? SystemClock().nowSeconds,
                                               validFor: Int64(validDays) * 86_400, keepDeltas: keepDeltas, center: center,
                                               exceptionsOnly: Set(exceptionsOnly.compactMap(ListKind.init(rawValue:))),
                                               catchUpAges: try catchUpAges) { progress.show($0) }
            progress.finish("published manifest \(report.manifest.sequence) in \(out)")
            for list in ListKind.allCases {
                guard let entry = report.manifest.lists[list.rawValue] else { continue }
                let change = report.changes[list].map { "\($0.upserts) upserts, \($0.deletes) deletes" } ?? "unchanged"
                let mode = entry.mode == .exceptions ? "  (exceptions only)" : ""
                let catchUps = (entry.catchUps ?? []).map { "from v\($0.fromVersion) \($0.file.length) B" }
                print("  \(list.rawValue.padding(toLength: 16, withPad: " ", startingAt: 0)) v\(entry.version)  \(entry.recordCount) records  \(change)\(mode)"
                      + (catchUps.isEmpty ? "" : "  catch-ups: \(catchUps.joined(separator: ", "))"))
            }
            if let bulletins = report.manifest.bulletins { print("  \(bulletins.count) unexpired bulletin(s) listed") }
        } catch {
            FileHandle.standardError.write(Data("mpolice-central: \(error)\n".utf8))
            throw ExitCode(1)
        }
    }
}

struct Generate: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Generate synthetic watch lists as a data set and a ready state directory.",
        discussion: """
            Writes DIR/dataset/ (one CSV per list and dataset.json, the bulk format the center
            publishes from) and loads it into DIR/lists.db, so `mpolicectl --db DIR` can check
            against it at once. The same --seed always gives the same data.
            """)

    @Option(name: .customLong("out"), help: ArgumentHelp("State directory to create or replace the lists of.", valueName: "dir"))
    var out: String

    @Option(help: "Total records across the three lists (65 % stolen vehicles, 25 % wanted, 10 % missing).")
    var records: Int = 10_000

    @Option(help: "Seed for the generator.")
    var seed: UInt64 = 1

    @Option(help: "Days until the lists expire (answers then carry a stale warning).")
    var validDays: Int = 7

    @Flag(help: "Write the data set only; do not build lists.db.")
    var datasetOnly = false

    @Option(help: "Persons given a synthetic face photo (JPEG, 20–60 kB each, in DIR/dataset/photos/): 70 % wanted, 30 % missing.")
    var photos: Int = 0

    @Option(help: "Vehicle registrations (unique current-layout plates, about 4 % invalid); 0 leaves the list out.")
    var registrations: Int = 0

    @Option(help: "Driving licences (unique national IDs, about 5 % invalid); 0 leaves the list out.")
    var licences: Int = 0

    func validate() throws {
        guard (5...50_000_000).contains(records) else { throw ValidationError("--records must be 5 to 50,000,000") }
        guard (0...50_000_000).contains(registrations) else { throw ValidationError("--registrations must be 0 to 50,000,000") }
        guard (0...50_000_000).contains(licences) else { throw ValidationError("--licences must be 0 to 50,000,000") }
        guard (0...1_000_000).contains(photos) else { throw ValidationError("--photos must be 0 to 1,000,000") }
        guard (1...3650).contains(validDays) else { throw ValidationError("--valid-days must be 1 to 3650") }
    }

    func run() throws {
        let directory = StateDirectory(path: out)
        try directory.create()
        let generator = DatasetGenerator(counts: .init(records: records, registrations: registrations, licences: licences), seed: seed,
                                         issuedAt: SystemClock().nowSeconds,
                                         validFor: Int64(validDays) * 86_400, photos: photos)
        let progress = ProgressLine(enabled: isatty(STDERR_FILENO) == 1)
        let manifest = try generator.write(to: directory.datasetURL) { done, total in
            progress.show("generating \(done)/\(total) records")
        }
        progress.finish("wrote \(generator.counts.total) records to \(directory.datasetURL.path)")
        guard !datasetOnly else { return }
        let started = Date()
        let lists = try ListsStore.open(directory)
        try lists.replaceAll(withDatasetAt: directory.datasetURL) { step in
            if case .records(let list, let done, let total) = step { progress.show("loading \(list.rawValue) \(done)/\(total)") }
        }
        progress.finish(String(format: "loaded lists.db (version %lld) in %.1f s", manifest.version, Date().timeIntervalSince(started)))
    }
}

/// One self-overwriting status line on a terminal; plain lines for finished steps otherwise.
struct ProgressLine: Sendable {
    let enabled: Bool

    func show(_ text: String) {
        guard enabled else { return }
        FileHandle.standardError.write(Data("\r\u{1B}[K\(text)".utf8))
    }

    func finish(_ text: String) {
        FileHandle.standardError.write(Data("\(enabled ? "\r\u{1B}[K" : "")\(text)\n".utf8))
    }
}
