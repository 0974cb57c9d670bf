import ArgumentParser
import TerminalConfiguration
import FieldWire
import Foundation
import LocalAPIClient
import LocalAPIContract
import Store
import Watchlist

public struct MPoliceCtl: AsyncParsableCommand, Sendable {
    public static let configuration = CommandConfiguration(
        commandName: "mpolicectl",
        abstract: "Checks, status and diagnostics for the M-Police field terminal.",
        discussion: """
            Commands ask the running daemon over its socket (--socket, default
            /run/mpolice/api.sock); with --db they work on a state directory directly.

            Exit codes, the same through the daemon and with --db: 0 done (whatever the check's
            outcome), 1 the daemon or the store could not be used, 2 the request was refused
            (a bad entry, no officer signed in, a dispatch change out of order), 3 a sync
            failed (the reason code says why), 64 usage error.
            """,
        subcommands: [CheckCommand.self, StatusCommand.self, LocationCommand.self, SyncCommand.self, SignInCommand.self,
                      SignOutCommand.self, UnlockCommand.self, LiftLockoutCommand.self, EventsCommand.self, DispatchCommand.self,
                      EmergencyCommand.self, UnitStatusCommand.self, IncidentCommand.self, OutcomeCommand.self, ConfirmCommand.self, BulletinsCommand.self,
                      OrderCommand.self, LiftLockCommand.self, EraseKeysCommand.self, DiagCommand.self])

    public init() {}
}

/// Where a command gets its answers: the running daemon over its socket (the default), or,
/// with `--db`, a state directory read directly (the daemon stopped, or a technician's copy).
struct StoreOptions: ParsableArguments {
    @Option(name: .customLong("db"), help: ArgumentHelp("Work offline on this state directory instead of asking the daemon (default: $MPOLICE_STATE_DIR if set).", valueName: "dir"))
    var db: String?

    /// `--db`, else $MPOLICE_STATE_DIR; nil: ask the daemon.
    var offlineDirectory: String? { db ?? ProcessInfo.processInfo.environment["MPOLICE_STATE_DIR"] }

    @Option(help: ArgumentHelp("The daemon's socket.", valueName: "path"))
    var socket: String = ProcessInfo.processInfo.environment["MPOLICE_SOCKET"] ?? AgentConfiguration.API.defaultSocket

    @Flag(help: "Print stable machine-readable JSON (docs/checks.md, docs/api/openapi.yaml).")
    var json = false

    var daemon: APIClient { APIClient(socketPath: socket, language: language) }

    /// The words of answers and errors follow the locale (`LANG=zh_TW.UTF-8`); codes and
    /// `--json` field names do not change.
    var language: MessageLanguage { MessageLanguage(environment: ProcessInfo.processInfo.environment) }

    /// The state directory at `path`, this process switched to its owner first (run as root
    /// on the daemon's directory, every file it creates there is the daemon's).
    func stateDirectory(_ path: String) throws -> StateDirectory {
        let directory = StateDirectory(path: path)
        try directory.actAsOwner()
        return directory
    }

    /// Prints `value` as JSON, or `text` of it.
    func print<T: Encodable>(_ value: T, text: (T) -> String) {
        Swift.print(json ? WireJSON.text(value) : text(value))
    }
}

/// The documented exit codes, one table for both paths (through the daemon and `--db`).
enum ExitStatus {
    /// The daemon or the store could not be used.
    static let unusable: Int32 = 1
    /// The request was refused: a bad entry, no officer, a change out of order.
    static let refused: Int32 = 2
    static let syncFailed: Int32 = 3
}

/// Maps failures to the documented exit codes and prints them as text or JSON.
enum Failure {
    static func exit(_ error: any Error, json: Bool) -> ExitCode {
        let code: String, field: String?, message: String, status: Int32
        switch error {
        case let e as InputError:
            (code, field, message, status) = (e.code.rawValue, e.field, e.message, ExitStatus.refused)
        case let e as StoreError:
            (code, field, message, status) = (e.code.rawValue, nil, e.message, ExitStatus.unusable)
        case let e as ValidationError:
            (code, field, message, status) = ("usage", nil, e.message, ExitStatus.refused)
        case let e as APIClient.Refusal:
            (code, field, message, status) = (e.code, e.field, e.message, (400..<500).contains(e.status) ? ExitStatus.refused : ExitStatus.unusable)
        case let e as APIClient.Unreachable:
            (code, field, message, status) = ("daemon.unreachable", nil, e.description, ExitStatus.unusable)
        case let e as SyncFailure:
            (code, field, message, status) = ("sync.\(e.reason.rawValue)", nil, e.message, ExitStatus.syncFailed)
        default:
            (code, field, message, status) = ("internal", nil, "\(error)", ExitStatus.unusable)
        }
        if json {
            print(WireJSON.text(APIErrorBody(code: code, message: message, field: field)))
        } else {
            FileHandle.standardError.write(Data("mpolicectl: \(field.map { "\($0): " } ?? "")\(message) [\(code)]\n".utf8))
        }
        return ExitCode(status)
    }
}
