import ArgumentParser
import Foundation
import Watchlist

struct SignInCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "signin",
        abstract: "Sign an officer in on the terminal (checks need one; the id goes into every check record).")

    @Argument(help: "The officer's id.") var officer: String
    @OptionGroup var store: StoreOptions

    func run() throws {
        do {
            let data = try store.daemon.call("POST", "/v1/session", body: ["officerId": officer])
            print(store.json ? String(decoding: data, as: UTF8.self) : "signed in: \(officer)")
        } catch {
            throw Failure.exit(error, json: store.json)
        }
    }
}

struct SignOutCommand: ParsableCommand {
    static let configuration = CommandConfiguration(commandName: "signout", abstract: "Sign the officer out.")

    @OptionGroup var store: StoreOptions

    func run() throws {
        do {
            _ = try store.daemon.call("DELETE", "/v1/session")
            print(store.json ? #"{"signedOut":true}"# : "signed out")
        } catch {
            throw Failure.exit(error, json: store.json)
        }
    }
}

struct EventsCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "events",
        abstract: "Follow the daemon's events: list updated, sync failed, GPS state changed.",
        discussion: "One line per event (with --json: the event's JSON object with its name added) until interrupted.")

    @OptionGroup var store: StoreOptions

    @Option(help: "Stop after this many events.")
    var count: Int?

    func run() throws {
        var buffer = ""
        var seen = 0
        let json = store.json, limit = count
        do {
            let status = try store.daemon.client.stream("/v1/events") { data in
                buffer += String(decoding: data, as: UTF8.self)
                while let end = buffer.range(of: "\n\n") {
                    let block = buffer[..<end.lowerBound]
                    buffer.removeSubrange(..<end.upperBound)
                    var name: String?, payload: String?
                    for line in block.split(separator: "\n") {
                        if line.hasPrefix("event: ") { name = String(line.dropFirst(7)) }
                        if line.hasPrefix("data: ") { payload = String(line.dropFirst(6)) }
                    }
                    guard let name, let payload else { continue }
                    // Written straight through, so a pipe sees each event as it happens.
                    let line = json ? #"{"event":"\#(name)","data":\#(payload)}"#
                                    : "\(Timestamp.iso8601(seconds: Int64(Date().timeIntervalSince1970))) \(name) \(payload)"
                    FileHandle.standardOutput.write(Data((line + "\n").utf8))
                    seen += 1
                    if let limit, seen >= limit { return false }
                }
                return true
            }
            guard status == 200 else { throw DaemonError(status: status, code: "http-\(status)", message: "the event stream was refused") }
        } catch {
            throw Failure.exit(error, json: store.json)
        }
    }
}

