import DocketCore
import DocketPostgres
import DocketServer
import DocketServices
import Foundation
import Logging
import NIOCore
import ServiceLifecycle

/// Once the servers are bound: makes the bootstrap key on a first start and prints where docketd listens.
struct Announcer: Service {
    let server: ProtocolServer
    let health: HealthServer
    let database: Database
    let keys: APIKeyService
    let endpoint: DatabaseEndpoint
    let dataDirectory: String
    let logger: Logger

    func run() async throws {
        let address = try await server.boundAddress()
        let token = try await endpoint.withConnection(logger: logger) { connection in
            try await BootstrapKey.ensure(keys: keys, connection: connection, dataDirectory: dataDirectory, logger: logger)
        }
        if let token {
            say("""
                docketd: created the bootstrap admin key (shown once; also saved to \(BootstrapKey.path(in: dataDirectory))):
                  \(token)
                """)
        }
        let http = try await health.waitUntilBound()
        say("docketd listening on \(Self.text(address)) (http \(Self.text(http)), database \(endpoint))")
        try? await gracefulShutdown()
    }

    /// Writes a line to standard output at once (tests and scripts read it while docketd runs).
    private func say(_ line: String) {
        FileHandle.standardOutput.write(Data((line + "\n").utf8))
    }

    static func text(_ address: SocketAddress?) -> String {
        guard let address else { return "?" }
        return "\(address.ipAddress ?? "?"):\(address.port ?? 0)"
    }
}
