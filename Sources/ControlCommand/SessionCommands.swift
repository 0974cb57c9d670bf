import ArgumentParser
import FieldWire
import Foundation
import LocalAPIClient
import LocalAPIContract
import Store
import TerminalConfiguration
import Watchlist

struct SignInCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "signin",
        abstract: "Sign an officer in on the terminal (checks need one; the id goes into every check record).",
        discussion: """
            The PIN is asked for on the terminal without echo (or read as the first line of
            standard input when that is not a terminal); it is never an argument, so it never
            shows in ps. An officer with a second factor gives the one-time code too (asked
            for, or --otp). Replacing a signed-in officer asks for their PIN as well, unless
            run as root (a technician).
            """)

    @Argument(help: "The officer's id.") var officer: String
    @Option(help: "The one-time code from the officer's authenticator (asked for when needed).") var otp: String?
    @OptionGroup var store: StoreOptions

    func run() throws {
        do {
            let input = SecretInput()
            var request = SessionRequest(officerId: officer, pin: try input.read("PIN for \(officer): ", secret: true), otp: otp)
            while true {
                do {
                    let session = try store.daemon.signIn(request)
                    store.print(session) { "signed in: \($0.officerId) \($0.name) (\($0.authentication))" }
                    return
                } catch let refusal as APIClient.Refusal where refusal.code == SessionErrorCode.otpRequired.rawValue && request.otp == nil {
                    request.otp = try input.read("One-time code: ", secret: false)
                } catch let refusal as APIClient.Refusal where refusal.code == SessionErrorCode.inUse.rawValue && request.currentPin == nil {
                    request.currentPin = try input.read("PIN of the officer signed in now: ", secret: true)
                }
            }
        } catch {
            throw Failure.exit(error, json: store.json)
        }
    }
}

struct SignOutCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "signout", abstract: "Sign the officer out (their PIN is asked for; root, a technician, needs none).")

    @OptionGroup var store: StoreOptions

    struct SignedOut: Encodable { var signedOut = true }

    func run() throws {
        do {
            let input = SecretInput()
            try store.daemon.signOut(pin: getuid() == 0 ? nil : try input.read("PIN: ", secret: true))
            store.print(SignedOut()) { _ in "signed out" }
        } catch {
            throw Failure.exit(error, json: store.json)
        }
    }
}

struct UnlockCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "unlock", abstract: "Unlock the session after the idle lock (the officer's PIN; root, a technician, needs none).")

    @OptionGroup var store: StoreOptions

    func run() throws {
        do {
            let input = SecretInput()
            let session = try store.daemon.unlock(pin: getuid() == 0 ? nil : try input.read("PIN: ", secret: true))
            store.print(session) { "unlocked: \($0.officerId)" }
        } catch {
            throw Failure.exit(error, json: store.json)
        }
    }
}

struct LiftLockoutCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "lift-lockout",
        abstract: "Lift an officer's lockout after five failed attempts (a technician, on the state directory; recorded).",
        discussion: "mpolicectl lift-lockout OF-0042 --db /var/lib/mpolice   (the daemon may be running: the next sign-in sees it)")

    @Argument(help: "The officer's id.") var officer: String
    @Option(help: "The terminal's unit (default: terminal.unit of /etc/mpolice/mpoliced.conf).") var unit: String?
    @OptionGroup var store: StoreOptions

    struct Lifted: Encodable { var officerId: String; var lifted = true }

    func run() throws {
        do {
            guard let path = store.offlineDirectory else {
                throw ValidationError("lift-lockout works on the state directory: give --db (as root, the technician's path)")
            }
            guard let unit = unit ?? (try? AgentConfiguration.load(path: AgentConfiguration.defaultPath).terminal.unit) else {
                throw ValidationError("give --unit: the terminal's unit (terminal.unit), recorded with the event")
            }
            try CheckContext.validateIdentifier(officer, field: "officer")
            try CheckContext.validateIdentifier(unit, field: "unit")
            let directory = try store.stateDirectory(path)
            let journal = try JournalStore.open(path: directory.journalPath)
            try journal.clearLockout(officer)
            let now = Int64(Date().timeIntervalSince1970 * 1000)
            try journal.recordAudit(AuditEventPayload(eventId: UUIDv7.make(milliseconds: now), at: Timestamp.iso8601(milliseconds: now),
                                                      officerId: officer, unitId: unit, event: .lockoutLifted,
                                                      authentication: Authentication.technician.rawValue, reason: nil), now: now)
            store.print(Lifted(officerId: officer)) { "lockout lifted: \($0.officerId)" }
        } catch {
            throw Failure.exit(error, json: store.json)
        }
    }
}

/// PINs and codes from the terminal without echo, or line by line from standard input when
/// it is not a terminal (scripts, tests).
struct SecretInput {
    func read(_ prompt: String, secret: Bool) throws -> String {
        if isatty(STDIN_FILENO) == 1 {
            FileHandle.standardError.write(Data(prompt.utf8))
            var saved = termios()
            tcgetattr(STDIN_FILENO, &saved)
            if secret {
                var silent = saved
                silent.c_lflag &= ~tcflag_t(ECHO)
                tcsetattr(STDIN_FILENO, TCSAFLUSH, &silent)
            }
            defer {
                if secret {
                    tcsetattr(STDIN_FILENO, TCSAFLUSH, &saved)
                    FileHandle.standardError.write(Data("\n".utf8))
                }
            }
            guard let line = readLine(strippingNewline: true) else { throw ValidationError("no input") }
            return line
        }
        guard let line = readLine(strippingNewline: true) else {
            throw ValidationError("standard input ended before the \(secret ? "PIN" : "code")")
        }
        return line
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
