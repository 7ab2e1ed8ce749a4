import DocketCore
import Foundation
import Synchronization

/// A subscriber on a plain blocking socket read by a thread of its own, so each event's arrival time is taken when its
/// bytes arrive — not when a busy cooperative pool gets round to an async consumer (which, with 16 writer tasks in
/// the same process, added tens of milliseconds to the measured propagation).
final class RawSubscriber: Sendable {
    private let fd: Int32
    private let arrivals = Mutex<[String: (arrived: Date, occurred: Date)]>([:])
    private let stopped = Atomic(false)

    init(port: Int, token: String, tenant: String, topics: [String]) throws {
        fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_port = in_port_t(UInt16(port).bigEndian)
        address.sin_addr.s_addr = inet_addr("127.0.0.1")
        let connected = withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { connect(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) }
        }
        guard connected == 0 else { throw DocketError(.unavailable, "cannot connect to 127.0.0.1:\(port)") }
        var one: Int32 = 1
        setsockopt(fd, Int32(IPPROTO_TCP), TCP_NODELAY, &one, socklen_t(MemoryLayout<Int32>.size))
        var timeout = timeval(tv_sec: 0, tv_usec: 200_000)
        setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &timeout, socklen_t(MemoryLayout<timeval>.size))
        let list = topics.map { "\"\($0)\"" }.joined(separator: ",")
        send("{\"id\":1,\"op\":\"auth\",\"args\":{\"token\":\"\(token)\"}}\n"
            + "{\"id\":2,\"op\":\"subscribe\",\"args\":{\"topics\":[\(list)],\"tenant_id\":\"\(tenant)\"}}\n")
    }

    private func send(_ text: String) {
        let bytes = Array(text.utf8)
        var sent = 0
        while sent < bytes.count {
            let count = bytes[sent...].withUnsafeBytes { Glibc.send(fd, $0.baseAddress, $0.count, Int32(MSG_NOSIGNAL)) }
            guard count > 0 else { return }
            sent += count
        }
    }

    /// Reads on a thread of its own until `stop()`.
    func start() {
        Thread { [self] in
            var pending: [UInt8] = []
            var chunk = [UInt8](repeating: 0, count: 65_536)
            while !stopped.load(ordering: .relaxed) {
                let count = recv(fd, &chunk, chunk.count, 0)
                if count <= 0 {
                    if count < 0, errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR { continue }
                    break
                }
                let now = Date()
                pending.append(contentsOf: chunk[0..<count])
                while let newline = pending.firstIndex(of: UInt8(ascii: "\n")) {
                    let line = Data(pending[..<newline])
                    pending.removeSubrange(...newline)
                    guard let object = try? JSONSerialization.jsonObject(with: line) as? [String: Any],
                          let event = object["event"] as? [String: Any], let id = event["entity_id"] as? String,
                          let at = event["occurred_at"] as? String, let occurred = Timestamp.parse(at) else { continue }
                    arrivals.withLock { $0[id] = (now, occurred) }
                }
            }
        }.start()
    }

    func stop() -> [String: (arrived: Date, occurred: Date)] {
        stopped.store(true, ordering: .relaxed)
        Thread.sleep(forTimeInterval: 0.3)
        close(fd)
        return arrivals.withLock { $0 }
    }
}
