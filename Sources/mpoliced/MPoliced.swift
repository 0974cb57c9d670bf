import ArgumentParser
import Foundation
import Store

/// The terminal daemon. This version prepares and verifies the state directory (creates it,
/// migrates lists.db and journal.db, runs quick_check); the long-running services (gpsd,
/// sync, uplink, local API) are composed here as they land.
@main
struct MPoliced: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "mpoliced",
        abstract: "M-Police field terminal daemon.")

    @Option(name: .customLong("state-dir"), help: ArgumentHelp("State directory.", valueName: "dir"))
    var stateDirectory = "/var/lib/mpolice"

    @Flag(help: "Create and migrate the databases, verify them, and exit.")
    var prepareOnly = false

    func run() throws {
        let directory = StateDirectory(path: stateDirectory)
        do {
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
        guard prepareOnly else {
            FileHandle.standardError.write(Data("mpoliced: service mode is not built yet; use --prepare-only\n".utf8))
            throw ExitCode(69)
        }
    }
}
