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
        .library(name: "DocketCore", targets: ["DocketCore"]),
    ],
    dependencies: [
        .package(url: "https://github.com/vapor/postgres-nio", from: "1.33.2"),
        .package(url: "https://github.com/apple/swift-nio", from: "2.101.2"),
        .package(url: "https://github.com/apple/swift-nio-ssl", from: "2.37.6"),
        .package(url: "https://github.com/apple/swift-log", from: "1.16.2"),
        .package(url: "https://github.com/apple/swift-argument-parser", from: "1.8.2"),
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
            ],
            swiftSettings: strict
        ),

        // The admin CLI.
        .executableTarget(
            name: "docket",
            dependencies: [
                "DocketCore",
                "DocketPostgres",
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
                .product(name: "PostgresNIO", package: "postgres-nio"),
                .product(name: "Logging", package: "swift-log"),
            ],
            swiftSettings: strict
        ),

        .testTarget(name: "DocketCoreTests", dependencies: ["DocketCore"], swiftSettings: strict),
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
