import DocketCore
import PostgresNIO
import Synchronization

extension PostgresConnection {
    /// Runs `body` (queries on this connection) with a deadline; past it, closes the connection (the only way to abort
    /// an in-flight PostgresNIO query) and returns nil.
    ///
    /// A query on a connection that is already closed never completes (PLATFORM-NOTES), so this refuses a closed
    /// connection up front and does not wait for the query once the deadline has passed (`Deadline.race`).
    public func withDeadline<T: Sendable>(
        _ limit: Duration, _ body: @escaping @Sendable () async throws -> T
    ) async throws -> T? {
        guard !isClosed else { throw DocketError(.unavailable, "the database connection is closed") }
        return try await Deadline.race(limit, body) { try? await self.close() }
    }
}

/// Races work against a time limit without waiting for work that may never end.
public enum Deadline {
    /// Runs `body` in a task of its own; returns its value, or nil once `limit` has passed (then `onExpiry` runs and
    /// the body is abandoned: it may still finish, unobserved). The caller's cancellation cancels the body and
    /// answers `CancellationError` at once.
    public static func race<T: Sendable>(
        _ limit: Duration, _ body: @escaping @Sendable () async throws -> T,
        onExpiry: @escaping @Sendable () async -> Void = {}
    ) async throws -> T? {
        let race = Race<T?>()
        return try await withTaskCancellationHandler {
            try await withCheckedThrowingContinuation { (continuation: CheckedContinuation<T?, any Error>) in
                guard race.begin(continuation) else { return }
                let work = Task {
                    do {
                        race.answer(.success(try await body()))
                    } catch {
                        race.answer(.failure(error))
                    }
                }
                let timer = Task {
                    try? await Task.sleep(for: limit)
                    guard !Task.isCancelled, race.claim() else { return }
                    await onExpiry()
                    race.resume(.success(nil))
                }
                race.track(work, timer)
            }
        } onCancel: {
            race.cancel()
        }
    }

    /// Like `race`, but an expired body is an `UNAVAILABLE` error naming `what`.
    public static func run<T: Sendable>(
        _ limit: Duration, _ what: String, _ body: @escaping @Sendable () async throws -> T,
        onExpiry: @escaping @Sendable () async -> Void = {}
    ) async throws -> T {
        guard let value = try await race(limit, body, onExpiry: onExpiry) else {
            throw DocketError(.unavailable, "\(what) did not finish within \(limit.inSeconds) s")
        }
        return value
    }
}

/// True for the first caller of `claim()` only.
public final class OnceFlag: Sendable {
    private let taken = Atomic(false)

    public init() {}

    public func claim() -> Bool {
        taken.compareExchange(expected: false, desired: true, ordering: .acquiringAndReleasing).exchanged
    }
}

/// The shared state of one `Deadline.race`: the continuation, answered once, and the two tasks racing.
private final class Race<T: Sendable>: Sendable {
    private struct State {
        var continuation: CheckedContinuation<T, any Error>?
        var claimed = false
        var cancelled = false
        var work: Task<Void, Never>?
        var timer: Task<Void, Never>?
    }

    private let state = Mutex(State())

    /// Stores the continuation; false (and answered) when the caller was cancelled before.
    func begin(_ continuation: CheckedContinuation<T, any Error>) -> Bool {
        let cancelled = state.withLock { state -> Bool in
            if state.cancelled { return true }
            state.continuation = continuation
            return false
        }
        if cancelled { continuation.resume(throwing: CancellationError()) }
        return !cancelled
    }

    func track(_ work: Task<Void, Never>, _ timer: Task<Void, Never>) {
        let cancelled = state.withLock { state -> Bool in
            state.work = work
            state.timer = timer
            return state.cancelled || state.claimed
        }
        if cancelled { timer.cancel() }
    }

    /// True for the first to claim the answer.
    func claim() -> Bool {
        state.withLock { state in
            defer { state.claimed = true }
            return !state.claimed
        }
    }

    /// Resumes the continuation (after a successful `claim`).
    func resume(_ result: Result<T, any Error>) {
        let continuation = state.withLock { state in
            defer { state.continuation = nil }
            return state.continuation
        }
        continuation?.resume(with: result)
    }

    /// The work's answer, unless the deadline or a cancellation answered first.
    func answer(_ result: Result<T, any Error>) {
        guard claim() else { return }
        let timer = state.withLock { $0.timer }
        timer?.cancel()
        resume(result)
    }

    func cancel() {
        let (work, timer, first) = state.withLock { state -> (Task<Void, Never>?, Task<Void, Never>?, Bool) in
            state.cancelled = true
            defer { state.claimed = true }
            return (state.work, state.timer, !state.claimed)
        }
        work?.cancel()
        timer?.cancel()
        if first { resume(.failure(CancellationError())) }
    }
}
