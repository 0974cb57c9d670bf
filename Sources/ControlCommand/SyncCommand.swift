import ArgumentParser
import TerminalConfiguration
import FieldSync
import FieldWire
import Foundation
import Store
import Watchlist

struct SyncCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "sync",
        abstract: "Bring the lists up to the center's latest signed manifest, now.",
        discussion: """
            With --now, asks the daemon to sync at once (follow it with `mpolicectl events` or
            `status`). With --central (the daemon stopped, or a technician's bench), runs one
            sync itself against the state directory (--db): fetch the manifest over mutual TLS,
            verify it, download the deltas or snapshots it needs and apply them. The previous
            lists keep answering until the new ones are complete; a failure leaves them as they
            were and is recorded with its reason code (see `mpolicectl status`). Shows a
            progress bar on a terminal. Exit 3 when the sync failed.
            """)

    @OptionGroup var store: StoreOptions

    @Flag(help: "Ask the running daemon to sync now.")
    var now = false

    @Option(help: ArgumentHelp("Sync directly from this published list directory at the center.", valueName: "https-url"))
    var central: String?

    @Option(help: ArgumentHelp("CA certificate the center's certificate must chain to.", valueName: "file"))
    var ca = AgentConfiguration.Sync.defaultCA

    @Option(help: ArgumentHelp("Device certificate (mutual TLS).", valueName: "file"))
    var cert = AgentConfiguration.Sync.defaultCertificate

    @Option(help: ArgumentHelp("Device private key.", valueName: "file"))
    var key = AgentConfiguration.Sync.defaultKey

    @Option(help: ArgumentHelp("Trust root the terminal was provisioned with.", valueName: "file"))
    var root = AgentConfiguration.Sync.defaultTrustRoot

    @Option(help: ArgumentHelp("Pin of the center's public key.", valueName: "sha256//base64"))
    var pin: String?

    @Option(help: "Seconds allowed to connect.")
    var connectTimeout: Double = AgentConfiguration.Sync.defaultConnectTimeout

    @Option(help: "Seconds allowed for each transfer.")
    var timeout: Double = AgentConfiguration.Sync.defaultTimeout

    func validate() throws {
        switch (now, central) {
        case (true, nil): break
        case (false, let central?):
            guard central.hasPrefix("https://") else { throw ValidationError("--central must be an https:// URL") }
        case (true, .some): throw ValidationError("give --now (through the daemon) or --central (direct), not both")
        case (false, nil): throw ValidationError("give --now to ask the daemon, or --central URL to sync directly")
        }
        guard connectTimeout > 0, timeout > 0 else { throw ValidationError("timeouts must be positive") }
    }

    struct Output: Encodable {
        var outcome: String
        var manifestSequence: Int64?
        var methods: [String: String]
        var bytesFetched: Int64
        /// From the start until the new lists answered checks.
        var appliedAfterMs: Int?
        /// The WAL checkpoint that followed.
        var checkpointMs: Int?
        var versions: [String: Int64]
    }

    func run() throws {
        do {
            guard let central else {
                store.print(try store.daemon.syncNow()) { _ in "sync requested; `mpolicectl events` shows how it ends" }
                return
            }
            let directory = try store.stateDirectory(store.offlineDirectory ?? "/var/lib/mpolice")
            try directory.create()
            let journal = try JournalStore.open(path: directory.journalPath)
            let lists = try ListsStore.open(directory, expectLists: try journal.trustFloor() != nil)
            let transport = CurlTransport(.init(caFile: ca, clientCertificate: cert, clientKey: key, pinnedPublicKey: pin,
                                                connectTimeout: connectTimeout, totalTimeout: timeout))
            let sync = ListsSync(.init(baseURL: central, provisionedRoot: URL(fileURLWithPath: root),
                                       workDirectory: directory.url.appendingPathComponent("sync")),
                                 transport: transport, lists: lists, journal: journal)
            let bar = ProgressBar(enabled: !store.json && isatty(STDERR_FILENO) == 1)
            let report = try sync.syncOnce { bar.show($0) }
            bar.clear()
            let versions = try lists.versions()
            let output = Output(outcome: report.outcome.rawValue, manifestSequence: report.manifestSequence,
                                methods: Dictionary(uniqueKeysWithValues: report.methods.map { ($0.key.rawValue, $0.value) }),
                                bytesFetched: report.bytesFetched,
                                appliedAfterMs: report.secondsUntilApplied.map { Int($0 * 1000) },
                                checkpointMs: report.checkpointSeconds.map { Int($0 * 1000) },
                                versions: Dictionary(uniqueKeysWithValues: versions.map { ($0.key.rawValue, $0.value.version) }))
            if store.json {
                print(WireJSON.text(output))
                return
            }
            let timing = output.appliedAfterMs.map { ", applied after \($0) ms (+\(output.checkpointMs ?? 0) ms checkpoint)" } ?? ""
            print("sync \(output.outcome): manifest \(report.manifestSequence.map(String.init) ?? "—"), \(AnswerText.bytes(report.bytesFetched)) fetched\(timing)")
            for list in ListKind.allCases {
                let method = report.methods[list].map { " (\($0))" } ?? ""
                print("  \(list.rawValue.padding(toLength: 16, withPad: " ", startingAt: 0)) v\(versions[list]!.version)  \(versions[list]!.recordCount) records\(method)")
            }
        } catch {
            throw Failure.exit(error, json: store.json)
        }
    }
}

/// Sync progress on stderr: a redrawn bar on a terminal; otherwise one line per phase and
/// list, so logs and tests can follow along.
final class ProgressBar: @unchecked Sendable {
    let enabled: Bool
    private let lock = NSLock()
    private var lastPhase = ""

    init(enabled: Bool) { self.enabled = enabled }

    func show(_ progress: SyncProgress) {
        lock.withLock {
            // The phase line is what a log shows; the bar line is redrawn on a terminal.
            let phase: String, line: String
            switch progress {
            case .checkingManifest:
                phase = "checking the manifest"
                line = phase
            case .downloading(let bytes, let total):
                phase = "downloading \(AnswerText.bytes(total))"
                line = "downloading \(Self.bar(Double(bytes) / Double(max(total, 1)))) \(AnswerText.bytes(bytes)) of \(AnswerText.bytes(total))"
            case .applying(let list, let records, let total):
                phase = "applying \(list.rawValue)"
                line = total > 0 ? "\(phase) \(Self.bar(Double(records) / Double(total))) \(records) of \(total) records"
                                 : "\(phase): \(records) changes"
            case .generation(let step):
                phase = "lists generation: \(step.rawValue)"
                line = phase
            case .deltasWritten:
                phase = "deltas written, committing"
                line = phase
            }
            if enabled {
                FileHandle.standardError.write(Data("\r\u{1B}[K\(line)".utf8))
            } else if phase != lastPhase {
                FileHandle.standardError.write(Data("\(phase)\n".utf8))
            }
            lastPhase = phase
        }
    }

    func clear() {
        if enabled { FileHandle.standardError.write(Data("\r\u{1B}[K".utf8)) }
    }

    static func bar(_ fraction: Double, width: Int = 24) -> String {
        let filled = Int((min(max(fraction, 0), 1) * Double(width)).rounded())
        return "[" + String(repeating: "#", count: filled) + String(repeating: ".", count: width - filled) + "]"
            + String(format: " %3d%%", Int(min(max(fraction, 0), 1) * 100))
    }
}
