import Foundation
import Synchronization
#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

extension UUID {
    /// A new random (version 4) UUID, as `UUID()` makes, drawn from a pool of random bytes the system's generator
    /// (`arc4random_buf`: `getrandom` on Linux) refills 4 kB at a time. On Linux, Foundation's `UUID()` opens, reads
    /// and closes `/dev/urandom` for every UUID, about 5 µs each; a create with its event needs two.
    public static func random() -> UUID {
        var bytes = randomPool.withLock { $0.take() }
        bytes.6 = (bytes.6 & 0x0F) | 0x40  // version 4
        bytes.8 = (bytes.8 & 0x3F) | 0x80  // RFC 4122 variant
        return UUID(uuid: bytes)
    }
}

private let randomPool = Mutex(RandomPool())

/// Random bytes handed out 16 at a time.
private struct RandomPool: ~Copyable {
    private static let size = 4096
    private var bytes = [UInt8](repeating: 0, count: RandomPool.size)
    private var next = RandomPool.size

    mutating func take() -> uuid_t {
        if next == Self.size {
            bytes.withUnsafeMutableBytes { arc4random_buf($0.baseAddress!, Self.size) }
            next = 0
        }
        var taken = uuid_t(0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0)
        withUnsafeMutableBytes(of: &taken) { out in
            bytes.withUnsafeBytes { out.copyMemory(from: UnsafeRawBufferPointer(rebasing: $0[next..<next + 16])) }
        }
        next += 16
        return taken
    }
}
