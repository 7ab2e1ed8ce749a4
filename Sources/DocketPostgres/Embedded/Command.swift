import DocketCore
import Foundation
#if canImport(Glibc)
import Glibc
#endif

/// Runs a local program to completion and captures what it printed.
///
/// Spawns with `posix_spawn` and reaps with `waitpid` (Foundation's `Process.waitUntilExit` was seen to miss the exit
/// of children launched from several threads at once and hang). `runDetached()` work off the concurrency pool.
public struct Command: Sendable {
    public var executable: String
    public var arguments: [String]
    /// When set, the program runs as this user through `runuser` (we are root and PostgreSQL refuses root).
    public var user: String?

    public init(executable: String, arguments: [String], user: String? = nil) {
        self.executable = executable
        self.arguments = arguments
        self.user = user
    }

    public struct Output: Sendable {
        public var status: Int32
        public var text: String
    }

    private var argv: [String] {
        if let user { return [Command.runuser, "-u", user, "--", executable] + arguments }
        return [executable] + arguments
    }

    /// Runs the program, returning its exit status (128 + signal when killed) and its combined output.
    public func run() throws -> Output {
        let pid = try spawn(captureOutput: true)
        var output = Data()
        var buffer = [UInt8](repeating: 0, count: 16_384)
        while true {
            let count = read(pid.readEnd, &buffer, buffer.count)
            if count > 0 {
                output.append(buffer, count: count)
            } else if count == 0 || errno != EINTR {
                break
            }
        }
        close(pid.readEnd)
        return Output(status: Command.wait(pid.pid), text: String(decoding: output, as: UTF8.self))
    }

    /// Runs the program and throws `UNAVAILABLE` with its output when it fails.
    @discardableResult
    public func check(_ what: String) throws -> String {
        let output = try run()
        guard output.status == 0 else {
            throw DocketError(.unavailable, "\(what) failed (exit \(output.status)): \(output.text.trimmingWhitespace())")
        }
        return output.text
    }

    /// Starts the program with no input or output and does not wait for it (it may outlive us).
    public func launchDetached() throws {
        _ = try spawn(captureOutput: false)
    }

    /// `run()` on a thread of its own, so waiting for the program does not hold a concurrency-pool thread.
    public func runAsync() async throws -> Output {
        try await offloaded { try self.run() }
    }

    func spawnCapturing() throws -> (pid: pid_t, readEnd: Int32) {
        try spawn(captureOutput: true)
    }

    private func spawn(captureOutput: Bool) throws -> (pid: pid_t, readEnd: Int32) {
        var fds: [Int32] = [-1, -1]
        if captureOutput {
            guard pipe(&fds) == 0 else {
                throw DocketError(.unavailable, "cannot create a pipe: \(String(cString: strerror(errno)))")
            }
            // Close-on-exec, so no other child (a server started meanwhile) inherits the pipe and holds it open.
            _ = fcntl(fds[0], F_SETFD, FD_CLOEXEC)
            _ = fcntl(fds[1], F_SETFD, FD_CLOEXEC)
        }
        var actions = posix_spawn_file_actions_t()
        posix_spawn_file_actions_init(&actions)
        defer { posix_spawn_file_actions_destroy(&actions) }
        posix_spawn_file_actions_addopen(&actions, 0, "/dev/null", O_RDONLY, 0)
        if captureOutput {
            posix_spawn_file_actions_adddup2(&actions, fds[1], 1)
            posix_spawn_file_actions_adddup2(&actions, fds[1], 2)
        } else {
            posix_spawn_file_actions_addopen(&actions, 1, "/dev/null", O_WRONLY, 0)
            posix_spawn_file_actions_addopen(&actions, 2, "/dev/null", O_WRONLY, 0)
        }
        // Nothing else of ours reaches the child: a server started now (PostgreSQL) would otherwise keep our client
        // sockets open for its whole life, so their peers never see them close.
        Self.closeInheritedDescriptors(&actions)
        let cArguments = argv.map { strdup($0) } + [nil]
        defer { cArguments.forEach { free($0) } }
        // The child starts with no signal blocked and every signal at its default: it would otherwise inherit the
        // spawning thread's mask (the concurrency runtime's threads block most signals), and a program that relies on
        // a signal — pgbench's `-T` timer is SIGALRM, a server's shutdown is SIGTERM — would never get it.
        var attributes = posix_spawnattr_t()
        posix_spawnattr_init(&attributes)
        defer { posix_spawnattr_destroy(&attributes) }
        var none = sigset_t(), all = sigset_t()
        sigemptyset(&none)
        sigfillset(&all)
        sigdelset(&all, SIGKILL)
        sigdelset(&all, SIGSTOP)
        posix_spawnattr_setsigmask(&attributes, &none)
        posix_spawnattr_setsigdefault(&attributes, &all)
        posix_spawnattr_setflags(&attributes, Int16(POSIX_SPAWN_SETSIGMASK | POSIX_SPAWN_SETSIGDEF))
        var pid: pid_t = 0
        let result = posix_spawn(&pid, argv[0], &actions, &attributes, cArguments, environ)
        if captureOutput { close(fds[1]) }
        guard result == 0 else {
            if captureOutput { close(fds[0]) }
            throw DocketError(.unavailable, "cannot run \(argv[0]): \(String(cString: strerror(result)))")
        }
        return (pid, fds[0])
    }

    private static func wait(_ pid: pid_t) -> Int32 {
        var status: Int32 = 0
        while waitpid(pid, &status, 0) < 0 {
            guard errno == EINTR else { return -1 }
        }
        let signal = status & 0x7f
        return signal == 0 ? (status >> 8) & 0xff : 128 + signal
    }

    static let runuser = ["/usr/sbin/runuser", "/sbin/runuser", "/usr/bin/runuser"]
        .first { FileManager.default.isExecutableFile(atPath: $0) } ?? "/usr/sbin/runuser"
}

/// Runs blocking work (waiting for a child process, a file lock) on a thread of its own, off the concurrency pool,
/// so that a pool of two threads cannot be starved by it.
public func offloaded<T: Sendable>(_ work: @escaping @Sendable () throws -> T) async throws -> T {
    try await withCheckedThrowingContinuation { continuation in
        let thread = Thread {
            continuation.resume(with: Result { try work() })
        }
        thread.start()
    }
}

extension Command {
    private typealias CloseFrom = @convention(c) (UnsafeMutablePointer<posix_spawn_file_actions_t>, Int32) -> Int32

    /// `posix_spawn_file_actions_addclosefrom_np(actions, 3)` (glibc 2.34+; not in Swift's Glibc module, so looked up by
    /// name), else a close action for every descriptor open now.
    static func closeInheritedDescriptors(_ actions: inout posix_spawn_file_actions_t) {
        if let symbol = dlsym(nil, "posix_spawn_file_actions_addclosefrom_np") {
            _ = unsafeBitCast(symbol, to: CloseFrom.self)(&actions, 3)
            return
        }
        let open = (try? FileManager.default.contentsOfDirectory(atPath: "/proc/self/fd")) ?? []
        for fd in open.compactMap(Int32.init) where fd > 2 { posix_spawn_file_actions_addclose(&actions, fd) }
    }
}
