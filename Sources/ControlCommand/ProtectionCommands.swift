import ArgumentParser
import FieldWire
import Foundation
import LocalAPIClient
import LocalAPIContract
import Store
import TerminalConfiguration

struct OrderCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "order",
        abstract: "Hand the daemon a signed lock or wipe order from the center.",
        discussion: """
            mpolicectl order apply FILE   — FILE is one signed order, or an orders file
            (orders/<unit>.json as the center publishes it). The daemon verifies each order
            exactly as if it came from the center (signature by the orders key, unit,
            certificate, sequence, expiry) and executes it, or says why not with the order's
            code (order.replayed, order.expired, …). For a terminal that cannot reach the center:
            a technician carries the order to it.
            """,
        subcommands: [Apply.self])

    struct Apply: ParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Submit the order(s) in FILE.")

        @Argument(help: "A signed order, or an orders file.") var file: String
        @OptionGroup var store: StoreOptions

        func run() throws {
            do {
                guard let data = FileManager.default.contents(atPath: file) else { throw ValidationError("cannot read \(file)") }
                let envelopes: [SignedEnvelope]
                if let feed = try? WireJSON.decode(OrderFeed.self, from: data) {
                    envelopes = feed.orders
                } else if let envelope = try? SignedEnvelope.decode(data) {
                    envelopes = [envelope]
                } else {
                    throw ValidationError("\(file) is neither a signed order nor an orders file")
                }
                guard !envelopes.isEmpty else { throw ValidationError("\(file) holds no order") }
                for envelope in envelopes {
                    let result = try store.daemon.submitOrder(envelope)
                    store.print(result) { "order \($0.sequence.map(String.init) ?? "?") (\($0.kind ?? "?")): \($0.outcome)" }
                }
            } catch {
                throw Failure.exit(error, json: store.json)
            }
        }
    }
}

struct LiftLockCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "lift-lock",
        abstract: "Lift a lock order's (or a lists wipe's) lock at the terminal (root: a technician).",
        discussion: "The sync then fetches the lists again. A terminal wiped with wipe-all is re-provisioned instead (docs/operations.md).")

    @OptionGroup var store: StoreOptions

    struct Lifted: Encodable { var lifted = true }

    func run() throws {
        do {
            try store.daemon.liftTerminalLock()
            store.print(Lifted()) { _ in "terminal lock lifted" }
        } catch {
            throw Failure.exit(error, json: store.json)
        }
    }
}

/// The privileged half of `wipe-all` (`mpolice-erase.service`, root, started by
/// `mpolice-erase.path` when the daemon writes its request): removes the device key and
/// certificate the hardened daemon cannot touch, and erases the LUKS key slots of
/// `security.luks_device` — a device named by the root-owned configuration, never by the
/// request.
struct EraseKeysCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "erase-keys",
        abstract: "Carry out a wipe-all's key erasure (run as root by mpolice-erase.service).",
        discussion: """
            Reads the daemon's request (erase-key-slots.request in the state directory); without
            one it does nothing. Removes sync.key and sync.certificate; when the order asked for
            it and security.luks_device is set, runs `cryptsetup luksErase --batch-mode` on it:
            every key slot goes, and the partition's data can never be unlocked again.
            Exit status: 0 done (or nothing asked), 1 a step failed (the request stays for a retry).
            """)

    @Option(help: ArgumentHelp("Configuration file.", valueName: "file"))
    var config = AgentConfiguration.defaultPath

    @Option(help: ArgumentHelp("cryptsetup to run.", valueName: "path"))
    var cryptsetup = "/usr/sbin/cryptsetup"

    func run() throws {
        let configuration: AgentConfiguration
        do {
            configuration = try AgentConfiguration.load(path: config)
        } catch {
            FileHandle.standardError.write(Data("mpolicectl: configuration: \(error)\n".utf8))
            throw ExitCode(78)
        }
        let state = StateDirectory(path: configuration.terminal.stateDirectory)
        let request: EraseRequest
        do {
            guard let found = try state.eraseRequest() else {
                print("no erase request in \(state.url.path): nothing to do")
                return
            }
            request = found
        } catch {
            FileHandle.standardError.write(Data("mpolicectl: \(error)\n".utf8))
            throw ExitCode(1)
        }
        do {
            for path in [configuration.sync.key, configuration.sync.certificate] {
                try StateDirectory.overwriteAndRemove(path)
                print("removed \(path)")
            }
            if request.eraseKeySlots {
                guard let device = configuration.security.luksDevice else {
                    print("the order asked for the LUKS key slots, but security.luks_device is not set: none erased")
                    state.removeEraseRequest()
                    return
                }
                let process = Process()
                process.executableURL = URL(fileURLWithPath: cryptsetup)
                process.arguments = ["luksErase", "--batch-mode", device]
                try process.run()
                process.waitUntilExit()
                guard process.terminationStatus == 0 else {
                    throw ValidationError("cryptsetup luksErase \(device) failed with status \(process.terminationStatus)")
                }
                print("erased every LUKS key slot of \(device) (order \(request.orderSequence))")
            }
            state.removeEraseRequest()
        } catch {
            FileHandle.standardError.write(Data("mpolicectl: erase-keys: \(error)\n".utf8))
            throw ExitCode(1)
        }
    }
}
