import DocketCore
import Foundation

extension DatabaseEndpoint.Address {
    var isSocket: Bool {
        if case .socket = self { return true }
        return false
    }

    /// For a socket: its folder and the port in its name (`.s.PGSQL.<port>`).
    var socketFolderAndPort: (folder: String, port: String) {
        guard case .socket(let path) = self else { return ("", "") }
        let url = URL(fileURLWithPath: path)
        let port = url.lastPathComponent.split(separator: ".").last.map(String.init) ?? "5432"
        return (url.deletingLastPathComponent().path, port)
    }
}

extension DatabaseEndpoint {
    /// Parses `postgres://user:password@host:port/database?sslmode=disable|prefer|require`.
    ///
    /// A unix socket is named with `?host=/socket/folder` (and the port picks `.s.PGSQL.<port>` in it), as libpq does.
    public init(url text: String) throws(DocketError) {
        func invalid(_ reason: String) -> DocketError {
            .validation(field: "database_url", "\(reason) (expected postgres://user:password@host:port/database)")
        }
        guard let components = URLComponents(string: text) else { throw invalid("not a URL") }
        guard components.scheme == "postgres" || components.scheme == "postgresql" else {
            throw invalid("scheme must be postgres or postgresql")
        }
        let query = Dictionary(
            (components.queryItems ?? []).map { ($0.name, $0.value ?? "") }, uniquingKeysWith: { _, last in last })
        let port = components.port ?? Int(query["port"] ?? "") ?? 5432
        let database = String(components.path.drop(while: { $0 == "/" }))
        let username = components.user ?? query["user"] ?? ProcessInfo.processInfo.environment["USER"] ?? "postgres"
        let tls: TLSMode
        switch query["sslmode"] ?? "prefer" {
        case "disable", "allow": tls = .disable
        case "prefer": tls = .prefer
        case "require", "verify-ca", "verify-full": tls = .require
        case let other: throw invalid("unknown sslmode \"\(other)\"")
        }
        let address: Address
        if let socketFolder = query["host"], socketFolder.hasPrefix("/") {
            address = .socket(path: "\(socketFolder)/.s.PGSQL.\(port)")
        } else if let host = components.host, !host.isEmpty {
            address = .tcp(host: host, port: port)
        } else {
            throw invalid("no host")
        }
        self.init(
            address: address,
            username: username,
            password: components.password?.removingPercentEncoding ?? query["password"],
            database: database.isEmpty ? username : database,
            tls: address.isSocket ? .disable : tls
        )
    }
}

extension DatabaseEndpoint {
    /// A URL that `init(url:)` reads back to this endpoint (password included: keep it out of logs).
    public var url: String {
        let user = username.addingPercentEncoding(withAllowedCharacters: .urlUserAllowed) ?? username
        let secret = password.map { ":" + ($0.addingPercentEncoding(withAllowedCharacters: .urlPasswordAllowed) ?? $0) }
        let login = user + (secret ?? "")
        switch address {
        case .tcp(let host, let port):
            return "postgres://\(login)@\(host):\(port)/\(database)?sslmode=\(tls.rawValue)"
        case .socket:
            let (folder, port) = address.socketFolderAndPort
            return "postgres://\(login)@localhost/\(database)?host=\(folder)&port=\(port)"
        }
    }
}
