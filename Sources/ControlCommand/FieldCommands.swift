import ArgumentParser
import Foundation
import LocalAPIContract
import Store
import Watchlist

struct EmergencyCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "emergency",
        abstract: "\"Officer needs help\": raise it, cancel it (the officer's PIN), or show it.",
        discussion: """
            Raising sends the emergency to the center before anything else in the outbox, at once
            and again every second until the center acknowledges it; while it is active a
            breadcrumb goes up every 2 s. It stays active across a restart until cancelled.
            Cancelling asks for the signed-in officer's PIN (root, a technician, needs none).
            """,
        subcommands: [Raise.self, Cancel.self, Show.self],
        defaultSubcommand: Raise.self)

    struct Raise: ParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Raise the emergency (again while active: the same one).")
        @OptionGroup var store: StoreOptions

        func run() throws {
            do {
                let emergency = try store.daemon.call("POST", "/v1/emergency", as: Emergency.self)
                store.print(emergency) { "EMERGENCY ACTIVE \($0.emergencyId) since \($0.raisedAt): queued first for the center" }
            } catch {
                throw Failure.exit(error, json: store.json)
            }
        }
    }

    struct Cancel: ParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Cancel the active emergency (the officer's PIN is asked for).")
        @OptionGroup var store: StoreOptions

        func run() throws {
            do {
                let pin = getuid() == 0 ? nil : try SecretInput().read("PIN: ", secret: true)
                let cleared = try store.daemon.call("POST", "/v1/emergency/cancel", body: EmergencyCancelRequest(pin: pin), as: Emergency.self)
                store.print(cleared) { "emergency \($0.emergencyId) cancelled at \($0.clearedAt ?? "?") by \($0.clearedBy ?? "?")" }
            } catch {
                throw Failure.exit(error, json: store.json)
            }
        }
    }

    struct Show: ParsableCommand {
        static let configuration = CommandConfiguration(abstract: "The active emergency, if any, and the last ones.")
        @OptionGroup var store: StoreOptions

        func run() throws {
            do {
                let state = try store.daemon.call("GET", "/v1/emergency", as: EmergencyState.self)
                store.print(state) { state in
                    var lines = [state.active.map { "EMERGENCY ACTIVE \($0.emergencyId) since \($0.raisedAt)" } ?? "no emergency active"]
                    for e in state.recent where !e.active {
                        lines.append("  \(e.raisedAt) → \(e.clearedAt ?? "?")  \(e.emergencyId)  cancelled by \(e.clearedBy ?? "?")")
                    }
                    return lines.joined(separator: "\n")
                }
            } catch {
                throw Failure.exit(error, json: store.json)
            }
        }
    }
}

struct UnitStatusCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "unit-status",
        abstract: "Set the unit's status for the center (or show it).",
        discussion: """
            available, busy, en-route, on-scene, out-of-service or meal-break. Moving a dispatch
            en-route or on-scene sets the unit's status the same; clearing it (or the center
            cancelling or reassigning it) makes the unit available. Sent through the outbox.
            """)

    @Argument(help: "The new status; none: show the current one.") var status: String?
    @OptionGroup var store: StoreOptions

    func run() throws {
        do {
            guard let status else {
                let current = try store.daemon.status().unitStatus
                store.print(current) { current in
                    current.map { "\($0.status.rawValue) since \($0.at) (\($0.source == .officer ? "set by \($0.officerId)" : "by dispatch \($0.dispatchId ?? "?")"))" }
                        ?? "no unit status set yet"
                }
                return
            }
            let set = try store.daemon.call("POST", "/v1/unit-status", body: UnitStatusRequest(status: status), as: UnitStatusRecord.self)
            store.print(set) { "unit \($0.status.rawValue) (queued for the center)" }
        } catch {
            throw Failure.exit(error, json: store.json)
        }
    }
}

struct IncidentCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "incident",
        abstract: "A traffic or person stop the officer starts: open it, close it, list them.",
        discussion: """
            A stop is opened at the terminal's current position and reaches the center as an
            incident of this unit; every check made while it is open names it. One stop is open
            at a time.
            """,
        subcommands: [Open.self, Close.self, List.self])

    struct Open: ParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Open a stop here: traffic-stop or person-stop.")
        @Argument(help: "traffic-stop or person-stop.") var kind: String
        @Option(help: "A short note (at most 500 characters).") var note: String?
        @OptionGroup var store: StoreOptions

        func run() throws {
            do {
                let incident = try store.daemon.call("POST", "/v1/incidents", body: IncidentRequest(kind: kind, note: note), as: Incident.self)
                store.print(incident) { "\($0.kind.rawValue) \($0.incidentId) opened at \($0.openedAt)" }
            } catch {
                throw Failure.exit(error, json: store.json)
            }
        }
    }

    struct Close: ParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Close a stop.")
        @Argument(help: "The stop's id.") var id: String
        @Option(help: "What was done (at most 500 characters).") var note: String?
        @OptionGroup var store: StoreOptions

        func run() throws {
            do {
                let incident = try store.daemon.call("POST", "/v1/incidents/\(try DispatchCommand.pathSegment(id, what: "a stop id"))/close",
                                                     body: IncidentCloseRequest(note: note), as: Incident.self)
                store.print(incident) { "\($0.kind.rawValue) \($0.incidentId) closed; \($0.checks) checks during it" }
            } catch {
                throw Failure.exit(error, json: store.json)
            }
        }
    }

    struct List: ParsableCommand {
        static let configuration = CommandConfiguration(abstract: "The stops, newest first.")
        @OptionGroup var store: StoreOptions

        func run() throws {
            do {
                let list = try store.daemon.call("GET", "/v1/incidents", as: IncidentList.self)
                store.print(list) { list in
                    guard !list.incidents.isEmpty else { return "no stops" }
                    return list.incidents.map { i in
                        "\(i.incidentId)  \(i.kind.rawValue)  \(i.open ? "open  " : "closed")  \(i.openedAt)  \(i.checks) checks"
                    }.joined(separator: "\n")
                }
            } catch {
                throw Failure.exit(error, json: store.json)
            }
        }
    }
}

struct OutcomeCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "outcome",
        abstract: "Record what happened after a hit: confirmed-acted, no-longer-wanted, not-the-person or released.",
        discussion: """
            The center counts the outcomes: vehicles recovered, fugitives caught, missing people
            found (mpolice-central report outcomes). One outcome per check; sent through the outbox.
            """)

    @Argument(help: "The check's id (as the answer gave it).") var checkId: String
    @Argument(help: "confirmed-acted, no-longer-wanted, not-the-person or released.") var outcome: String
    @Option(help: "A short note (at most 500 characters).") var note: String?
    @OptionGroup var store: StoreOptions

    func run() throws {
        do {
            let recorded = try store.daemon.call("POST", "/v1/checks/\(try DispatchCommand.pathSegment(checkId, what: "a check id"))/outcome",
                                                 body: HitOutcomeRequest(outcome: outcome, note: note), as: RecordedHitOutcome.self)
            store.print(recorded) { "check \($0.checkId): \($0.outcome.rawValue) (queued for the center)" }
        } catch {
            throw Failure.exit(error, json: store.json)
        }
    }
}

struct ConfirmCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "confirm",
        abstract: "Ask the center to confirm a hit: still active, no longer active, or not found.",
        discussion: """
            Queued first in the outbox (offline, it waits there and goes when the link returns);
            the center answers from its current records over the long poll. `mpolicectl check
            show CHECK-ID` shows the answer; `mpolicectl events` raises hit-confirmation when it
            comes and hit-confirmation-overdue when the deadline (10 min urgent, 1 h routine) passes.
            """)

    @Argument(help: "The check's id (as the answer gave it).") var checkId: String
    @Flag(help: "Not urgent: the center has an hour to answer (default: 10 minutes).") var routine = false
    @Option(help: "Wait this many seconds for the center's answer and print it (0: return once queued).") var wait: Double = 0
    @OptionGroup var store: StoreOptions

    func validate() throws {
        guard (0...3_600).contains(wait) else { throw ValidationError("--wait must be 0 to 3600 seconds") }
    }

    func run() throws {
        do {
            let segment = try DispatchCommand.pathSegment(checkId, what: "a check id")
            var asked = try store.daemon.call("POST", "/v1/checks/\(segment)/confirm", body: ConfirmationRequest(urgent: !routine),
                                              as: HitConfirmation.self)
            let deadline = Date().addingTimeInterval(wait)
            while asked.answer == nil, Date() < deadline {
                Thread.sleep(forTimeInterval: 0.2)
                asked = try store.daemon.call("GET", "/v1/checks/\(segment)", as: CheckDetail.self).confirmation ?? asked
            }
            store.print(asked) { f in
                guard let answer = f.answer else { return "check \(f.checkId): confirmation asked (\(f.urgent ? "urgent" : "routine"), deadline \(f.deadline))" }
                return "check \(f.checkId): \(MessageCatalogue.text(Notice("confirmation.\(answer.state.rawValue)"), in: store.language))"
            }
        } catch {
            throw Failure.exit(error, json: store.json)
        }
    }
}

struct BulletinsCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "bulletins",
        abstract: "The urgent bulletins every check matches now.")

    @OptionGroup var store: StoreOptions

    func run() throws {
        do {
            let list = try store.daemon.call("GET", "/v1/bulletins", as: BulletinList.self)
            store.print(list) { l in
                l.bulletins.isEmpty ? "no urgent bulletins"
                    : l.bulletins.map { "\($0.kind) \($0.subject): \($0.summary)  [until \($0.expiresAt)\($0.region.map { ", \($0)" } ?? "")]" }
                        .joined(separator: "\n")
            }
        } catch {
            throw Failure.exit(error, json: store.json)
        }
    }
}
