import DocketCore
import PostgresNIO
import Synchronization

/// A call in progress that the pool's deadline ticker can expire.
protocol ExpirableCall: Sendable {
    /// Answers `UNAVAILABLE` if a deadline has passed by `now`.
    func expire(at now: ContinuousClock.Instant)
    /// Its connection closed under it: answer `UNAVAILABLE` now rather than wait for a query that may never end.
    func connectionClosed()
}

/// One call on the pool: its answer (given once), what it is doing, and its deadlines (`DatabaseLimits`).
///
/// The work runs in a task of its own, so that the caller can be answered the moment a deadline passes, the
/// connection closes or the caller is cancelled, even while the work is stuck in a query that will never complete
/// (a query issued on a closed PostgresNIO connection does not). A call past its request deadline closes its
/// connection, which aborts the query and rolls its transaction back on the server.
final class DatabaseCall<T: Sendable>: ExpirableCall {
    private enum Phase {
        case created
        case waiting
        case holding(PostgresConnection)
        case done
    }

    private struct State {
        var phase = Phase.created
        var continuation: CheckedContinuation<T, any Error>?
        var work: Task<Void, Never>?
        var cancelled = false
        var countedWaiting = false
        var countedHolding = false
    }

    let pool: DatabasePool
    let body: @Sendable (PostgresConnection) async throws -> T
    let acquireBy: ContinuousClock.Instant
    let finishBy: ContinuousClock.Instant
    private let state = Mutex(State())
    private let key: Int

    init(pool: DatabasePool, body: @escaping @Sendable (PostgresConnection) async throws -> T) {
        self.pool = pool
        self.body = body
        let now = ContinuousClock.now
        acquireBy = now + pool.configuration.limits.acquireTimeout
        finishBy = now + pool.configuration.limits.requestTimeout
        key = pool.calls.nextKey()
    }

    func start(_ continuation: CheckedContinuation<T, any Error>) {
        let cancelled = state.withLock { state -> Bool in
            if state.cancelled { return true }
            state.continuation = continuation
            state.phase = .waiting
            state.countedWaiting = true
            return false
        }
        if cancelled {
            continuation.resume(throwing: DocketError(.unavailable, "request cancelled"))
            return
        }
        pool.usage.startWaiting()
        pool.calls.add(key, self)
        let work = Task {
            do {
                let value = try await self.pool.client.withConnection { connection in
                    try self.attach(connection)
                    defer { self.release() }
                    return try await self.body(connection)
                }
                self.finish(.success(value))
            } catch {
                self.finish(.failure(error))
            }
        }
        let abandoned = state.withLock { state -> Bool in
            state.work = work
            if case .done = state.phase { return true }
            return false
        }
        if abandoned { work.cancel() }
    }

    /// The lease arrived: hold the connection, unless the call was answered meanwhile.
    private func attach(_ connection: PostgresConnection) throws {
        pool.health.connected()
        let attached = state.withLock { state -> Bool in
            guard case .waiting = state.phase else { return false }
            state.phase = .holding(connection)
            state.countedWaiting = false
            state.countedHolding = true
            return true
        }
        guard attached else { throw CancellationError() }
        pool.usage.stopWaiting()
        pool.usage.startHolding()
        guard !connection.isClosed else { throw DocketError(.unavailable, "the database connection closed") }
        pool.calls.watch(connection, for: key)
    }

    /// The body is done with the connection.
    private func release() {
        let connection = state.withLock { state -> PostgresConnection? in
            guard case .holding(let connection) = state.phase else { return nil }
            return connection
        }
        if let connection { pool.calls.unwatch(connection) }
        uncountHolding()
    }

    private func finish(_ result: Result<T, any Error>) {
        let (continuation, neverAttached) = state.withLock { state -> (CheckedContinuation<T, any Error>?, Bool) in
            var neverAttached = false
            if case .waiting = state.phase { neverAttached = true }
            defer {
                state.continuation = nil
                state.phase = .done
            }
            return (state.continuation, neverAttached)
        }
        uncountWaiting()
        uncountHolding()
        pool.calls.remove(key)
        guard let continuation else { return }
        switch result {
        case .success(let value):
            continuation.resume(returning: value)
        case .failure(let error):
            if neverAttached, !(error is DocketError), !(error is CancellationError) { pool.health.connectionFailed() }
            continuation.resume(throwing: Database.classify(error))
        }
    }

    func expire(at now: ContinuousClock.Instant) {
        let expired = state.withLock { state -> (CheckedContinuation<T, any Error>?, PostgresConnection?, Task<Void, Never>?)? in
            switch state.phase {
            case .waiting where now >= acquireBy:
                defer { state.continuation = nil; state.phase = .done }
                return (state.continuation, nil, state.work)
            case .holding(let connection) where now >= finishBy:
                // Even when the caller was already answered (cancelled), the connection must not stay stuck.
                defer { state.continuation = nil; state.phase = .done }
                return (state.continuation, connection, state.work)
            default:
                return nil
            }
        }
        guard let (continuation, connection, work) = expired else { return }
        pool.calls.remove(key)
        uncountWaiting()
        uncountHolding()
        let limits = pool.configuration.limits
        if let connection {
            pool.calls.unwatch(connection)
            _ = connection.close() as EventLoopFuture<Void>
            continuation?.resume(throwing: DocketError(.unavailable,
                "the database did not answer within \(limits.requestTimeout.inSeconds) s (request-timeout); retry later"))
        } else {
            work?.cancel()
            pool.health.connectionFailed()
            continuation?.resume(throwing: DocketError(.unavailable,
                "no database connection within \(limits.acquireTimeout.inSeconds) s (acquire-timeout); retry later"))
        }
    }

    func connectionClosed() {
        let closed = state.withLock { state -> CheckedContinuation<T, any Error>?? in
            guard case .holding = state.phase else { return nil }
            defer { state.continuation = nil; state.phase = .done }
            return .some(state.continuation)
        }
        guard let continuation = closed else { return }
        pool.calls.remove(key)
        uncountHolding()
        continuation?.resume(throwing: DocketError(.unavailable, "the database connection closed during the request; retry later"))
    }

    /// The caller went away: answer at once; a lease wait ends, a transaction will not commit.
    func cancel() {
        let (continuation, work) = state.withLock { state -> (CheckedContinuation<T, any Error>?, Task<Void, Never>?) in
            state.cancelled = true
            guard let continuation = state.continuation else { return (nil, nil) }
            state.continuation = nil
            if case .waiting = state.phase { state.phase = .done }
            return (continuation, state.work)
        }
        work?.cancel()
        guard let continuation else { return }
        uncountWaiting()
        continuation.resume(throwing: DocketError(.unavailable, "request cancelled"))
    }

    private func uncountWaiting() {
        let counted = state.withLock { state -> Bool in
            defer { state.countedWaiting = false }
            return state.countedWaiting
        }
        if counted { pool.usage.stopWaiting() }
    }

    private func uncountHolding() {
        let counted = state.withLock { state -> Bool in
            defer { state.countedHolding = false }
            return state.countedHolding
        }
        if counted { pool.usage.stopHolding() }
    }
}

/// The calls in progress on a pool, for its deadline ticker, and which call holds which connection.
final class CallRegistry: Sendable {
    private struct State {
        var counter = 0
        var calls: [Int: any ExpirableCall] = [:]
        /// Connections whose close is watched, with the call holding each now.
        var connections: [ObjectIdentifier: Int?] = [:]
    }

    private let state = Mutex(State())

    func nextKey() -> Int { state.withLock { $0.counter += 1; return $0.counter } }
    func add(_ key: Int, _ call: any ExpirableCall) { state.withLock { $0.calls[key] = call } }
    func remove(_ key: Int) { _ = state.withLock { $0.calls.removeValue(forKey: key) } }
    var count: Int { state.withLock { $0.calls.count } }

    /// Notes that `key` holds `connection`; the first time a connection is seen, its close is watched.
    func watch(_ connection: PostgresConnection, for key: Int) {
        let id = ObjectIdentifier(connection)
        let first = state.withLock { state -> Bool in
            let known = state.connections[id] != nil
            state.connections[id] = .some(key)
            return !known
        }
        guard first else { return }
        connection.closeFuture.whenComplete { _ in
            let holder = self.state.withLock { state -> (any ExpirableCall)? in
                guard let entry = state.connections.removeValue(forKey: id), let key = entry else { return nil }
                return state.calls[key]
            }
            holder?.connectionClosed()
        }
    }

    func unwatch(_ connection: PostgresConnection) {
        let id = ObjectIdentifier(connection)
        state.withLock { state in
            if state.connections[id] != nil { state.connections[id] = .some(nil) }
        }
    }

    /// Expires every call whose deadline has passed.
    func expireOverdue(at now: ContinuousClock.Instant) {
        let calls = state.withLock { Array($0.calls.values) }
        for call in calls { call.expire(at: now) }
    }
}
