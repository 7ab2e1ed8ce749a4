import DocketCore
import Foundation

/// Where the package and its built programs are, for tests that run them.
public enum PackagePaths {
    /// The package's root folder.
    public static let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
        .deletingLastPathComponent().path

    /// The docketd binary (`DOCKETD_BIN`, else the debug build).
    public static var docketd: String {
        get throws { try executable(ProcessInfo.processInfo.environment["DOCKETD_BIN"] ?? root + "/.build/debug/docketd") }
    }

    /// The docket CLI binary, beside docketd.
    public static var docket: String {
        get throws { try executable(URL(fileURLWithPath: try docketd).deletingLastPathComponent().appendingPathComponent("docket").path) }
    }

    /// The example worker (examples/swift-worker), beside docketd.
    public static var exampleWorker: String {
        get throws {
            try executable(URL(fileURLWithPath: try docketd).deletingLastPathComponent().appendingPathComponent("docket-example-worker").path)
        }
    }

    static func executable(_ path: String) throws -> String {
        guard FileManager.default.isExecutableFile(atPath: path) else {
            throw DocketError(.internal, "no binary at \(path): run `swift build` before `swift test`")
        }
        return path
    }
}
