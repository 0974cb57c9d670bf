import ArgumentParser
import ControlCommand
import DaemonCommand
import Foundation
import ScreenCommand

// The terminal's three programs in one binary, chosen by the name it is run as — the
// package installs `mpolice` once and `mpoliced`, `mpolicectl` and `mpolice-screen` as
// links to it (docs/packaging.md, "Size"): the Swift runtime, Foundation and its ICU data
// are on the handheld once instead of three times.

// Through a generic: from top-level code the compiler would take ParsableCommand's
// synchronous main(), which refuses an asynchronous root command.
func start<Command: AsyncParsableCommand>(_: Command.Type) async { await Command.main(nil) }

switch URL(fileURLWithPath: CommandLine.arguments.first ?? "").lastPathComponent {
case "mpoliced": await start(MPoliced.self)
case "mpolice-screen": await start(MPoliceScreen.self)
case "mpolicectl": await start(MPoliceCtl.self)
default:
    FileHandle.standardError.write(Data("mpolice: run as mpoliced, mpolicectl or mpolice-screen (links to this binary), e.g. mpolicectl status\n".utf8))
    exit(64)
}
