import ArgumentParser
import FieldSync
import Foundation
import LocalAPIClient
import Location
import Store
import Watchlist

@main
struct MPoliceCtl: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "mpolicectl",
        abstract: "Checks, status and diagnostics for the M-Police field terminal.",
        discussion: """
            Commands ask the running daemon over its socket (--socket, default
            /run/mpolice/api.sock); with --db they work on a state directory directly.

            Exit codes: 0 done (whatever the check's outcome), 1 the store could not be used,
            2 the entry was refused (empty, wrong shape, bad characters), 3 a sync failed (the
            reason code says why), 64 usage error.
            """,
        subcommands: [CheckCommand.self, StatusCommand.self, LocationCommand.self, SyncCommand.self, SignInCommand.self,
                      SignOutCommand.self, EventsCommand.self, DispatchCommand.self, DiagCommand.self])
}

/// Where a command gets its answers: the running daemon over its socket (the default), or,
/// with `--db`, a state directory read directly (the daemon stopped, or a technician's copy).
struct StoreOptions: ParsableArguments {
    @Option(name: .customLong("db"), help: ArgumentHelp("Work offline on this state directory instead of asking the daemon (default: $MPOLICE_STATE_DIR if set).", valueName: "dir"))
    var db: String?

    /// `--db`, else $MPOLICE_STATE_DIR; nil: ask the daemon.
    var offlineDirectory: String? { db ?? ProcessInfo.processInfo.environment["MPOLICE_STATE_DIR"] }

    @Option(help: ArgumentHelp("The daemon's socket.", valueName: "path"))
    var socket: String = ProcessInfo.processInfo.environment["MPOLICE_SOCKET"] ?? APIClient.defaultSocket

    @Flag(help: "Print stable machine-readable JSON (docs/checks.md, docs/api/openapi.yaml).")
    var json = false

    var daemon: Daemon { Daemon(client: APIClient(socketPath: socket)) }
}

/// Calls into the running daemon; a non-2xx answer becomes a `DaemonError` with the API's
/// stable code.
struct Daemon {
    let client: APIClient

    /// The 2xx body of a request; `body` is sent as a JSON object.
    func call(_ method: String, _ path: String, body: [String: String]? = nil) throws -> Data {
        let data = try body.map { try JSONEncoder.stable.encode($0) }
        let response = try client.request(method, path, json: data)
        guard (200..<300).contains(response.status) else {
            let object = (try? JSONSerialization.jsonObject(with: response.body)) as? [String: Any]
            let error = object?["error"] as? [String: Any]
            throw DaemonError(status: response.status, code: error?["code"] as? String ?? "http-\(response.status)",
                              message: error?["message"] as? String ?? "HTTP \(response.status)", field: error?["field"] as? String)
        }
        return response.body
    }
}

struct DaemonError: Error {
    var status: Int
    var code: String
    var message: String
    var field: String?
}

/// Maps failures to the documented exit codes and prints them as text or JSON.
enum Failure {
    static func exit(_ error: any Error, json: Bool) -> ExitCode {
        let code: String, field: String?, message: String, status: Int32
        switch error {
        case let e as InputError:
            (code, field, message, status) = (e.code.rawValue, e.field, e.message, 2)
        case let e as StoreError:
            (code, field, message, status) = (e.code.rawValue, nil, e.message, 1)
        case let e as DaemonError:
            let refused = e.status == 400
            (code, field, message, status) = (e.code, e.field, e.message, refused ? 2 : 1)
        case let e as APIClient.Unreachable:
            (code, field, message, status) = ("daemon.unreachable", nil, e.description, 1)
        case let e as SyncFailure:
            (code, field, message, status) = ("sync.\(e.reason.rawValue)", nil, e.message, 3)
        case let e as LocationError:
            (code, field, message, status) = (e.code.rawValue, e.code == .badAddress ? "gpsd" : nil, e.message, e.code == .badAddress ? 2 : 1)
        default:
            (code, field, message, status) = ("internal", nil, "\(error)", 1)
        }
        if json {
            var object: [String: String] = ["code": code, "message": message]
            object["field"] = field
            let data = try! JSONEncoder.stable.encode(["error": object])
            print(String(decoding: data, as: UTF8.self))
        } else {
            FileHandle.standardError.write(Data("mpolicectl: \(field.map { "\($0): " } ?? "")\(message) [\(code)]\n".utf8))
        }
        return ExitCode(status)
    }
}

extension JSONEncoder {
    static var stable: JSONEncoder {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
        return encoder
    }
}
