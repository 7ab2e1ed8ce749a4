import DocketCore
import DocketTestSupport
import Foundation
import Logging
import PostgresNIO
import Testing
@testable import DocketPostgres

/// The launcher's own life cycle, on a data folder of its own (not the shared test server).
struct EmbeddedPostgresTests {
    let logger = Logger(label: "test.embedded")

    @Test func initialisesStartsSharesVerifiesAndStops() async throws {
        let folder = "/tmp/docket-embedded-\(getpid())-\(UInt32.random(in: 0...UInt32.max))"
        let server = try EmbeddedPostgres(dataDirectory: folder, serverSettings: ["fsync": "off"])
        defer { server.removeFiles() }
        #expect(try server.state() == .notInitialized)
        do {
            let endpoint = try await server.ensureRunning(logger: logger)
            guard case .running(let first) = try server.state() else {
                Issue.record("server is not running after start")
                return
            }
            // A second process (here: a second launcher) shares the running server.
            let again = try await EmbeddedPostgres(dataDirectory: folder).start()
            #expect(again.pid == first.pid)
            #expect(again.port == first.port)

            let row = try await endpoint.withConnection(logger: logger) { connection in
                try await connection.query(
                    "SELECT current_database(), current_user, current_setting('listen_addresses')", logger: logger
                ).collect().first?.decode((String, String, String).self)
            }
            #expect(row?.0 == "docket")
            #expect(row?.1 == "docket")
            #expect(row?.2 == "", "reachable only through its socket")

            #expect(try await server.stop())
            #expect(try server.state() == .stopped)
            #expect(!isRunning(first.pid), "the server process is gone")
            #expect(try await server.stop() == false)

            // Data survives a restart.
            _ = try await server.ensureRunning(logger: logger)
            #expect(try await server.stop())
        } catch {
            _ = try? await server.stopImmediately()
            throw error
        }
    }

    @Test func refusesAServerThatIsNotItsOwn() async throws {
        let folder = "/tmp/docket-embedded-\(getpid())-\(UInt32.random(in: 0...UInt32.max))"
        let server = try EmbeddedPostgres(dataDirectory: folder, serverSettings: ["fsync": "off"])
        defer { server.removeFiles() }
        let running = try await server.start()
        defer { _ = try? server.stopImmediatelyBlocking() }
        var impostor = running
        impostor.dataDirectory = "/somewhere/else"
        let error = try await #require(throws: DocketError.self) {
            try await running.endpoint.with(database: "postgres").withConnection(logger: logger) { connection in
                try await EmbeddedPostgres.verify(connection, running: impostor, logger: logger)
            }
        }
        #expect(error.code == .unavailable)
        #expect(error.message.contains("is not this data folder's"))
    }

    @Test func parsesDatabaseURLs() throws {
        let tcp = try DatabaseEndpoint(url: "postgres://me:s%40cret@db.example:6543/jobs?sslmode=require")
        #expect(tcp.address == .tcp(host: "db.example", port: 6543))
        #expect(tcp.username == "me")
        #expect(tcp.password == "s@cret")
        #expect(tcp.database == "jobs")
        #expect(tcp.tls == .require)
        #expect(try DatabaseEndpoint(url: tcp.url) == tcp)

        let socket = try DatabaseEndpoint(url: "postgresql://docket@localhost/docket?host=/tmp/run&port=7777")
        #expect(socket.address == .socket(path: "/tmp/run/.s.PGSQL.7777"))
        #expect(socket.tls == .disable)
        #expect(try DatabaseEndpoint(url: socket.url) == socket)

        for bad in ["mysql://x@y/z", "postgres://x@h/d?sslmode=sometimes", "not a url at all", "postgres:///db"] {
            let error = try #require(throws: DocketError.self) { try DatabaseEndpoint(url: bad) }
            #expect(error.code == .validationError)
            #expect(error.details["field"] == .string("database_url"))
        }
    }
}

/// Whether a process exists and is not a zombie waiting to be reaped.
func isRunning(_ pid: Int32) -> Bool {
    guard let stat = try? String(contentsOfFile: "/proc/\(pid)/stat", encoding: .utf8),
          let close = stat.lastIndex(of: ")") else { return false }
    let state = stat[stat.index(close, offsetBy: 2)]
    return state != "Z" && state != "X"
}
