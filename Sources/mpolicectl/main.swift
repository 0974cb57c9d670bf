import ArgumentParser
import ControlCommand

// Through a generic: from top-level code the compiler would take ParsableCommand's
// synchronous main(), which refuses an asynchronous root command.
func start<Command: AsyncParsableCommand>(_: Command.Type) async { await Command.main(nil) }
await start(MPoliceCtl.self)
