import DocketCore
import Logging
import PostgresNIO
import Synchronization

/// The pool and the transaction discipline every service uses.
///
/// A transaction that fails with a serialization failure or deadlock is run again (up to `maxAttempts`), as Oban's
/// error classification does; a lost or refused connection becomes `UNAVAILABLE`; a `DocketError` thrown by the body
/// rolls back and reaches the caller as it was thrown.
public struct Database: Sendable {
    public let client: PostgresClient
    public let logger: Logger
    public var maxAttempts = 3
    /// Operations holding or waiting for a pooled connection right now (the pool-usage gauge of /metrics).
    public let usage = PoolUsage()
    /// Told after every committed transaction that appended events: the bus wakes its readers (SPEC 4.4).
    public let eventCommits = CommitSignal()

    /// A check run first in every transaction of the task a `SweepBinding` is bound to: the leader's sweeps bind one
    /// that verifies their term, so their writes commit only while the term is theirs.
    public typealias Fence = @Sendable (PostgresConnection) async throws -> Void

    /// What a leader's sweep binds for its pass (`Database.$sweep.withValue`): the fence and the epoch to stamp on the
    /// runs and events it writes. A class, so the task-local holds one reference: binding an optional closure value
    /// crashed optimized builds in `swift_task_localValuePush`.
    public final class SweepBinding: Sendable {
        public let fence: Fence
        public let epoch: Int64

        public init(fence: @escaping Fence, epoch: Int64) {
            self.fence = fence
            self.epoch = epoch
        }
    }

    @TaskLocal public static var sweep: SweepBinding?
    /// Set by `EventQueries.append` inside a `transaction`, so its commit is announced on `eventCommits`.
    @TaskLocal public static var eventMark: EventMark?

    /// The fence of the bound sweep, if any.
    public static var fence: Fence? { sweep?.fence }
    /// The leader epoch to stamp on the runs and events written by the bound sweep (nil for API writes).
    public static var leaderEpoch: Int64? { sweep?.epoch }

    public init(client: PostgresClient, logger: Logger) {
        self.client = client
        self.logger = logger
    }

    /// Runs `body` in one transaction on a pooled connection.
    @discardableResult
    public func transaction<T: Sendable>(_ body: @Sendable (PostgresConnection) async throws -> T) async throws -> T {
        usage.enter()
        defer { usage.leave() }
        var attempt = 1
        while true {
            do {
                let fence = Database.fence
                let mark = EventMark()
                let result = try await Database.$eventMark.withValue(mark) {
                    try await client.withConnection { connection in
                        try await connection.inTransaction(logger: logger) { connection in
                            try await fence?(connection)
                            return try await body(connection)
                        }
                    }
                }
                if mark.isSet { eventCommits.fire() }
                return result
            } catch let error as DocketError {
                throw error
            } catch {
                if Self.isRetryable(error), attempt < maxAttempts {
                    attempt += 1
                    continue
                }
                throw Self.classify(error)
            }
        }
    }

    /// Runs `body` on a pooled connection without a transaction (reads).
    public func read<T: Sendable>(_ body: @Sendable (PostgresConnection) async throws -> T) async throws -> T {
        usage.enter()
        defer { usage.leave() }
        do {
            return try await client.withConnection { try await body($0) }
        } catch let error as DocketError {
            throw error
        } catch {
            throw Self.classify(error)
        }
    }

    /// Serialization failures and deadlocks: safe to run the whole transaction again.
    static func isRetryable(_ error: any Error) -> Bool {
        guard let state = (error as? PSQLError)?.serverInfo?[.sqlState] else { return false }
        return state == "40001" || state == "40P01"
    }

    /// Maps a driver error to the protocol's codes: connection trouble is `UNAVAILABLE`, anything else `INTERNAL`.
    public static func classify(_ error: any Error) -> DocketError {
        if let error = error as? DocketError { return error }
        if let error = error as? PSQLError {
            if let state = error.serverInfo?[.sqlState] {
                // 08: connection exception; 57P01-03: admin shutdown, crash shutdown, cannot connect now; 53: resources.
                if state.hasPrefix("08") || state.hasPrefix("57P") || state.hasPrefix("53") {
                    return DocketError(.unavailable, "database unavailable: \(DatabaseEndpoint.reason(error))")
                }
                var details: [String: JSONValue] = ["sql_state": .string(state)]
                if let constraint = error.serverInfo?[.constraintName] { details["constraint"] = .string(constraint) }
                return DocketError(.internal, "database error \(state): \(DatabaseEndpoint.reason(error))", details: details)
            }
            return DocketError(.unavailable, "database unavailable: \(String(reflecting: error.code))")
        }
        if error is CancellationError { return DocketError(.unavailable, "request cancelled") }
        return DocketError(.unavailable, "database unavailable: \(error)")
    }

    /// The constraint a unique or foreign-key violation names, if `error` is one.
    public static func violatedConstraint(_ error: any Error, state: String) -> String? {
        let classified = classify(error)
        guard classified.details["sql_state"] == .string(state), case .string(let name)? = classified.details["constraint"] else {
            return nil
        }
        return name
    }
}

/// Whether the current transaction appended events.
public final class EventMark: Sendable {
    private let state = Atomic(false)

    public init() {}

    public func set() { state.store(true, ordering: .relaxed) }
    public var isSet: Bool { state.load(ordering: .relaxed) }
}

/// Handlers run after a commit that wrote events. They must return at once (they run on the committing request).
public final class CommitSignal: Sendable {
    private let handlers = Mutex<[@Sendable () -> Void]>([])

    public init() {}

    public func observe(_ handler: @escaping @Sendable () -> Void) { handlers.withLock { $0.append(handler) } }

    public func fire() { for handler in handlers.withLock({ $0 }) { handler() } }
}

/// How many operations hold or wait for a pooled connection, now and at most since start.
public final class PoolUsage: Sendable {
    private let state = Mutex((current: 0, peak: 0))

    public init() {}

    func enter() { state.withLock { $0.current += 1; $0.peak = max($0.peak, $0.current) } }
    func leave() { state.withLock { $0.current -= 1 } }

    public var current: Int { state.withLock { $0.current } }
    public var peak: Int { state.withLock { $0.peak } }
}
