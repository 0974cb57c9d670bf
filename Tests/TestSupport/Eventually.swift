import Foundation

/// Polls `condition` every `interval` seconds (50 ms) until it holds or `timeout` seconds
/// pass, blocking the calling thread (tests that drive processes from a thread of their own).
public func eventually(timeout: Double, interval: Double = 0.05, _ condition: () throws -> Bool) rethrows -> Bool {
    let deadline = Date().addingTimeInterval(timeout)
    while Date() < deadline {
        if try condition() { return true }
        usleep(useconds_t(interval * 1_000_000))
    }
    return try condition()
}

/// The same from async code, sleeping without holding a thread of the cooperative pool.
public func eventuallyAsync(timeout: Double, _ condition: () -> Bool) async -> Bool {
    let deadline = Date().addingTimeInterval(timeout)
    while Date() < deadline {
        if condition() { return true }
        try? await Task.sleep(for: .milliseconds(50))
    }
    return condition()
}
