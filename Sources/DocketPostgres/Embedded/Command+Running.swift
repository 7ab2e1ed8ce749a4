import DocketCore
import Foundation
import Synchronization
#if canImport(Glibc)
import Glibc
#endif

extension Command {
    /// Starts the program in the background, its output captured line by line (tests drive docketd this way).
    public func start() throws -> RunningCommand {
        let (pid, readEnd) = try spawnCapturing()
        return RunningCommand(pid: pid, readEnd: readEnd)
    }
}

/// A program started by `Command.start()`: read its output lines, signal it, wait for its exit status.
public final class RunningCommand: Sendable {
    public let pid: pid_t
    private let lines: Mutex<(buffer: [String], partial: [UInt8], closed: Bool)>
    private let status = Mutex<Int32?>(nil)

    init(pid: pid_t, readEnd: Int32) {
        self.pid = pid
        self.lines = Mutex(([], [], false))
        Thread { [self] in
            var chunk = [UInt8](repeating: 0, count: 4096)
            while true {
                let count = read(readEnd, &chunk, chunk.count)
                if count < 0, errno == EINTR { continue }
                guard count > 0 else { break }
                self.lines.withLock { state in
                    for byte in chunk[0..<count] {
                        if byte == UInt8(ascii: "\n") {
                            state.buffer.append(String(decoding: state.partial, as: UTF8.self))
                            state.partial.removeAll()
                        } else {
                            state.partial.append(byte)
                        }
                    }
                }
            }
            close(readEnd)
            self.lines.withLock { $0.closed = true }
        }.start()
    }

    /// Every complete line printed so far.
    public var output: [String] { lines.withLock { $0.buffer } }

    /// Waits until a printed line satisfies `match` (returning it), or throws when the program ends or time runs out.
    public func waitForLine(timeout: Duration = .seconds(60), where match: (String) -> Bool) async throws -> String {
        let deadline = ContinuousClock.now + timeout
        while ContinuousClock.now < deadline {
            let (buffer, closed) = lines.withLock { ($0.buffer, $0.closed) }
            if let line = buffer.first(where: match) { return line }
            if closed { break }
            try await Task.sleep(for: .milliseconds(20))
        }
        throw DocketError(.unavailable, "process \(pid) did not print the expected line; it printed:\n" + output.joined(separator: "\n"))
    }

    public func signal(_ number: Int32) { kill(pid, number) }

    /// Waits for the exit (reaping it) and returns the status: the exit code, or 128 + the signal.
    public func wait(timeout: Duration = .seconds(30)) async throws -> Int32 {
        let deadline = ContinuousClock.now + timeout
        while ContinuousClock.now < deadline {
            if let done = status.withLock({ $0 }) { return done }
            var raw: Int32 = 0
            let result = waitpid(pid, &raw, WNOHANG)
            if result == pid {
                let signal = raw & 0x7f
                let code = signal == 0 ? (raw >> 8) & 0xff : 128 + signal
                status.withLock { $0 = code }
                return code
            }
            try await Task.sleep(for: .milliseconds(20))
        }
        throw DocketError(.unavailable, "process \(pid) did not exit in time")
    }
}
