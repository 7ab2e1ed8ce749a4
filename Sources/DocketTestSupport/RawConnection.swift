import DocketCore
import DocketProtocol
import Foundation

/// A raw line connection to docketd, for what the typed client would never send (and for reading at a chosen pace).
public final class RawConnection: @unchecked Sendable {
    // `send` touches only the socket; `line()` (which owns `pending`) is called from one task at a time.
    public let fd: Int32
    private var pending: [UInt8] = []

    /// Connects to 127.0.0.1:`port`; `receiveBuffer` shrinks SO_RCVBUF (a client that reads slowly).
    public init(port: Int, receiveBuffer: Int? = nil, timeoutSeconds: Int = 10) throws {
        fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        if var size = receiveBuffer.map(Int32.init) {
            setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &size, socklen_t(MemoryLayout<Int32>.size))
        }
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_port = in_port_t(UInt16(port).bigEndian)
        address.sin_addr.s_addr = inet_addr("127.0.0.1")
        let connected = withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { connect(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) }
        }
        guard connected == 0 else {
            Glibc.close(fd)
            throw DocketError(.unavailable, "cannot connect to \(port)")
        }
        var timeout = timeval(tv_sec: timeoutSeconds, tv_usec: 0)
        setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &timeout, socklen_t(MemoryLayout<timeval>.size))
    }

    deinit { Glibc.close(fd) }

    public func send(_ text: String) { send(bytes: Array(text.utf8)) }

    public func send(bytes: [UInt8]) {
        var sent = 0
        while sent < bytes.count {
            let count = bytes[sent...].withUnsafeBytes { Glibc.send(fd, $0.baseAddress, $0.count, Int32(MSG_NOSIGNAL)) }
            guard count > 0 else { return }
            sent += count
        }
    }

    /// Sends `{"id":…,"op":"auth",…}` with `token` and returns the answer.
    @discardableResult
    public func authenticate(_ token: String, id: Int = 0) throws -> [String: JSONValue] {
        send("{\"id\":\(id),\"op\":\"auth\",\"args\":{\"token\":\"\(token)\"}}\n")
        return try json()
    }

    /// The next line, or nil when the server closed the connection (or the timeout passed).
    public func line() -> String? {
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

    public func json() throws -> [String: JSONValue] {
        guard let line = line() else { throw DocketError(.unavailable, "connection closed") }
        guard case .object(let fields) = try JSONReader.parse(Array(line.utf8), maxDepth: 256) else {
            throw DocketError(.badRequest, "not an object: \(line)")
        }
        return fields
    }

    /// Whether the server has closed the connection (a read sees the end, or a reset), waiting up to `timeout`.
    public func isClosedByServer(within timeout: Duration = .seconds(5)) -> Bool {
        let deadline = ContinuousClock.now + timeout
        while ContinuousClock.now < deadline {
            var poller = pollfd(fd: fd, events: Int16(POLLIN), revents: 0)
            guard poll(&poller, 1, 100) >= 0 else { return true }
            if poller.revents & Int16(POLLIN | POLLHUP | POLLERR) != 0 {
                var byte: UInt8 = 0
                let count = recv(fd, &byte, 1, Int32(MSG_PEEK | MSG_DONTWAIT))
                if count <= 0 { return true }
                // Data waiting: drain it and look again.
                _ = line()
            }
        }
        return false
    }

    /// Closes with a reset (SO_LINGER 0), as a crashed or hostile client does.
    public func reset() {
        var linger = Glibc.linger(l_onoff: 1, l_linger: 0)
        setsockopt(fd, SOL_SOCKET, SO_LINGER, &linger, socklen_t(MemoryLayout<Glibc.linger>.size))
        shutdown(fd, Int32(SHUT_RDWR))
    }
}

extension [String: JSONValue] {
    /// The `error.code` of a response line.
    public var errorCode: String? {
        guard case .object(let error)? = self["error"], case .string(let code)? = error["code"] else { return nil }
        return code
    }

    /// The `error.details.field` of a response line.
    public var errorField: String? {
        guard case .object(let error)? = self["error"], case .object(let details)? = error["details"],
              case .string(let field)? = details["field"] else { return nil }
        return field
    }
}
