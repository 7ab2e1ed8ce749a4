import DocketCore
import Foundation

/// Where the local PostgreSQL server programs (`initdb`, `pg_ctl`, `postgres`) are.
public struct PostgresBinaries: Sendable {
    public let directory: String

    public init(directory: String) { self.directory = directory }

    public func path(_ program: String) -> String { directory + "/" + program }

    /// Finds the programs: `DOCKET_PG_BINDIR`, then `pg_config --bindir`, then Debian's `/usr/lib/postgresql/N/bin`.
    public static func locate(environment: [String: String] = ProcessInfo.processInfo.environment) throws -> PostgresBinaries {
        var candidates: [String] = []
        if let configured = environment["DOCKET_PG_BINDIR"], !configured.isEmpty { candidates.append(configured) }
        for pgConfig in ["/usr/bin/pg_config", "/usr/local/bin/pg_config", "/usr/local/pgsql/bin/pg_config"]
        where FileManager.default.isExecutableFile(atPath: pgConfig) {
            if let out = try? Command(executable: pgConfig, arguments: ["--bindir"]).run(), out.status == 0 {
                candidates.append(out.text.trimmingWhitespace())
            }
        }
        let debian = (try? FileManager.default.contentsOfDirectory(atPath: "/usr/lib/postgresql")) ?? []
        for version in debian.sorted(by: { (Int($0) ?? 0) > (Int($1) ?? 0) }) {
            candidates.append("/usr/lib/postgresql/\(version)/bin")
        }
        for directory in candidates {
            let binaries = PostgresBinaries(directory: directory)
            if ["initdb", "pg_ctl", "postgres"].allSatisfy({ FileManager.default.isExecutableFile(atPath: binaries.path($0)) }) {
                return binaries
            }
        }
        throw DocketError(.unavailable, "no PostgreSQL server programs found (looked in: "
            + (candidates.isEmpty ? "nothing" : candidates.joined(separator: ", "))
            + "); install PostgreSQL (Debian: apt-get install postgresql) or set DOCKET_PG_BINDIR")
    }
}
