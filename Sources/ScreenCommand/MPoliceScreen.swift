import ArgumentParser
import Foundation
import Hummingbird
import Logging
import NIOCore
import ScreenBridge

/// The officer's screen: serves the reference front-end on loopback and bridges it to the
/// daemon's Unix socket (docs/frontend.md). A separate program, a client of the socket like
/// any front-end: the daemon itself stays off TCP, and the bridge runs as a UI user with no
/// more rights than the screen it serves.
public struct MPoliceScreen: AsyncParsableCommand, Sendable {
    public static let configuration = CommandConfiguration(
        commandName: "mpolice-screen",
        abstract: "Serve the officer's screen on loopback, bridged to mpoliced's local API.",
        discussion: """
            Listens on 127.0.0.1:PORT only. At start it writes a fresh random token to
            --token-file (mode 0640, group --token-group: only the UI's users read it); every
            /v1/ request must carry it (Authorization: Bearer), and every request must name this
            host and port (Host) and come from this origin (Origin) — a page from elsewhere, or a
            DNS-rebound name, is refused. Open the screen with
            http://127.0.0.1:PORT/#token=<the token> (the kiosk launcher does).
            """)

    @Option(help: ArgumentHelp("mpoliced's socket.", valueName: "path"))
    var socket = "/run/mpolice/api.sock"

    @Option(help: "Loopback port to serve on.")
    var port = 8470

    @Option(help: ArgumentHelp("The front-end's files.", valueName: "dir"))
    var assets = "/usr/share/mpolice-agent/screen"

    @Option(help: ArgumentHelp("Where the per-boot token is written.", valueName: "path"))
    var tokenFile = "/run/mpolice-screen/token"

    @Option(help: ArgumentHelp("Group that may read the token (the UI's users).", valueName: "group"))
    var tokenGroup = "mpolice-ui"

    @Option(help: "Largest request body passed on (the daemon's api.max_body_bytes).")
    var maxBodyBytes = 16_384

    public func validate() throws {
        guard (1...65_535).contains(port) else { throw ValidationError("--port must be 1 to 65535") }
        guard (1_024...1_048_576).contains(maxBodyBytes) else { throw ValidationError("--max-body-bytes must be 1024 to 1048576") }
        var isDirectory: ObjCBool = false
        guard FileManager.default.fileExists(atPath: assets, isDirectory: &isDirectory), isDirectory.boolValue else {
            throw ValidationError("--assets: no directory \(assets)")
        }
    }

    public init() {}

    public func run() async throws {
        var logger = Logger(label: "mpolice-screen")
        logger.logLevel = .notice
        let token: String
        do {
            token = try BridgeToken.create(at: tokenFile, group: tokenGroup)
        } catch {
            FileHandle.standardError.write(Data("mpolice-screen: \(error)\n".utf8))
            throw ExitCode(1)
        }
        let bridge = ScreenBridge(socketPath: socket, port: port, assets: URL(fileURLWithPath: assets, isDirectory: true),
                                  token: token, maxBodyBytes: maxBodyBytes)
        let app = Application(router: bridge.router(), configuration: .init(address: .hostname("127.0.0.1", port: port), serverName: nil),
                              onServerRunning: { _ in
                                  FileHandle.standardError.write(Data("mpolice-screen: serving http://127.0.0.1:\(port)/ (token in \(tokenFile))\n".utf8))
                              },
                              logger: logger)
        try await app.runService()
    }
}
