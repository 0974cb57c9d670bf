import ArgumentParser
import FieldWire
import Foundation
import LocalAPIClient
import LocalAPIContract
import Watchlist

struct SignInCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "signin",
        abstract: "Sign an officer in on the terminal (checks need one; the id goes into every check record).")

    @Argument(help: "The officer's id.") var officer: String
    @OptionGroup var store: StoreOptions

    func run() throws {
        do {
            let session = try store.daemon.signIn(SessionRequest(officerId: officer))
            store.print(session) { "signed in: \($0.officerId)" }
        } catch {
            throw Failure.exit(error, json: store.json)
        }
    }
}

struct SignOutCommand: ParsableCommand {
    static let configuration = CommandConfiguration(commandName: "signout", abstract: "Sign the officer out.")

    @OptionGroup var store: StoreOptions

    struct SignedOut: Encodable { var signedOut = true }

    func run() throws {
        do {
            try store.daemon.signOut()
            store.print(SignedOut()) { _ in "signed out" }
        } catch {
            throw Failure.exit(error, json: store.json)
        }
    }
}

struct EventsCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "events",
        abstract: "Follow the daemon's events: \(EventName.allCases.map(\.rawValue).joined(separator: ", ")).",
        discussion: "One line per event (with --json: the event's JSON object with its name added) until interrupted.")

    @OptionGroup var store: StoreOptions

    @Option(help: "Stop after this many events.")
    var count: Int?

    func run() throws {
        var buffer = ""
        var seen = 0
        let json = store.json, limit = count
        do {
            let status = try store.daemon.stream("/v1/events") { data in
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
                    let line = json ? #"{"data":\#(payload),"event":\#(WireJSON.text(name))}"#
                                    : "\(Timestamp.iso8601(seconds: SystemClock().nowSeconds)) \(name) \(payload)"
                    FileHandle.standardOutput.write(Data((line + "\n").utf8))
                    seen += 1
                    if let limit, seen >= limit { return false }
                }
                return true
            }
            guard status == 200 else { throw APIClient.Refusal(status: status, code: "http-\(status)", message: "the event stream was refused") }
        } catch {
            throw Failure.exit(error, json: store.json)
        }
    }
}
