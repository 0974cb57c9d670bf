import ArgumentParser
import TerminalConfiguration
import FieldWire
import Foundation
import LocalAPIClient
import Location
import Watchlist

struct LocationCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "location",
        abstract: "Show the terminal's position state and fix from gpsd.",
        discussion: """
            Asks the daemon for its location state, or with --gpsd connects to gpsd itself and
            waits up to --timeout seconds for a fix. The state is no-gpsd, no-device, no-fix,
            2d, 3d or stale, with the last fix and its age. Exit 0 with a current fix, 1
            without one, 2 for a bad --gpsd address. The --json fields are described in
            docs/location.md.
            """)

    @Option(help: ArgumentHelp("Ask this gpsd directly instead of the daemon.", valueName: "host:port"))
    var gpsd: String?

    @Option(help: ArgumentHelp("The daemon's socket.", valueName: "path"))
    var socket: String = ProcessInfo.processInfo.environment["MPOLICE_SOCKET"] ?? AgentConfiguration.API.defaultSocket

    @Option(help: "Seconds to wait for a fix.")
    var timeout: Double = 10

    @Option(help: "Seconds after which a fix that has not been renewed is stale.")
    var maxFixAge: Double = 10

    @Flag(help: "Print the state as JSON.")
    var json = false

    func validate() throws {
        guard timeout >= 0, timeout <= 3600 else { throw ValidationError("--timeout must be 0 to 3600 seconds") }
        guard maxFixAge > 0, maxFixAge <= 3600 else { throw ValidationError("--max-fix-age must be above 0 and at most 3600") }
    }

    func run() async throws {
        guard let gpsd else {
            let state: LocationState
            do {
                state = try APIClient(socketPath: socket).location()
            } catch {
                throw Failure.exit(error, json: json)
            }
            try print(state)
            return
        }
        guard let address = GPSSettings.address(gpsd) else {
            throw Failure.exit(InputError(.wrongShape, field: "gpsd", "gpsd address must be HOST:PORT with a port 1-65535"), json: json)
        }
        let service = LocationService(GPSSettings(host: address.host, port: address.port, maxFixAge: maxFixAge))
        let task = Task { await service.run() }
        let deadline = Date().addingTimeInterval(timeout)
        while Date() < deadline, !service.state().hasCurrentFix {
            try await Task.sleep(for: .milliseconds(100))
        }
        let state = service.state()
        task.cancel()
        await task.value
        try print(state)
    }

    private func print(_ state: LocationState) throws {
        if json {
            Swift.print(WireJSON.text(state))
        } else {
            Swift.print(Self.text(state))
        }
        if !state.hasCurrentFix { throw ExitCode(1) }
    }

    static func text(_ s: LocationState) -> String {
        var lines = ["gpsd \(s.gpsd): \(s.status.rawValue)\(s.detail.map { " — \($0)" } ?? "")"]
        if let f = s.lastFix {
            var fix = String(format: "  %.6f, %.6f  (%@ fix at %@", f.latitude, f.longitude, f.mode.rawValue, f.time)
            if let age = s.fixAgeSeconds { fix += String(format: ", %.1f s ago", age) }
            fix += ")"
            lines.append(fix)
            var extra: [String] = []
            if let a = f.altitudeMSL { extra.append(String(format: "alt %.1f m MSL", a)) }
            if let v = f.speed { extra.append(String(format: "%.1f km/h", v * 3.6)) }
            if let t = f.track { extra.append(String(format: "track %.0f°", t)) }
            if let e = f.horizontalError { extra.append(String(format: "±%.0f m", e)) }
            if let n = f.satellitesUsed { extra.append("\(n) satellites") }
            if !extra.isEmpty { lines.append("  " + extra.joined(separator: ", ")) }
        } else {
            lines.append("  no fix yet")
        }
        return lines.joined(separator: "\n")
    }
}
