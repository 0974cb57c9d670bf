import ArgumentParser
import FieldSync
import Foundation
import Location
import Store
import Watchlist

@main
struct MPoliceCtl: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "mpolicectl",
        abstract: "Checks, status and diagnostics for the M-Police field terminal.",
        discussion: """
            Exit codes: 0 done (whatever the check's outcome), 1 the store could not be used,
            2 the entry was refused (empty, wrong shape, bad characters), 3 a sync failed (the
            reason code says why), 64 usage error.
            """,
        subcommands: [CheckCommand.self, StatusCommand.self, LocationCommand.self, SyncCommand.self])
}

/// Options every command that reads the state directory shares.
struct StoreOptions: ParsableArguments {
    @Option(name: .customLong("db"), help: ArgumentHelp("State directory holding lists.db and journal.db.", valueName: "dir"))
    var stateDirectory: String = ProcessInfo.processInfo.environment["MPOLICE_STATE_DIR"] ?? "/var/lib/mpolice"

    @Flag(help: "Print a stable machine-readable JSON answer (docs/check-answer.md).")
    var json = false
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
