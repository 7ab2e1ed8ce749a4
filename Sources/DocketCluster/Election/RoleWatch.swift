import Synchronization

/// This instance's role in the cluster, and the moments it changes: the maintainer waits here to start or stop the
/// sweeps, instead of polling.
public final class RoleWatch: Sendable {
    /// Leading in `epoch`, or following.
    public enum Role: Sendable, Equatable {
        case follower
        case leader(epoch: Int64)

        public var epoch: Int64? {
            if case .leader(let epoch) = self { return epoch }
            return nil
        }
    }

    private struct State {
        var role = Role.follower
        var closed = false
        var waiters: [(id: Int, matches: @Sendable (Role) -> Bool, continuation: CheckedContinuation<Role?, Never>)] = []
        var counter = 0
    }

    private let state = Mutex(State())

    public init() {}

    public var current: Role { state.withLock { $0.role } }

    func set(_ role: Role) {
        let ready = state.withLock { state -> [(CheckedContinuation<Role?, Never>, Role)] in
            guard state.role != role else { return [] }
            state.role = role
            let (matching, rest) = (state.waiters.filter { $0.matches(role) }, state.waiters.filter { !$0.matches(role) })
            state.waiters = rest
            return matching.map { ($0.continuation, role) }
        }
        for (continuation, role) in ready { continuation.resume(returning: role) }
    }

    /// No more changes will come (the elector has stopped): every waiter gets nil.
    func close() {
        let waiters = state.withLock { state -> [CheckedContinuation<Role?, Never>] in
            state.closed = true
            defer { state.waiters = [] }
            return state.waiters.map(\.continuation)
        }
        for waiter in waiters { waiter.resume(returning: nil) }
    }

    /// The first role (the current one included) that `matches`; nil once closed or when the caller is cancelled.
    public func wait(until matches: @escaping @Sendable (Role) -> Bool) async -> Role? {
        let id = state.withLock { state -> Int in
            state.counter += 1
            return state.counter
        }
        return await withTaskCancellationHandler {
            await withCheckedContinuation { (continuation: CheckedContinuation<Role?, Never>) in
                let ready = state.withLock { state -> Role?? in
                    if state.closed || Task.isCancelled { return .some(nil) }
                    if matches(state.role) { return .some(state.role) }
                    state.waiters.append((id, matches, continuation))
                    return nil
                }
                if let ready { continuation.resume(returning: ready) }
            }
        } onCancel: {
            let waiter = state.withLock { state -> CheckedContinuation<Role?, Never>? in
                guard let index = state.waiters.firstIndex(where: { $0.id == id }) else { return nil }
                return state.waiters.remove(at: index).continuation
            }
            waiter?.resume(returning: nil)
        }
    }
}
