import DocketCore
import Logging
import PostgresNIO
import Synchronization

/// The pool and the transaction discipline every service uses.
///
/// Every call runs under `DatabaseLimits`: it waits at most `acquireTimeout` for a pooled connection and takes at most
/// `requestTimeout` in all; past either it answers `UNAVAILABLE` at once, and a call that holds a connection closes
/// it (aborting its query). A cancelled caller (its client went away) stops waiting at once, and its transaction does
/// not commit. A transaction that fails with a serialization failure or deadlock is run again (up to `maxAttempts`),
/// as Oban's error classification does; a lost or refused connection becomes `UNAVAILABLE`; a `DocketError` thrown by
/// the body rolls back and reaches the caller as it was thrown.
public struct Database: Sendable {
    public let pool: DatabasePool
    public let logger: Logger
    public var maxAttempts = 3
    public var limits: DatabaseLimits { pool.configuration.limits }
    /// Calls holding or waiting for a pooled connection right now (the pool gauges of /metrics).
    public var usage: PoolUsage { pool.usage }
    /// Told after every committed transaction that appended events: the bus wakes its readers (SPEC 4.4).
    public let eventCommits = CommitSignal()

    /// Set by `EventQueries.append` inside a `transaction`, so its commit is announced on `eventCommits`.
    @TaskLocal public static var eventMark: EventMark?

    public init(pool: DatabasePool, logger: Logger) {
        self.pool = pool
        self.logger = logger
    }

    /// Runs `body` in one transaction on a pooled connection; with a leader's `term`, its fence runs first.
    @discardableResult
    public func transaction<T: Sendable>(
        fencedBy term: LeaderTerm? = nil, _ body: @escaping @Sendable (PostgresConnection) async throws -> T
    ) async throws -> T {
        let fence = term?.fence
        let logger = self.logger
        return try await write { connection in
            try await connection.inTransaction(logger: logger) { connection in
                try await fence?(connection)
                return try await body(connection)
            }
        }
    }

    /// Runs `body` — one statement, PostgreSQL's own transaction — on a pooled connection: no BEGIN and no COMMIT,
    /// so a write takes one round trip. Retried like a transaction, and a statement that appended events announces
    /// them the same way. Only for writes no leader's fence guards (API requests).
    @discardableResult
    public func statement<T: Sendable>(_ body: @escaping @Sendable (PostgresConnection) async throws -> T) async throws -> T {
        try await write(body)
    }

    /// A write on a pooled connection: run again after a serialization failure or deadlock (up to `maxAttempts`), and
    /// announced on `eventCommits` when it appended events.
    private func write<T: Sendable>(_ attempt: @escaping @Sendable (PostgresConnection) async throws -> T) async throws -> T {
        let mark = EventMark()
        let maxAttempts = self.maxAttempts
        let result = try await call { connection in
            var attempts = 1
            while true {
                do {
                    return try await Database.$eventMark.withValue(mark) { try await attempt(connection) }
                } catch let error where Self.isRetryable(error) && attempts < maxAttempts {
                    attempts += 1
                }
            }
        }
        if mark.isSet { eventCommits.fire() }
        return result
    }

    /// Runs `body` on a pooled connection without a transaction (reads).
    public func read<T: Sendable>(_ body: @escaping @Sendable (PostgresConnection) async throws -> T) async throws -> T {
        try await call(body)
    }

    /// Runs `body` on a pooled connection under the limits, answering as soon as it is done, refused or out of time.
    func call<T: Sendable>(_ body: @escaping @Sendable (PostgresConnection) async throws -> T) async throws -> T {
        let call = DatabaseCall<T>(pool: pool, body: body)
        return try await withTaskCancellationHandler {
            try await withCheckedThrowingContinuation { continuation in
                call.start(continuation)
            }
        } onCancel: {
            call.cancel()
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
                    return DocketError(.unavailable, "database unavailable: \(DatabaseEndpoint.reason(error))",
                                       details: ["sql_state": .string(state)])
                }
                // 57014: the statement ran past statement_timeout (or was cancelled by an operator).
                if state == "57014" {
                    return DocketError(.unavailable, "the database did not finish the statement in time; retry later",
                                       details: ["sql_state": .string(state)])
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
