import AsyncAlgorithms
import FieldSync
import Protection
import ServiceLifecycle

/// The dead-man timer's rounds: every 30 s (and at start) the judged time is kept in the
/// journal, and refusal and the offline wipe happen when they are due.
struct ProtectionTimer: Service {
    let protection: TerminalProtection

    func run() async {
        await tick()
        for await _ in AsyncTimerSequence(interval: .seconds(30), clock: .continuous).cancelOnGracefulShutdown() {
            await tick()
        }
    }

    /// On a thread of its own: a wipe writes and syncs files.
    private func tick() async {
        let protection = protection
        _ = await onOwnThread("dead-man") { protection.tick() }
    }
}
