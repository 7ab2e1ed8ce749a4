// swift-tools-version: 6.2
import PackageDescription

// A worker of your own: depend on Docket's `DocketWorker` library (here by path; from your package, by its URL).
let package = Package(
    name: "example-worker",
    platforms: [.macOS(.v15)],
    dependencies: [
        .package(name: "docket", path: "../.."),
        .package(url: "https://github.com/swift-server/swift-service-lifecycle", from: "2.13.0"),
        .package(url: "https://github.com/apple/swift-log", from: "1.16.2"),
    ],
    targets: [
        .executableTarget(
            name: "ExampleWorker",
            dependencies: [
                .product(name: "DocketWorker", package: "docket"),
                .product(name: "DocketClient", package: "docket"),
                .product(name: "DocketCore", package: "docket"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
                .product(name: "Logging", package: "swift-log"),
            ],
            swiftSettings: [.swiftLanguageMode(.v6)]
        ),
    ]
)
