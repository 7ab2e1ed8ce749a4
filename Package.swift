// swift-tools-version: 6.2
import PackageDescription

let strict: [SwiftSetting] = [
    .swiftLanguageMode(.v6),
    .enableUpcomingFeature("ExistentialAny"),
    .treatAllWarnings(as: .error),
]

let package = Package(
    name: "docket",
    platforms: [.macOS(.v15)],
    products: [
        .executable(name: "docket", targets: ["docket"]),
        .executable(name: "docketd", targets: ["docketd"]),
        .executable(name: "docket-bench", targets: ["docket-bench"]),
        .executable(name: "docket-example-worker", targets: ["docket-example-worker"]),
        .library(name: "DocketCore", targets: ["DocketCore"]),
        .library(name: "DocketClient", targets: ["DocketClient"]),
        .library(name: "DocketWorker", targets: ["DocketWorker"]),
    ],
    dependencies: [
        .package(url: "https://github.com/vapor/postgres-nio", from: "1.33.2"),
        .package(url: "https://github.com/apple/swift-nio", from: "2.101.2"),
        .package(url: "https://github.com/apple/swift-nio-ssl", from: "2.37.6"),
        .package(url: "https://github.com/apple/swift-log", from: "1.16.2"),
        .package(url: "https://github.com/apple/swift-argument-parser", from: "1.8.2"),
        .package(url: "https://github.com/swift-server/swift-service-lifecycle", from: "2.13.0"),
        .package(url: "https://github.com/apple/swift-crypto", from: "4.5.2"),
        .package(url: "https://github.com/swift-server/async-http-client", from: "1.37.0"),
        .package(url: "https://github.com/swift-server/swift-prometheus", from: "2.4.1"),
        .package(url: "https://github.com/apple/swift-metrics", from: "2.13.0"),
    ],
    targets: [
        // Pure domain: state machines, permissions, schedules, money, errors. No I/O, no NIO.
        .target(name: "DocketCore", swiftSettings: strict),

        // PostgreSQL: embedded server launcher, migrations runner, queries grouped by table.
        .target(
            name: "DocketPostgres",
            dependencies: [
                "DocketCore",
                .product(name: "PostgresNIO", package: "postgres-nio"),
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOPosix", package: "swift-nio"),
                .product(name: "NIOSSL", package: "swift-nio-ssl"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
            ],
            swiftSettings: strict,
            plugins: ["EmbedMigrations"]
        ),

        // The services the protocol, the CLI and the sweeps call: jobs (and, later, tasks).
        .target(
            name: "DocketServices",
            dependencies: [
                "DocketCore",
                "DocketPostgres",
                .product(name: "PostgresNIO", package: "postgres-nio"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "Crypto", package: "swift-crypto"),
            ],
            swiftSettings: strict
        ),

        // The cluster: leader election, instance registry (and, later, sweeps and the event bus).
        .target(
            name: "DocketCluster",
            dependencies: [
                "DocketCore",
                "DocketPostgres",
                "DocketServices",
                "DocketBus",
                .product(name: "PostgresNIO", package: "postgres-nio"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
                .product(name: "AsyncHTTPClient", package: "async-http-client"),
                .product(name: "Crypto", package: "swift-crypto"),
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOHTTP1", package: "swift-nio"),
            ],
            swiftSettings: strict
        ),

        // The event bus of SPEC 4.4: LISTEN wake-ups, catch-up below the horizon, in-process fan-out, subscriptions.
        .target(
            name: "DocketBus",
            dependencies: [
                "DocketCore",
                "DocketPostgres",
                .product(name: "PostgresNIO", package: "postgres-nio"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
            ],
            swiftSettings: strict
        ),

        // The wire protocol of SPEC 3: request and response lines, shared by the server and the client.
        .target(
            name: "DocketProtocol",
            dependencies: ["DocketCore", .product(name: "NIOCore", package: "swift-nio")],
            swiftSettings: strict
        ),

        // The server: TCP line protocol, auth, limits, dispatch to the services, HTTP health.
        .target(
            name: "DocketServer",
            dependencies: [
                "DocketCore",
                "DocketPostgres",
                "DocketServices",
                "DocketProtocol",
                "DocketBus",
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOPosix", package: "swift-nio"),
                .product(name: "NIOHTTP1", package: "swift-nio"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
                .product(name: "PostgresNIO", package: "postgres-nio"),
                .product(name: "Prometheus", package: "swift-prometheus"),
            ],
            swiftSettings: strict
        ),

        // The daemon: every part of docketd wired into one service group, startable in-process (the executable and
        // tests both run it).
        .target(
            name: "DocketDaemon",
            dependencies: [
                "DocketCore",
                "DocketPostgres",
                "DocketServices",
                "DocketServer",
                "DocketCluster",
                "DocketBus",
                .product(name: "Logging", package: "swift-log"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "Prometheus", package: "swift-prometheus"),
            ],
            swiftSettings: strict
        ),

        // The Swift client library: async calls, pipelining over one connection.
        .target(
            name: "DocketClient",
            dependencies: [
                "DocketCore",
                "DocketProtocol",
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOPosix", package: "swift-nio"),
            ],
            swiftSettings: strict
        ),

        // The worker runtime: handlers by kind, batched claims, heartbeats, graceful cancel/pause/shutdown (a Service).
        .target(
            name: "DocketWorker",
            dependencies: [
                "DocketCore",
                "DocketClient",
                .product(name: "Logging", package: "swift-log"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
                .product(name: "CoreMetrics", package: "swift-metrics"),
            ],
            swiftSettings: strict
        ),

        // The example worker (examples/swift-worker, also a package of its own): built here so tests and the quick
        // start run it.
        .executableTarget(
            name: "docket-example-worker",
            dependencies: [
                "DocketCore",
                "DocketClient",
                "DocketWorker",
                .product(name: "Logging", package: "swift-log"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
            ],
            path: "examples/swift-worker/Sources/ExampleWorker",
            swiftSettings: strict
        ),

        // The server executable: reads its settings and runs the daemon.
        .executableTarget(
            name: "docketd",
            dependencies: [
                "DocketCore",
                "DocketDaemon",
                .product(name: "Logging", package: "swift-log"),
            ],
            swiftSettings: strict
        ),

        // The benchmark harness: docketd against the same SQL driven directly.
        .executableTarget(
            name: "docket-bench",
            dependencies: [
                "DocketCore",
                "DocketPostgres",
                "DocketClient",
                "DocketWorker",
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "PostgresNIO", package: "postgres-nio"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
            ],
            swiftSettings: strict
        ),

        // The admin CLI.
        .executableTarget(
            name: "docket",
            dependencies: [
                "DocketCore",
                "DocketPostgres",
                "DocketServices",
                "DocketClient",
                "DocketProtocol",
                .product(name: "PostgresNIO", package: "postgres-nio"),
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
                .product(name: "Logging", package: "swift-log"),
            ],
            swiftSettings: strict
        ),

        // Build tool: turns migrations/*.sql into Swift source so every binary carries its migrations.
        .executableTarget(name: "MigrationEmbedder", path: "Plugins/MigrationEmbedder", swiftSettings: strict),
        .plugin(name: "EmbedMigrations", capability: .buildTool(), dependencies: ["MigrationEmbedder"]),

        // Test support: one embedded PostgreSQL per test run, a fresh migrated database per test.
        .target(
            name: "DocketTestSupport",
            dependencies: [
                "DocketCore",
                "DocketPostgres",
                "DocketProtocol",
                "DocketClient",
                .product(name: "PostgresNIO", package: "postgres-nio"),
                .product(name: "Logging", package: "swift-log"),
            ],
            swiftSettings: strict
        ),

        .testTarget(name: "DocketCoreTests", dependencies: ["DocketCore"], swiftSettings: strict),
        .testTarget(name: "DocketClusterTests", dependencies: ["DocketCore", "DocketCluster", "DocketTestSupport"], swiftSettings: strict),
        .testTarget(
            name: "DocketFaultTests",
            dependencies: [
                "DocketCore",
                "DocketPostgres",
                "DocketClient",
                "DocketTestSupport",
                .product(name: "PostgresNIO", package: "postgres-nio"),
                .product(name: "Logging", package: "swift-log"),
            ],
            swiftSettings: strict
        ),
        .testTarget(
            name: "DocketWorkerTests",
            dependencies: [
                "DocketCore",
                "DocketClient",
                "DocketWorker",
                "DocketPostgres",
                "DocketServices",
                "DocketTestSupport",
                .product(name: "Logging", package: "swift-log"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
            ],
            swiftSettings: strict
        ),
        .testTarget(name: "DocketProtocolTests", dependencies: ["DocketCore", "DocketProtocol"], swiftSettings: strict),
        .testTarget(
            name: "DocketBusTests",
            dependencies: [
                "DocketCore",
                "DocketPostgres",
                "DocketBus",
                "DocketTestSupport",
                .product(name: "PostgresNIO", package: "postgres-nio"),
                .product(name: "Logging", package: "swift-log"),
            ],
            swiftSettings: strict
        ),
        .testTarget(
            name: "DocketPostgresTests",
            dependencies: [
                "DocketCore",
                "DocketPostgres",
                "DocketTestSupport",
                .product(name: "PostgresNIO", package: "postgres-nio"),
                .product(name: "Logging", package: "swift-log"),
            ],
            swiftSettings: strict
        ),
        .testTarget(
            name: "DocketServerTests",
            dependencies: [
                "DocketCore",
                "DocketPostgres",
                "DocketProtocol",
                "DocketServer",
                "DocketServices",
                "DocketClient",
                "DocketBus",
                "DocketDaemon",
                "DocketWorker",
                "DocketTestSupport",
                .product(name: "PostgresNIO", package: "postgres-nio"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOPosix", package: "swift-nio"),
                .product(name: "NIOHTTP1", package: "swift-nio"),
                .product(name: "Crypto", package: "swift-crypto"),
            ],
            swiftSettings: strict
        ),
        .testTarget(
            name: "DocketServicesTests",
            dependencies: [
                "DocketCore",
                "DocketPostgres",
                "DocketServices",
                "DocketTestSupport",
                .product(name: "PostgresNIO", package: "postgres-nio"),
                .product(name: "Logging", package: "swift-log"),
            ],
            swiftSettings: strict
        ),
    ]
)
