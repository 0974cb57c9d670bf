import Central
import TestSupport
import Testing

/// The engines the center's storage runs on: every center test that stores runs on both.
enum CenterEngine: String, CaseIterable, CustomTestStringConvertible, Sendable {
    case sqlite
    case postgres

    var testDescription: String { rawValue }

    /// A new, empty uplink database: a file in `scratch`, or a database of its own on the
    /// tests' PostgreSQL cluster.
    func database(_ scratch: Scratch) throws -> UplinkDatabase {
        switch self {
        case .sqlite: try UplinkDatabase(scratch.url.appendingPathComponent("central.db").path)
        case .postgres: try UplinkDatabase(PostgresCluster.shared().createDatabase("center"), connections: 4)
        }
    }
}
