import DocketClient
import DocketCore
import DocketPostgres
import DocketTestSupport
import Foundation
import Testing

/// A real docketd process on a test database, on free ports.
struct Docketd {
    let process: RunningCommand
    let port: Int
    let httpPort: Int
    let token: String
    let dataDirectory: String

    static var binary: String {
        get throws {
            let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
                .deletingLastPathComponent().path
            let path = ProcessInfo.processInfo.environment["DOCKETD_BIN"] ?? root + "/.build/debug/docketd"
            guard FileManager.default.isExecutableFile(atPath: path) else {
                throw DocketError(.internal, "no docketd binary at \(path): run `swift build` before `swift test`")
            }
            return path
        }
    }

    /// Starts docketd on `endpoint` and waits until it listens.
    static func start(_ endpoint: DatabaseEndpoint, _ flags: [String] = [], folder shared: String? = nil) async throws -> Docketd {
        let folder = shared ?? "/tmp/docketd-test-\(getpid())-\(UInt32.random(in: 0...UInt32.max))"
        let process = try Command(executable: try binary, arguments: [
            "--listen", "127.0.0.1:0", "--http", "127.0.0.1:0", "--database-url", endpoint.url, "--data-dir", folder,
            "--log-level", "warning",
        ] + flags).start()
        let line = try await process.waitForLine { $0.hasPrefix("docketd listening on ") }
        let ports = line.split(separator: " ").compactMap { word -> Int? in
            word.split(separator: ":").last.flatMap { Int($0.trimmingCharacters(in: CharacterSet(charactersIn: ",)"))) }
        }
        let token = try String(contentsOfFile: BootstrapPath.file(folder), encoding: .utf8).trimmingCharacters(in: .whitespacesAndNewlines)
        return Docketd(process: process, port: ports[0], httpPort: ports[1], token: token, dataDirectory: folder)
    }

    func client(token: String? = nil) async throws -> DocketClient {
        try await DocketClient.connect(host: "127.0.0.1", port: port, token: token ?? self.token)
    }

    /// SIGTERM, then the exit status.
    func stop() async throws -> Int32 {
        process.signal(SIGTERM)
        defer { try? FileManager.default.removeItem(atPath: dataDirectory) }
        do {
            return try await process.wait(timeout: .seconds(25))
        } catch {
            // It did not drain in time: never leave it behind, and fail the caller.
            process.signal(SIGKILL)
            _ = try? await process.wait()
            throw error
        }
    }
}

enum BootstrapPath {
    static func file(_ folder: String) -> String { folder + "/admin.key" }
}

/// Runs `body` with a docketd on a fresh database, stopping it afterwards whatever happens.
func withDocketd<T: Sendable>(_ flags: [String] = [], _ body: @Sendable (Docketd, DatabaseEndpoint) async throws -> T) async throws -> T {
    try await withTestDatabase(migrated: false) { endpoint in
        let server = try await Docketd.start(endpoint, flags)
        do {
            let value = try await body(server, endpoint)
            _ = try await server.stop()
            return value
        } catch {
            _ = try? await server.stop()
            throw error
        }
    }
}

/// A raw line connection, for what the typed client would never send.
final class RawConnection: @unchecked Sendable {
    // `send` touches only the socket; `line()` (which owns `pending`) is called from one task at a time.
    let fd: Int32
    private var pending: [UInt8] = []

    init(port: Int) throws {
        fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_port = in_port_t(UInt16(port).bigEndian)
        address.sin_addr.s_addr = inet_addr("127.0.0.1")
        let connected = withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { connect(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) }
        }
        guard connected == 0 else { throw DocketError(.unavailable, "cannot connect to \(port)") }
        var timeout = timeval(tv_sec: 10, tv_usec: 0)
        setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &timeout, socklen_t(MemoryLayout<timeval>.size))
    }

    deinit { close(fd) }

    func send(_ text: String) {
        let bytes = Array(text.utf8)
        var sent = 0
        while sent < bytes.count {
            let count = bytes[sent...].withUnsafeBytes { Glibc.send(fd, $0.baseAddress, $0.count, Int32(MSG_NOSIGNAL)) }
            guard count > 0 else { return }
            sent += count
        }
    }

    /// The next line, or nil when the server closed the connection (or 10 s passed).
    func line() -> String? {
        while true {
            if let newline = pending.firstIndex(of: UInt8(ascii: "\n")) {
                let line = String(decoding: pending[..<newline], as: UTF8.self)
                pending.removeSubrange(...newline)
                return line
            }
            var chunk = [UInt8](repeating: 0, count: 65_536)
            let count = recv(fd, &chunk, chunk.count, 0)
            guard count > 0 else { return nil }
            pending.append(contentsOf: chunk[0..<count])
        }
    }

    func json() throws -> [String: JSONValue] {
        guard let line = line() else { throw DocketError(.unavailable, "connection closed") }
        guard case .object(let fields) = try JSONDecoder().decode(JSONValue.self, from: Data(line.utf8)) else {
            throw DocketError(.badRequest, "not an object: \(line)")
        }
        return fields
    }
}

extension [String: JSONValue] {
    var errorCode: String? {
        guard case .object(let error)? = self["error"], case .string(let code)? = error["code"] else { return nil }
        return code
    }
}

/// A one-shot HTTP/1.1 GET over a raw socket.
enum HTTP {
    static func get(port: Int, path: String) throws -> (status: Int, body: String) {
        let connection = try RawConnection(port: port)
        connection.send("GET \(path) HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n")
        var lines: [String] = []
        while let line = connection.line() { lines.append(line.trimmingCharacters(in: CharacterSet(charactersIn: "\r"))) }
        guard let statusLine = lines.first, let status = Int(statusLine.split(separator: " ").dropFirst().first ?? "") else {
            throw DocketError(.unavailable, "no HTTP response from \(port)")
        }
        let body = lines.split(separator: "", maxSplits: 1, omittingEmptySubsequences: false).dropFirst().first.map { $0.joined(separator: "\n") } ?? ""
        return (status, body)
    }
}
