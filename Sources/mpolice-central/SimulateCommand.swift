import ArgumentParser
import FieldWire
import FleetSimulation
import Foundation

struct SimulateCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "simulate",
        abstract: "Run simulated terminals against a center behind nginx: uploads, held long polls, manifest fetches.",
        discussion: """
            Each unit in --units (or SIM-0001 … SIM-N for --terminals N) needs a device
            certificate DIR/<unit>.crt with CN unit-<unit>, all for the key --key, signed by a CA
            nginx trusts. Every terminal holds a dispatch long poll, sends a breadcrumb every
            30 s and checks at --check-interval, each uploaded at once and kept until the center
            acknowledges it (retried with backoff), and fetches the manifest with its ETag on a
            jittered schedule. After --seconds the outboxes drain. Prints a JSON report; with
            --generated FILE also every item as "unit id" lines, to compare with what the
            center stored (docs/fleet.md). Exit 0; 4 when items were left unacknowledged.
            """)

    @Option(help: ArgumentHelp("The center's base URL (manifest at its root, uplink under uplink/).", valueName: "url"))
    var url: String

    @Option(help: ArgumentHelp("The CA that signed nginx's certificate.", valueName: "file"))
    var ca: String

    @Option(help: ArgumentHelp("Directory of device certificates, <unit>.crt.", valueName: "dir"))
    var certificates: String

    @Option(help: ArgumentHelp("The device key all the certificates are for.", valueName: "file"))
    var key: String

    @Option(help: "Terminals SIM-0001 … SIM-N (unless --units).")
    var terminals: Int = 100

    @Option(help: ArgumentHelp("Units, comma-separated.", valueName: "units"))
    var units: String?

    @Option(help: "Seconds of traffic.")
    var seconds: Double = 60

    @Option(help: "Seconds the terminals' starts are spread over.")
    var ramp: Double = 20

    @Option(help: "Mean seconds between one terminal's checks.")
    var checkInterval: Double = 300

    @Option(help: "Mean seconds between manifest fetches.")
    var manifestInterval: Double = 300

    @Option(help: "Seconds each long poll waits at the center.")
    var pollWait: Int = 60

    @Option(help: "Seconds the outboxes may take to drain after the traffic.")
    var drain: Double = 120

    @Option(help: ArgumentHelp("Write every item generated, \"unit id\" per line.", valueName: "file"))
    var generated: String?

    @Option(help: ArgumentHelp("Write every upload, \"seconds-since-start milliseconds ok|failed\" per line.", valueName: "file"))
    var uploadLog: String?

    func validate() throws {
        guard (1...50_000).contains(terminals) else { throw ValidationError("--terminals must be 1 to 50000") }
        guard seconds > 0, ramp >= 0, checkInterval > 0, manifestInterval > 0, drain >= 0 else {
            throw ValidationError("--seconds, --check-interval and --manifest-interval must be above 0; --ramp and --drain at least 0")
        }
        guard (0...60).contains(pollWait) else { throw ValidationError("--poll-wait must be 0 to 60") }
        guard url.hasPrefix("https://"), url.hasSuffix("/") else { throw ValidationError("--url must be https://…/") }
    }

    func run() throws {
        let names = units.map { $0.split(separator: ",").map(String.init) } ?? (1...terminals).map { String(format: "SIM-%04d", $0) }
        for unit in names where !FileManager.default.fileExists(atPath: "\(certificates)/\(unit).crt") {
            FileHandle.standardError.write(Data("mpolice-central: no certificate \(certificates)/\(unit).crt\n".utf8))
            throw ExitCode(1)
        }
        var configuration = FleetSimulator.Configuration(baseURL: url, caFile: ca, certificateDirectory: certificates, keyFile: key,
                                                         units: names, seconds: seconds)
        configuration.rampSeconds = ramp
        configuration.checkInterval = checkInterval
        configuration.manifestInterval = manifestInterval
        configuration.pollWait = pollWait
        configuration.drainSeconds = drain
        let simulator = FleetSimulator(configuration)
        let report = simulator.run { FileHandle.standardError.write(Data("simulate: \($0)\n".utf8)) }
        if let generated {
            try simulator.generated.map { "\($0.unit) \($0.id)\n" }.joined().write(toFile: generated, atomically: true, encoding: .utf8)
        }
        if let uploadLog {
            try simulator.samples.map { String(format: "%.3f %.3f %@\n", $0.at, $0.milliseconds, $0.ok ? "ok" : "failed") }.joined()
                .write(toFile: uploadLog, atomically: true, encoding: .utf8)
        }
        print(WireJSON.text(report))
        if report.itemsPending > 0 { throw ExitCode(4) }
    }
}
