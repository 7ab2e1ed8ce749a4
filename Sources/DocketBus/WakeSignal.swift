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

    /// Returns true at the next `fire()` (at once if one came since the last wait), false after `limit` without one.
    @discardableResult
    public func wait(upTo limit: Duration) async -> Bool {
        let timer = Mutex<Task<Void, Never>?>(nil)
        let fired = await withCheckedContinuation { (continuation: CheckedContinuation<Bool, Never>) in
            let generation = state.withLock { state -> Int? in
                if state.pending {
                    state.pending = false
                    return nil
                }
                state.generation += 1
                state.waiter = continuation
                return state.generation
            }
            guard let generation else {
                continuation.resume(returning: true)
                return
            }
            timer.withLock {
                $0 = Task {
                    try? await Task.sleep(for: limit)
                    let waiter = self.state.withLock { state -> CheckedContinuation<Bool, Never>? in
                        guard state.generation == generation, let waiter = state.waiter else { return nil }
                        state.waiter = nil
                        return waiter
                    }
                    waiter?.resume(returning: false)
                }
            }
        }
        timer.withLock { $0?.cancel() }
        return fired
    }
}
