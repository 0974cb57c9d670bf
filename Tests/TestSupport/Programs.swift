import Foundation

/// Runs the built programs the way a user does and captures what they print.
public enum Programs {
    /// Where `swift build` put the executables: MPOLICE_BIN_DIR (set by `make test`), or
    /// the package's .build/debug.
    public static let binDirectory: URL = {
        if let dir = ProcessInfo.processInfo.environment["MPOLICE_BIN_DIR"] {
            return URL(fileURLWithPath: dir, isDirectory: true)
        }
        return URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
            .deletingLastPathComponent().appendingPathComponent(".build/debug", isDirectory: true)
    }()

    public struct Run: Sendable {
        public var status: Int32
        public var stdout: String
        public var stderr: String

        public func json() throws -> [String: Any] {
            try JSONSerialization.jsonObject(with: Data(stdout.utf8)) as? [String: Any] ?? [:]
        }
    }

    /// - Parameter input: written to the program's standard input (a PIN, as a script gives
    ///   it); nil leaves it empty.
    public static func run(_ program: String, _ arguments: [String], environment: [String: String] = [:], input: String? = nil) throws -> Run {
        try system(binDirectory.appendingPathComponent(program).path, arguments, environment: environment, input: input)
    }

    /// Runs any executable by path, capturing its output.
    public static func system(_ path: String, _ arguments: [String], environment: [String: String] = [:], input: String? = nil) throws -> Run {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: path)
        process.arguments = arguments
        var env = ProcessInfo.processInfo.environment
        env.removeValue(forKey: "MPOLICE_OFFICER")
        env.removeValue(forKey: "MPOLICE_STATE_DIR")
        for (k, v) in environment { env[k] = v }
        process.environment = env
        let out = Pipe(), err = Pipe(), stdin = Pipe()
        process.standardOutput = out
        process.standardError = err
        process.standardInput = stdin
        try process.run()
        try stdin.fileHandleForWriting.write(contentsOf: Data((input ?? "").utf8))
        try stdin.fileHandleForWriting.close()
        // Read both pipes before waiting so a large output cannot block the child. stderr is
        // drained on a thread of its own: never on the test's cooperative pool, nor on the
        // dispatch pool that concurrent tests may have filled.
        let errBox = Box()
        let group = DispatchGroup()
        group.enter()
        Thread {
            errBox.data = err.fileHandleForReading.readDataToEndOfFile()
            group.leave()
        }.start()
        let outData = out.fileHandleForReading.readDataToEndOfFile()
        group.wait()
        process.waitUntilExit()
        return Run(status: process.terminationStatus, stdout: String(decoding: outData, as: UTF8.self),
                   stderr: String(decoding: errBox.data, as: UTF8.self))
    }

    private final class Box: @unchecked Sendable { var data = Data() }
}

/// A temporary directory for one test, removed at its end (`remove()`, usually deferred).
public struct Scratch: Sendable {
    public let url: URL

    /// - Parameter worldReadable: mode 0755, for directories that nginx workers (nobody) or
    ///   another user the test runs a program as must enter.
    public init(_ label: String = "test", worldReadable: Bool = false) throws {
        url = FileManager.default.temporaryDirectory.appendingPathComponent("mpolice-\(label)-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: url, withIntermediateDirectories: true)
        if worldReadable { try FileManager.default.setAttributes([.posixPermissions: 0o755], ofItemAtPath: url.path) }
    }

    public var path: String { url.path }

    /// A subdirectory, created.
    public func directory(_ name: String) throws -> URL {
        let sub = url.appendingPathComponent(name, isDirectory: true)
        try FileManager.default.createDirectory(at: sub, withIntermediateDirectories: true)
        return sub
    }

    public func remove() { try? FileManager.default.removeItem(at: url) }
}

/// A failure a test helper reports.
public struct TestError: Error, CustomStringConvertible {
    public let description: String
    public init(_ description: String) { self.description = description }
}
