import DocketCore
import Foundation
import Logging
import NIOSSL
import PostgresNIO

/// Where a PostgreSQL database is and how to log in: from a `postgres://` URL or the embedded server.
public struct DatabaseEndpoint: Sendable, Hashable, CustomStringConvertible {
    public enum Address: Sendable, Hashable {
        case tcp(host: String, port: Int)
        /// The full path of the socket file (`…/.s.PGSQL.5432`).
        case socket(path: String)
    }

    public enum TLSMode: String, Sendable, Hashable {
        case disable, prefer, require
    }

    public var address: Address
    public var username: String
    public var password: String?
    public var database: String
    public var tls: TLSMode

    public init(address: Address, username: String, password: String? = nil, database: String, tls: TLSMode = .disable) {
        self.address = address
        self.username = username
        self.password = password
        self.database = database
        self.tls = tls
    }

    /// The same server and login, another database.
    public func with(database: String) -> DatabaseEndpoint {
        var copy = self
        copy.database = database
        return copy
    }

    /// The endpoint without its password, for logs and messages.
    public var description: String {
        var redacted = self
        redacted.password = nil
        return redacted.url
    }

    /// A `psql` command line that reaches this database.
    public var psqlCommand: String {
        switch address {
        case .tcp(let host, let port):
            return "psql -h \(host) -p \(port) -U \(username) \(database)"
        case .socket:
            let (folder, port) = address.socketFolderAndPort
            return "psql -h \(folder) -p \(port) -U \(username) \(database)"
        }
    }

    public func connectionConfiguration(connectTimeout: Duration = .seconds(10)) throws -> PostgresConnection.Configuration {
        var configuration: PostgresConnection.Configuration
        switch address {
        case .tcp(let host, let port):
            configuration = .init(host: host, port: port, username: username, password: password, database: database,
                                  tls: try postgresTLS())
        case .socket(let path):
            configuration = .init(unixSocketPath: path, username: username, password: password, database: database)
        }
        configuration.options.connectTimeout = .init(connectTimeout)
        return configuration
    }

    public var clientConfiguration: PostgresClient.Configuration {
        var configuration: PostgresClient.Configuration
        switch address {
        case .tcp(let host, let port):
            configuration = .init(host: host, port: port, username: username, password: password, database: database,
                                  tls: postgresClientTLS)
        case .socket(let path):
            configuration = .init(unixSocketPath: path, username: username, password: password, database: database)
        }
        configuration.options.connectTimeout = .seconds(10)
        return configuration
    }

    private func postgresTLS() throws -> PostgresConnection.Configuration.TLS {
        switch tls {
        case .disable: .disable
        case .prefer: .prefer(try NIOSSLContext(configuration: .makeClientConfiguration()))
        case .require: .require(try NIOSSLContext(configuration: .makeClientConfiguration()))
        }
    }

    private var postgresClientTLS: PostgresClient.Configuration.TLS {
        switch tls {
        case .disable: .disable
        case .prefer: .prefer(.makeClientConfiguration())
        case .require: .require(.makeClientConfiguration())
        }
    }

    /// Opens one connection outside any pool; the caller must close it.
    public func connect(logger: Logger, connectTimeout: Duration = .seconds(10)) async throws -> PostgresConnection {
        do {
            return try await PostgresConnection.connect(
                configuration: try connectionConfiguration(connectTimeout: connectTimeout), id: Int.random(in: 1...Int.max),
                logger: logger)
        } catch {
            throw DocketError(.unavailable, "cannot connect to \(self): \(DatabaseEndpoint.reason(error))")
        }
    }

    /// Runs `body` on a fresh connection and closes it afterwards, whatever happens.
    @discardableResult
    public func withConnection<T: Sendable>(
        logger: Logger, connectTimeout: Duration = .seconds(10), _ body: (PostgresConnection) async throws -> T
    ) async throws -> T {
        let connection = try await connect(logger: logger, connectTimeout: connectTimeout)
        do {
            let value = try await body(connection)
            try? await connection.close()
            return value
        } catch {
            try? await connection.close()
            throw error
        }
    }

    /// The server's own words for a database error, or the error's description.
    public static func reason(_ error: any Error) -> String {
        if let error = error as? PSQLError {
            if let message = error.serverInfo?[.message] { return message }
            return String(reflecting: error)
        }
        if let error = error as? DocketError { return error.message }
        return String(describing: error)
    }
}
