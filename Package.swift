// swift-tools-version: 6.1
// The layers, bottom up: Watchlist (pure domain) ← Store (SQLite) ← FieldSync (wire, trust,
// sync engine), Location (gpsd) ← LocalAPI (Hummingbird) ← Agent (composition), Central
// ← executables.
// CCurlShim, CZlibShim and CGPS are the C edges (libcurl, zlib, libgps).
import PackageDescription

let package = Package(
    name: "mpolice-agent",
    platforms: [.macOS(.v14)],
    products: [
        .executable(name: "mpoliced", targets: ["mpoliced"]),
        .executable(name: "mpolicectl", targets: ["mpolicectl"]),
        .executable(name: "mpolice-central", targets: ["mpolice-central"]),
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
        .systemLibrary(
            name: "CGPS",
            pkgConfig: "libgps",
            providers: [.apt(["libgps-dev"])]
        ),

        // MARK: Layers
        .target(name: "Watchlist"),
        .target(
            name: "Store",
            dependencies: [
                "Watchlist",
                .product(name: "GRDB", package: "GRDB.swift"),
                // SHA-256 for list content digests.
                .product(name: "Crypto", package: "swift-crypto"),
                // Raw column reads on the check path (see ListsStore+Lookups.swift).
                .product(name: "GRDBSQLite", package: "GRDB.swift"),
            ]
        ),
        .target(
            name: "FieldSync",
            dependencies: ["Watchlist", "Store", "CCurlShim", "CZlibShim", .product(name: "Crypto", package: "swift-crypto")]
        ),
        .target(
            name: "Location",
            dependencies: ["CGPS", "Watchlist", "Store"]
        ),
        .target(
            name: "LocalAPI",
            dependencies: [
                "Watchlist", "Store", "Location", "FieldSync",
                .product(name: "Hummingbird", package: "hummingbird"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
            ]
        ),
        .target(
            name: "LocalAPIClient",
            dependencies: ["CCurlShim"]
        ),
        .target(
            name: "Agent",
            dependencies: [
                "Watchlist", "Store", "Location", "FieldSync", "LocalAPI", "LocalAPIClient",
                .product(name: "Logging", package: "swift-log"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
            ]
        ),
        .target(
            name: "Diagnostics",
            dependencies: [
                "Agent", "Store", "FieldSync", "Location", "LocalAPIClient", "Watchlist",
                // The device certificate's key checked against its certificate (EC and RSA).
                .product(name: "Crypto", package: "swift-crypto"),
                .product(name: "_CryptoExtras", package: "swift-crypto"),
            ]
        ),
        .target(
            name: "Central",
            dependencies: [
                "Watchlist", "Store", "FieldSync",
                // The reference uplink endpoint behind nginx.
                .product(name: "Hummingbird", package: "hummingbird"),
                .product(name: "GRDB", package: "GRDB.swift"),
                .product(name: "Logging", package: "swift-log"),
            ]
        ),

        // MARK: Programs (thin: parse arguments, build, run)
        .executableTarget(
            name: "mpoliced",
            dependencies: [
                "Agent", "Store",
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
                .product(name: "Logging", package: "swift-log"),
            ]
        ),
        .executableTarget(
            name: "mpolicectl",
            dependencies: ["Watchlist", "Store", "Location", "FieldSync", "LocalAPIClient", "Diagnostics",
                           .product(name: "ArgumentParser", package: "swift-argument-parser")]
        ),
        .executableTarget(
            name: "mpolice-central",
            dependencies: ["Central", "Store", "FieldSync", .product(name: "ArgumentParser", package: "swift-argument-parser"),
                           .product(name: "Logging", package: "swift-log")]
        ),
        .executableTarget(
            name: "mpolice-bench",
            dependencies: [
                "Central", "Store", "Watchlist", "FieldSync", "LocalAPIClient",
                // The loopback nginx with TLS that the sync figures fetch from; the notify socket.
                "TestSupport",
                .product(name: "GRDBSQLite", package: "GRDB.swift"),
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
                .product(name: "Logging", package: "swift-log"),
            ],
            path: "Benchmarks/mpolice-bench"
        ),

        // MARK: Tests
        .target(name: "TestSupport", dependencies: ["Store", "Watchlist"], path: "Tests/TestSupport"),
        .testTarget(name: "WatchlistTests", dependencies: ["Watchlist"]),
        .testTarget(name: "StoreTests", dependencies: ["Store", "Central", "Watchlist"]),
        .testTarget(name: "SystemLibraryTests", dependencies: ["CCurlShim", "CGPS"]),
        .testTarget(name: "FieldSyncTests", dependencies: ["FieldSync", "Store", "Central", "Watchlist", "TestSupport"]),
        .testTarget(name: "LocationTests", dependencies: ["Location", "Store", "Watchlist", "TestSupport"]),
        .testTarget(name: "CLITests", dependencies: ["Central", "Store", "Watchlist", "FieldSync", "LocalAPIClient", "TestSupport"]),
    ]
)
