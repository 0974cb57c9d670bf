import Foundation
import Synchronization

/// A throwaway PostgreSQL cluster of the tests' own (Debian's postgresql-15): `initdb` in a
/// temporary directory, the server listening on a Unix socket there only (no TCP port),
/// one database per test. It stops when the process that started it exits (its shell
/// waits on a pipe this process holds), and `stop()`/`start()` restart it for fault tests.
public final class PostgresCluster: Sendable {
    public let directory: URL
    private let binaries: URL
    private let lifeline = Mutex<FileHandle?>(nil)
    private let counter = Atomic<Int>(0)

    /// One cluster per test process, started on first use.
    public static func shared() throws -> PostgresCluster {
        try sharedCluster.withLock { cluster in
            if let cluster { return cluster }
            let started = try PostgresCluster()
            cluster = started
            return started
        }
    }

    private static let sharedCluster = Mutex<PostgresCluster?>(nil)

    public init() throws {
        binaries = try Self.binaryDirectory()
        directory = FileManager.default.temporaryDirectory.appendingPathComponent("mpolice-pg-\(UUID().uuidString.prefix(8))")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true, attributes: [.posixPermissions: 0o755])
        if getuid() == 0 {
            // initdb refuses root: the cluster belongs to the postgres account the package made.
            guard let account = getpwnam("postgres") else { throw TestError("no postgres account: apt-get install postgresql-15") }
            guard chown(directory.path, account.pointee.pw_uid, account.pointee.pw_gid) == 0 else { throw TestError("chown \(directory.path) failed") }
        }
        let initdb = try asOwner([binaries.appendingPathComponent("initdb").path, "-D", dataDirectory, "-U", "postgres",
                                  "--auth=trust", "--encoding=UTF8", "--locale=C.UTF-8", "--no-sync"])
        guard initdb.status == 0 else { throw TestError("initdb failed: \(initdb.stderr)") }
        try start()
    }

    public var dataDirectory: String { directory.appendingPathComponent("data").path }

    /// The libpq URL of database `name` on this cluster.
    public func url(_ name: String) -> String {
        "postgresql:///\(name)?host=\(directory.path)&user=postgres"
    }

    /// A new, empty database; its URL.
    public func createDatabase(_ label: String = "test") throws -> String {
        let name = "\(label.lowercased().filter { $0.isLetter || $0.isNumber })_\(getpid())_\(counter.add(1, ordering: .relaxed).newValue)"
        let run = try Programs.system(binaries.appendingPathComponent("psql").path,
                                      ["-X", "-q", "-v", "ON_ERROR_STOP=1", url("postgres"), "-c", "CREATE DATABASE \(name)"])
        guard run.status == 0 else { throw TestError("CREATE DATABASE \(name): \(run.stderr)") }
        return url(name)
    }

    /// Runs SQL in database `url` through psql, returning what it printed (unaligned, tuples only).
    public func psql(_ url: String, _ sql: String) throws -> String {
        let run = try Programs.system(binaries.appendingPathComponent("psql").path, ["-X", "-q", "-A", "-t", "-v", "ON_ERROR_STOP=1", url, "-c", sql])
        guard run.status == 0 else { throw TestError("psql: \(run.stderr)") }
        return run.stdout.trimmingCharacters(in: .whitespacesAndNewlines)
    }

    /// Starts the server and waits until it accepts connections.
    public func start() throws {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/bin/bash")
        let postgres = [binaries.appendingPathComponent("postgres").path, "-D", dataDirectory, "-k", directory.path,
                        "-c", "listen_addresses=", "-c", "fsync=on", "-c", "max_connections=200", "-c", "shared_buffers=128MB",
                        "-c", "logging_collector=off", "-c", "log_min_messages=warning"]
            .map { "'\($0)'" }.joined(separator: " ")
        // The server lives as long as this process holds the pipe's other end.
        // `stop()` says "keep" first (a restart follows); end of file: the tests are over,
        // the cluster goes with its directory.
        // Descriptors this process had open (other tests' pipes) are closed first: a server
        // holding a pipe's end keeps its reader from ever seeing the end of it.
        let closeInherited = "for fd in $(ls /proc/$$/fd); do case $fd in 0|1|2) ;; *) eval \"exec $fd>&-\" 2>/dev/null;; esac; done; "
        let script = closeInherited + "\(postgres) >\(directory.path)/server.log 2>&1 & pid=$!; read word; kill -INT $pid 2>/dev/null; wait $pid; "
            + "[ \"$word\" = keep ] || rm -rf '\(directory.path)'"
        if getuid() == 0 {
            process.executableURL = URL(fileURLWithPath: "/usr/sbin/runuser")
            process.arguments = ["-u", "postgres", "--", "/bin/bash", "-c", script]
        } else {
            process.arguments = ["-c", script]
        }
        let pipe = Pipe()
        process.standardInput = pipe
        process.standardOutput = FileHandle.nullDevice
        process.standardError = FileHandle.nullDevice
        try process.run()
        lifeline.withLock { $0 = pipe.fileHandleForWriting }
        let ready = binaries.appendingPathComponent("pg_isready").path
        for _ in 0..<300 {
            if try Programs.system(ready, ["-q", "-h", directory.path, "-U", "postgres"]).status == 0 { return }
            Thread.sleep(forTimeInterval: 0.05)
        }
        let log = (try? String(contentsOfFile: "\(directory.path)/server.log", encoding: .utf8)) ?? ""
        throw TestError("PostgreSQL did not start within 15 s: \(log.suffix(2_000))")
    }

    /// Stops the server (fast shutdown: connections are cut, as in a restart).
    public func stop() throws {
        let run = try asOwner([binaries.appendingPathComponent("pg_ctl").path, "-D", dataDirectory, "-m", "fast", "-w", "stop"])
        guard run.status == 0 else { throw TestError("pg_ctl stop: \(run.stderr)") }
        lifeline.withLock { handle in
            try? handle?.write(contentsOf: Data("keep\n".utf8))
            try? handle?.close()
            handle = nil
        }
    }

    /// The server's main process (its first line of postmaster.pid).
    public func postmasterPID() throws -> Int32 {
        let text = try String(contentsOfFile: "\(dataDirectory)/postmaster.pid", encoding: .utf8)
        guard let pid = text.split(separator: "\n").first.flatMap({ Int32($0) }) else { throw TestError("no pid in postmaster.pid") }
        return pid
    }

    /// Bytes the database `name` takes on disk.
    public func size(of url: String) throws -> Int64 {
        Int64(try psql(url, "SELECT pg_database_size(current_database())")) ?? 0
    }

    private func asOwner(_ command: [String]) throws -> Programs.Run {
        if getuid() == 0 { return try Programs.system("/usr/sbin/runuser", ["-u", "postgres", "--"] + command) }
        return try Programs.system(command[0], Array(command.dropFirst()))
    }

    private static func binaryDirectory() throws -> URL {
        let versions = (try? FileManager.default.contentsOfDirectory(atPath: "/usr/lib/postgresql")) ?? []
        guard let newest = versions.compactMap(Int.init).max() else {
            throw TestError("no PostgreSQL server under /usr/lib/postgresql: make setup installs postgresql-15")
        }
        return URL(fileURLWithPath: "/usr/lib/postgresql/\(newest)/bin", isDirectory: true)
    }
}
