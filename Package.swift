// swift-tools-version: 6.1
// The layers, bottom up (an arrow points at what a module may import):
//   Watchlist       pure domain: identifiers, answers, positions, the clock protocol
//   FieldWire     → Watchlist            the wire contract: signed documents, list files, uplink items, JSON coding
//   TerminalConfiguration                mpoliced.conf parsed once into typed slices
//   Store         → FieldWire            lists.db and journal.db (GRDB)
//   FieldSync     → Store, FieldWire     libcurl transport, trust, the list sync and uplink engines (Services)
//   Protection    → FieldSync, Store     lock and wipe orders, the dead-man timer, crash-safe wipes
//   Location      → Watchlist            gpsd through libgps (a Service)
//   LocalAPIContract → Store             the local API's request, response and event types
//   LocalAPI      → LocalAPIContract     Hummingbird over a peer-checked Unix socket
//   LocalAPIClient → LocalAPIContract    the typed client (libcurl over the socket)
//   Agent         → all of the above     composition: the ServiceGroup, systemd, where Location meets Store
//   Diagnostics   → FieldSync, LocalAPIClient, Location   `mpolicectl diag`
//   ScreenBridge  → LocalAPIClient       the officer's screen's loopback bridge (`mpolice-screen`)
//   Central       → FieldWire            the reference center: generator, publisher, uplink endpoint
//   FleetSimulation → FieldWire          simulated terminals against a center (`mpolice-central simulate`)
//   DaemonCommand, ControlCommand, ScreenCommand   the three terminal programs' command lines
// Every engine module may import TerminalConfiguration for its slice. CCurlShim, CZlibShim and CGPS
// are the C edges (libcurl, zlib, libgps); CICUData the package's ICU data; CPostgres (libpq) and CTurboJPEG are the center's. Executables stay thin: `mpoliced`, `mpolicectl` and
// `mpolice-screen` run one command each; the package ships `mpolice`, all three in one binary.
import PackageDescription

let package = Package(
    name: "mpolice-agent",
    platforms: [.macOS(.v14)],
    products: [
        .executable(name: "mpoliced", targets: ["mpoliced"]),
        .executable(name: "mpolicectl", targets: ["mpolicectl"]),
        .executable(name: "mpolice-central", targets: ["mpolice-central"]),
        .executable(name: "mpolice-screen", targets: ["mpolice-screen"]),
        .executable(name: "mpolice", targets: ["mpolice"]),
    ],
    dependencies: [
        .package(url: "https://github.com/groue/GRDB.swift", from: "7.10.0"),
        .package(url: "https://github.com/apple/swift-argument-parser", from: "1.8.2"),
        // Ed25519 and SHA-256 for signed list bundles.
        .package(url: "https://github.com/apple/swift-crypto", "3.12.3"..<"5.0.0"),
        // The daemon: the local API server, ordered services with graceful shutdown, logs.
        .package(url: "https://github.com/hummingbird-project/hummingbird", from: "2.28.1"),
        .package(url: "https://github.com/swift-server/swift-service-lifecycle", from: "2.13.0"),
        .package(url: "https://github.com/apple/swift-log", from: "1.16.2"),
        // The HTTP parts the local API's connection handlers see (Hummingbird's own pipeline types).
        .package(url: "https://github.com/apple/swift-nio-extras", from: "1.35.2"),
        // Timers of periodic services (AsyncTimerSequence), as swift-service-lifecycle advises.
        .package(url: "https://github.com/apple/swift-async-algorithms", from: "1.1.4"),
    ],
    targets: [
        // MARK: C edges
        .target(
            name: "CCurlShim",
            linkerSettings: [.linkedLibrary("curl")]
        ),
        .target(
            name: "CZlibShim",
            linkerSettings: [.linkedLibrary("z")]
        ),
        // The package's cut-down ICU data table (empty unless `make deb` builds it in).
        .target(name: "CICUData"),
        .systemLibrary(
            name: "CGPS",
            pkgConfig: "libgps",
            providers: [.apt(["libgps-dev"])]
        ),
        .systemLibrary(
            name: "CPostgres",
            pkgConfig: "libpq",
            providers: [.apt(["libpq-dev"])]
        ),
        .systemLibrary(
            name: "CTurboJPEG",
            pkgConfig: "libturbojpeg",
            providers: [.apt(["libturbojpeg0-dev"])]
        ),

        // MARK: Layers
        .target(name: "Watchlist"),
        .target(
            name: "FieldWire",
            dependencies: [
                "Watchlist", "CZlibShim", .product(name: "Crypto", package: "swift-crypto"),
                // scrypt for the roster's PIN verifiers.
                .product(name: "_CryptoExtras", package: "swift-crypto"),
            ]
        ),
        .target(name: "TerminalConfiguration"),
        .target(
            name: "Store",
            dependencies: [
                "Watchlist", "FieldWire", "TerminalConfiguration",
                .product(name: "GRDB", package: "GRDB.swift"),
                // Raw column reads on the check path (see ListsStore+Lookups.swift).
                .product(name: "GRDBSQLite", package: "GRDB.swift"),
            ]
        ),
        .target(
            name: "FieldSync",
            dependencies: [
                "Watchlist", "FieldWire", "Store", "TerminalConfiguration", "CCurlShim",
                .product(name: "Crypto", package: "swift-crypto"),
                // The device certificate's key checked against its certificate (EC and RSA).
                .product(name: "_CryptoExtras", package: "swift-crypto"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
            ]
        ),
        .target(
            name: "Protection",
            dependencies: [
                "Watchlist", "FieldWire", "Store", "FieldSync",
                .product(name: "Logging", package: "swift-log"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
            ]
        ),
        .target(
            name: "Location",
            dependencies: ["CGPS", "Watchlist", "TerminalConfiguration", .product(name: "ServiceLifecycle", package: "swift-service-lifecycle")]
        ),
        .target(
            name: "LocalAPIContract",
            dependencies: ["Watchlist", "FieldWire", "Store"]
        ),
        .target(
            name: "LocalAPI",
            dependencies: [
                "Watchlist", "FieldWire", "Store", "LocalAPIContract",
                .product(name: "Hummingbird", package: "hummingbird"),
                .product(name: "HummingbirdCore", package: "hummingbird"),
                .product(name: "NIOHTTPTypes", package: "swift-nio-extras"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
            ]
        ),
        .target(
            name: "LocalAPIClient",
            dependencies: ["CCurlShim", "Watchlist", "FieldWire", "Store", "LocalAPIContract"]
        ),
        .target(
            name: "ScreenBridge",
            dependencies: ["LocalAPIClient", .product(name: "Hummingbird", package: "hummingbird")]
        ),
        .target(
            name: "Agent",
            dependencies: [
                "Watchlist", "FieldWire", "TerminalConfiguration", "Store", "Location", "FieldSync", "Protection", "LocalAPI", "LocalAPIContract",
                .product(name: "AsyncAlgorithms", package: "swift-async-algorithms"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
            ]
        ),
        .target(
            name: "Diagnostics",
            dependencies: [
                "TerminalConfiguration", "Store", "FieldWire", "FieldSync", "Location", "LocalAPIClient", "LocalAPIContract", "Watchlist",
            ]
        ),
        .target(
            name: "Central",
            dependencies: [
                "Watchlist", "FieldWire", .product(name: "Crypto", package: "swift-crypto"),
                // The data-set generator's synthetic photos (JPEG).
                "CTurboJPEG",
                // The reference uplink endpoint behind nginx, and its database: SQLite (GRDB) or
                // PostgreSQL (libpq, a C edge like libcurl: the same synchronous SQL session for
                // both engines, so every statement and all the logic around it is written once).
                .product(name: "Hummingbird", package: "hummingbird"),
                .product(name: "GRDB", package: "GRDB.swift"),
                "CPostgres",
                .product(name: "Logging", package: "swift-log"),
            ],
            // Optimised in debug builds too: the tests generate thousands of synthetic photos
            // (pixel loops are 10× slower unoptimised).
            swiftSettings: [.unsafeFlags(["-O"], .when(configuration: .debug))]
        ),

        // The fleet simulator (`mpolice-central simulate`): thousands of terminals from one
        // process, each with its own device certificate, over libcurl's multi interface.
        .target(name: "FleetSimulation", dependencies: ["CCurlShim", "FieldWire", "Watchlist"]),

        // MARK: Programs (thin: parse arguments, build, run)
        // The terminal's three programs as commands, each run by its own thin executable (for
        // development and the tests) and all three by the multi-call `mpolice` the package ships.
        .target(
            name: "DaemonCommand",
            dependencies: [
                "Agent", "TerminalConfiguration", "Store",
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
                .product(name: "Logging", package: "swift-log"),
            ]
        ),
        .target(
            name: "ControlCommand",
            dependencies: ["Watchlist", "FieldWire", "TerminalConfiguration", "Store", "Location", "FieldSync", "LocalAPIClient", "LocalAPIContract",
                           "Diagnostics", .product(name: "ArgumentParser", package: "swift-argument-parser")]
        ),
        .target(
            name: "ScreenCommand",
            dependencies: ["ScreenBridge", .product(name: "ArgumentParser", package: "swift-argument-parser"),
                           .product(name: "Hummingbird", package: "hummingbird"), .product(name: "Logging", package: "swift-log")]
        ),
        .executableTarget(name: "mpoliced", dependencies: ["DaemonCommand"]),
        .executableTarget(name: "mpolicectl", dependencies: ["ControlCommand"]),
        .executableTarget(
            name: "mpolice-screen",
            dependencies: ["ScreenCommand"],
            // The front-end's files, installed to /usr/share/mpolice-agent/screen (served, not compiled).
            exclude: ["Assets"]
        ),
        .executableTarget(name: "mpolice", dependencies: ["DaemonCommand", "ControlCommand", "ScreenCommand", "CICUData"]),
        .executableTarget(
            name: "mpolice-central",
            // Store only for `generate`, which also loads the data set into a terminal state directory.
            dependencies: ["Central", "FleetSimulation", "FieldWire", "Watchlist", "Store", .product(name: "ArgumentParser", package: "swift-argument-parser"),
                           .product(name: "Logging", package: "swift-log")]
        ),
        .executableTarget(
            name: "mpolice-bench",
            dependencies: [
                "Central", "Store", "Watchlist", "FieldWire", "FieldSync", "LocalAPIClient",
                // The loopback nginx with TLS that the sync figures fetch from; the notify socket.
                "TestSupport",
                .product(name: "GRDBSQLite", package: "GRDB.swift"),
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
                .product(name: "Logging", package: "swift-log"),
            ],
            path: "Benchmarks/mpolice-bench"
        ),

        // MARK: Tests (a target per module; SystemTests drives the built programs and real services)
        .target(name: "TestSupport", dependencies: ["Store", "Watchlist", "FieldWire"], path: "Tests/TestSupport"),
        .testTarget(name: "WatchlistTests", dependencies: ["Watchlist"]),
        .testTarget(name: "FieldWireTests", dependencies: ["FieldWire", "Watchlist", "TestSupport"]),
        .testTarget(name: "TerminalConfigurationTests", dependencies: ["TerminalConfiguration"]),
        .testTarget(name: "StoreTests", dependencies: ["Store", "FieldWire", "Central", "Watchlist", "TerminalConfiguration", "TestSupport"]),
        .testTarget(name: "SystemLibraryTests", dependencies: ["CCurlShim", "CGPS"]),
        .testTarget(name: "FieldSyncTests", dependencies: ["FieldSync", "FieldWire", "Store", "Central", "Watchlist", "TerminalConfiguration", "TestSupport"]),
        .testTarget(name: "ProtectionTests", dependencies: ["Protection", "FieldSync", "FieldWire", "Store", "Central", "Watchlist", "TestSupport"]),
        .testTarget(name: "LocationTests", dependencies: ["Location", "Watchlist", "TerminalConfiguration", "TestSupport"]),
        .testTarget(name: "LocalAPITests", dependencies: [
            "LocalAPI", "LocalAPIContract", "Store", "Watchlist", "FieldWire", "Central", "TestSupport",
            .product(name: "Hummingbird", package: "hummingbird"),
            .product(name: "HummingbirdTesting", package: "hummingbird"),
        ]),
        .testTarget(name: "AgentTests", dependencies: ["Agent", "Central", "FieldSync", "FieldWire", "Location", "Store", "Watchlist", "TerminalConfiguration",
                                                   "TestSupport", .product(name: "Logging", package: "swift-log")]),
        .testTarget(name: "CentralTests", dependencies: [
            "Central", "FieldWire", "Watchlist", "TestSupport",
            .product(name: "Logging", package: "swift-log"),
            .product(name: "Hummingbird", package: "hummingbird"),
            .product(name: "HummingbirdTesting", package: "hummingbird"),
        ]),
        .testTarget(name: "DiagnosticsTests", dependencies: ["Diagnostics", "TestSupport"]),
        .testTarget(name: "SystemTests", dependencies: [
            "Central", "Store", "Watchlist", "FieldWire", "FieldSync", "LocalAPIClient", "LocalAPIContract", "TestSupport",
        ]),
    ]
)
