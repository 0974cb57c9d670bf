import ArgumentParser
import Foundation
import LocalAPIContract
import Store
import Watchlist

struct DispatchCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "dispatch",
        abstract: "Dispatches from the command center: list them, show one, report progress on one.",
        discussion: """
            Status changes go in order received → en-route → on-scene → cleared; a dispatch can be
            cleared from any open status and clearing needs --disposition. Each change is sent to
            the center with its time and the terminal's position, through the outbox (it is kept
            until the center acknowledges it, also across a lost link or a restart).
            """,
        subcommands: [List.self, Show.self, Status.self])

    struct List: ParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Open dispatches first, newest first; then cleared ones.")
        @OptionGroup var store: StoreOptions

        func run() throws {
            do {
                store.print(DispatchList(dispatches: try store.daemon.dispatches())) { list in
                    guard !list.dispatches.isEmpty else { return "no dispatches" }
                    return list.dispatches.map { d in
                        [d.order.id, d.order.priority.padding(toLength: 7, withPad: " ", startingAt: 0),
                         d.status.rawValue.padding(toLength: 8, withPad: " ", startingAt: 0), d.receivedAt, d.order.summary]
                            .joined(separator: "  ")
                    }.joined(separator: "\n")
                }
            } catch {
                throw Failure.exit(error, json: store.json)
            }
        }
    }

    struct Show: ParsableCommand {
        static let configuration = CommandConfiguration(abstract: "One dispatch with its history.")
        @Argument(help: "The dispatch id.") var id: String
        @OptionGroup var store: StoreOptions

        func run() throws {
            do {
                store.print(try store.daemon.dispatch(id: try DispatchCommand.pathSegment(id)), text: DispatchCommand.detail)
            } catch {
                throw Failure.exit(error, json: store.json)
            }
        }
    }

    struct Status: ParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Report progress: en-route, on-scene or cleared.")
        @Argument(help: "The dispatch id.") var id: String
        @Argument(help: "en-route, on-scene or cleared.") var status: String
        @Option(help: "What was done (required with cleared).") var disposition: String?
        @OptionGroup var store: StoreOptions

        func run() throws {
            do {
                let dispatch = try store.daemon.changeDispatch(id: try DispatchCommand.pathSegment(id),
                                                               DispatchStatusRequest(status: status, disposition: disposition))
                store.print(dispatch) { "\($0.order.id): \($0.status.rawValue) (queued for the center)" }
            } catch {
                throw Failure.exit(error, json: store.json)
            }
        }
    }

    /// Ids are UUIDs; anything else is refused before it reaches a URL.
    static func pathSegment(_ id: String, what: String = "a dispatch id") throws -> String {
        guard id.count == 36, id.allSatisfy({ $0.isHexDigit || $0 == "-" }) else {
            throw InputError(.wrongShape, field: "id", "\(what) is a UUID (36 characters, as the terminal gave it)")
        }
        return id.lowercased()
    }

    static func detail(_ d: Dispatch) -> String {
        var lines = [
            "dispatch   \(d.order.id)",
            "priority   \(d.order.priority)",
            "summary    \(d.order.summary)",
        ]
        if let type = d.order.incidentType { lines.append("type       \(type)") }
        if let address = d.order.address { lines.append("address    \(address)") }
        if let lat = d.order.latitude, let lon = d.order.longitude { lines.append("scene      \(lat), \(lon)") }
        if let number = d.order.callbackNumber { lines.append("call-back  \(number)") }
        if let notes = d.order.notes { lines.append("notes      \(notes)") }
        lines.append("created    \(d.order.createdAt) (center)")
        lines.append("status     \(d.status.rawValue)\(d.disposition.map { " — \($0)" } ?? "")")
        for change in d.history {
            let position = change.location.latitude.flatMap { lat in change.location.longitude.map { "\(lat), \($0)" } } ?? change.location.status
            lines.append("  \(change.at)  \(change.status.rawValue.padding(toLength: 8, withPad: " ", startingAt: 0))  \(change.officerId.isEmpty ? "terminal" : change.officerId)  \(position)"
                         + (change.refused.map { "  REFUSED by the center: \($0)" } ?? ""))
        }
        for change in d.centerChanges {
            lines.append("  \(change.at)  \(change.change.rawValue) by the center\(change.reason.map { ": \($0)" } ?? "")")
        }
        return lines.joined(separator: "\n")
    }
}
