// A concurrency primitive with no I/O: the bus, the sweeps and the worker runtime wait on it.
import Synchronization

/// A wake-up flag for one waiting task: `fire()` wakes the waiter or, when none waits, the next `wait`.
public final class WakeSignal: Sendable {
    private struct State {
        var pending = false
        var waiter: CheckedContinuation<Bool, Never>?
        var generation = 0
    }

    private let state = Mutex(State())

    public init() {}

    public func fire() {
        let waiter = state.withLock { state -> CheckedContinuation<Bool, Never>? in
            guard let waiter = state.waiter else {
                state.pending = true
                return nil
            }
            state.waiter = nil
            return waiter
        }
        waiter?.resume(returning: true)
    }

    /// Returns true at the next `fire()` (at once if one came since the last wait), false after `limit` without one
    /// or as soon as the waiting task is cancelled.
    @discardableResult
    public func wait(upTo limit: Duration) async -> Bool {
        let timer = Mutex<Task<Void, Never>?>(nil)
        let fired = await withTaskCancellationHandler {
            await withCheckedContinuation { (continuation: CheckedContinuation<Bool, Never>) in
                enum Start { case fired, cancelled, waiting(generation: Int) }
                let start = state.withLock { state -> Start in
                    if state.pending {
                        state.pending = false
                        return .fired
                    }
                    // Checked under the lock the cancellation handler takes too: one of the two sees the other.
                    if Task.isCancelled { return .cancelled }
                    state.generation += 1
                    state.waiter = continuation
                    return .waiting(generation: state.generation)
                }
                switch start {
                case .fired: continuation.resume(returning: true)
                case .cancelled: continuation.resume(returning: false)
                case .waiting(let generation):
                    timer.withLock {
                        $0 = Task {
                            try? await Task.sleep(for: limit)
                            self.release(generation: generation)
                        }
                    }
                }
            }
        } onCancel: {
            // One task waits at a time: a waiter present now is this one.
            self.release(generation: nil)
        }
        timer.withLock { $0?.cancel() }
        return fired
    }

    /// Wakes the waiter with false (of `generation`, when given, if it still waits): its time ran out, or it was
    /// cancelled.
    private func release(generation: Int?) {
        let waiter = state.withLock { state -> CheckedContinuation<Bool, Never>? in
            guard generation == nil || state.generation == generation, let waiter = state.waiter else { return nil }
            state.waiter = nil
            return waiter
        }
        waiter?.resume(returning: false)
    }
}
