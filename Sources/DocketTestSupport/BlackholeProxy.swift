import DocketCore
import DocketPostgres
import Foundation
import Synchronization

/// A user-space TCP proxy in front of a PostgreSQL unix socket that can blackhole its connections: while blackholed
/// it neither reads, writes nor closes anything, as a network partition does (no reset, no FIN gets through).
///
/// Threads, not async code: each connection is a blocking pump that must keep working while the test's tasks wait.
public final class BlackholeProxy: Sendable {
    public let port: Int
    let upstream: String
    let listener: Int32
    private let state = Mutex((blackholed: false, stopped: false, connections: 0))

    /// Listens on 127.0.0.1 (a free port) and forwards each connection to the unix socket at `socketPath`.
    public init(socketPath: String) throws {
        upstream = socketPath
        let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        var yes: Int32 = 1
        setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &yes, socklen_t(MemoryLayout<Int32>.size))
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_port = 0
        address.sin_addr.s_addr = inet_addr("127.0.0.1")
        let bound = withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) }
        }
        guard bound == 0, listen(fd, 128) == 0 else {
            close(fd)
            throw DocketError(.internal, "the proxy cannot listen")
        }
        var actual = sockaddr_in()
        var length = socklen_t(MemoryLayout<sockaddr_in>.size)
        _ = withUnsafeMutablePointer(to: &actual) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { getsockname(fd, $0, &length) }
        }
        listener = fd
        port = Int(UInt16(bigEndian: actual.sin_port))
        let proxy = self
        Thread.detachNewThread { proxy.accept() }
    }

    /// The URL docketd connects with to reach `database` through the proxy.
    public func url(database: String, user: String = EmbeddedPostgres.username) -> String {
        "postgres://\(user)@127.0.0.1:\(port)/\(database)?sslmode=disable"
    }

    /// Starts or ends the partition.
    public func blackhole(_ on: Bool) { state.withLock { $0.blackholed = on } }

    /// Connections being relayed now.
    public var connections: Int { state.withLock { $0.connections } }

    /// Closes the listener and every relayed connection.
    public func stop() {
        state.withLock { $0.stopped = true }
        shutdown(listener, Int32(SHUT_RDWR))
        close(listener)
    }

    private var stopped: Bool { state.withLock { $0.stopped } }
    private var blackholed: Bool { state.withLock { $0.blackholed } }

    private func accept() {
        while !stopped {
            let client = Glibc.accept(listener, nil, nil)
            guard client >= 0 else {
                if stopped { return }
                continue
            }
            guard let server = connectUpstream() else {
                close(client)
                continue
            }
            state.withLock { $0.connections += 1 }
            let proxy = self
            Thread.detachNewThread { proxy.pump(client, server) }
        }
    }

    private func connectUpstream() -> Int32? {
        let fd = socket(AF_UNIX, Int32(SOCK_STREAM.rawValue), 0)
        var address = sockaddr_un()
        address.sun_family = sa_family_t(AF_UNIX)
        let path = Array(upstream.utf8CString)
        withUnsafeMutableBytes(of: &address.sun_path) { buffer in
            for (index, byte) in path.prefix(buffer.count - 1).enumerated() { buffer[index] = UInt8(bitPattern: byte) }
        }
        let connected = withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { connect(fd, $0, socklen_t(MemoryLayout<sockaddr_un>.size)) }
        }
        guard connected == 0 else {
            close(fd)
            return nil
        }
        return fd
    }

    /// Relays both ways until either side ends; while blackholed, leaves both alone.
    private func pump(_ a: Int32, _ b: Int32) {
        defer {
            close(a)
            close(b)
            state.withLock { $0.connections -= 1 }
        }
        var buffer = [UInt8](repeating: 0, count: 65_536)
        while !stopped {
            if blackholed {
                usleep(20_000)
                continue
            }
            var fds = [pollfd(fd: a, events: Int16(POLLIN), revents: 0), pollfd(fd: b, events: Int16(POLLIN), revents: 0)]
            let ready = poll(&fds, 2, 20)
            if ready < 0 { return }
            if ready == 0 || blackholed { continue }
            for (from, to) in [(0, b), (1, a)] where fds[from].revents != 0 {
                let count = read(fds[from].fd, &buffer, buffer.count)
                if count <= 0 { return }
                var written = 0
                while written < count {
                    let sent = buffer[written..<count].withUnsafeBytes { Glibc.send(to, $0.baseAddress, $0.count, Int32(MSG_NOSIGNAL)) }
                    if sent <= 0 { return }
                    written += sent
                }
            }
        }
    }
}
