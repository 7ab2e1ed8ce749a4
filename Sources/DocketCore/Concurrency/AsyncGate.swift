// A concurrency primitive with no I/O: the claim path waits on it.
import Synchronization

/// At most `width` bodies at once; the others wait their turn in arrival order. A waiter whose task is cancelled
/// leaves the line at once and throws `CancellationError`.
public final class AsyncGate: Sendable {
    private struct State {
        var running = 0
        var line: [(ticket: Int, continuation: CheckedContinuation<Void, any Error>)] = []
        var nextTicket = 0
    }

    public let width: Int
    private let state = Mutex(State())

    public init(width: Int) {
        precondition(width > 0, "a gate lets at least one through")
        self.width = width
    }

    public func run<T>(_ body: () async throws -> T) async throws -> T {
        try await enter()
        defer { leave() }
        return try await body()
    }

    private func enter() async throws {
        let ticket = state.withLock { state -> Int? in
            guard state.running >= width else {
                state.running += 1
                return nil
            }
            state.nextTicket += 1
            return state.nextTicket
        }
        guard let ticket else { return }
        try await withTaskCancellationHandler {
            try await withCheckedThrowingContinuation { (continuation: CheckedContinuation<Void, any Error>) in
                // Decided under the lock `leave` and the cancellation handler take too: a place freed since the
                // first look is taken now, and a cancellation is seen by exactly one of the two.
                enum Start { case entered, cancelled, waiting }
                let start = state.withLock { state -> Start in
                    if Task.isCancelled { return .cancelled }
                    if state.running < width {
                        state.running += 1
                        return .entered
                    }
                    state.line.append((ticket, continuation))
                    return .waiting
                }
                switch start {
                case .entered: continuation.resume()
                case .cancelled: continuation.resume(throwing: CancellationError())
                case .waiting: break
                }
            }
        } onCancel: {
            let waiter = state.withLock { state -> CheckedContinuation<Void, any Error>? in
                guard let index = state.line.firstIndex(where: { $0.ticket == ticket }) else { return nil }
                return state.line.remove(at: index).continuation
            }
            waiter?.resume(throwing: CancellationError())
        }
    }

    /// How many wait their turn now (tests read it).
    var waiting: Int { state.withLock { $0.line.count } }

    /// Hands the place to the first in line, or frees it.
    private func leave() {
        let next = state.withLock { state -> CheckedContinuation<Void, any Error>? in
            guard !state.line.isEmpty else {
                state.running -= 1
                return nil
            }
            return state.line.removeFirst().continuation
        }
        next?.resume()
    }
}
