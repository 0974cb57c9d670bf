import Agent
import ArgumentParser
import TerminalConfiguration
import Foundation
import Logging
import Store

/// The terminal daemon: reads its configuration, then runs the agent until SIGTERM/SIGINT.
/// Exit codes: 0 stopped cleanly, 1 could not start, 78 bad configuration (EX_CONFIG).
public struct MPoliced: AsyncParsableCommand, Sendable {
    public static let configuration = CommandConfiguration(
        commandName: "mpoliced",
        abstract: "M-Police field terminal daemon.",
        discussion: """
            Runs as a systemd service (Type=notify): opens the state directory, reads positions
            from gpsd, keeps the watch lists in sync with the center and serves the local API on
            its Unix socket. Every configuration key is in docs/configuration.md.
            Exit codes: 0 stopped, 1 could not start, 78 bad configuration.
            """)

    @Option(help: ArgumentHelp("Configuration file.", valueName: "file"))
    var config = AgentConfiguration.defaultPath

    @Option(name: .customLong("state-dir"), help: ArgumentHelp("With --prepare-only: the state directory (default: from the configuration).", valueName: "dir"))
    var stateDirectory: String?

    @Flag(help: "Create and migrate the databases, verify them (quick_check), and exit.")
    var prepareOnly = false

    public init() {}

    public func run() async throws {
        if prepareOnly, let stateDirectory {
            try prepare(stateDirectory)
            return
        }
        let configuration: AgentConfiguration
        do {
            configuration = try AgentConfiguration.load(path: config)
        } catch let error as ConfigurationError {
            FileHandle.standardError.write(Data("mpoliced: configuration: \(error)\n".utf8))
            throw ExitCode(78)
        }
        if prepareOnly {
            try prepare(configuration.terminal.stateDirectory)
            return
        }
        let level = Logger.Level(rawValue: configuration.log.level) ?? .info
        LoggingSystem.bootstrap { label in
            var handler = StreamLogHandler.standardError(label: label)
            handler.logLevel = level
            return handler
        }
        let logger = Logger(label: "mpoliced")
        do {
            try await Agent.run(configuration, logger: logger)
        } catch {
            logger.critical("cannot run", metadata: ["error": "\(error)"])
            throw ExitCode(1)
        }
    }

    private func prepare(_ path: String) throws {
        let directory = StateDirectory(path: path)
        do {
            try directory.actAsOwner()
            try directory.create()
            let lists = try ListsStore.open(directory)
            let journal = try JournalStore.open(path: directory.journalPath)
            let listsCheck = try lists.quickCheck(), journalCheck = try journal.quickCheck()
            guard listsCheck == "ok", journalCheck == "ok" else {
                FileHandle.standardError.write(Data("mpoliced: integrity check failed: lists.db \(listsCheck); journal.db \(journalCheck)\n".utf8))
                throw ExitCode(1)
            }
            print("mpoliced: state directory \(directory.url.path) ready (lists.db, journal.db: ok)")
        } catch let error as StoreError {
            FileHandle.standardError.write(Data("mpoliced: \(error)\n".utf8))
            throw ExitCode(1)
        }
    }
}
