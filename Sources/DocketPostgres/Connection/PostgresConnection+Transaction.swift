import Logging
import PostgresNIO

extension PostgresConnection {
    /// Runs `body` in a transaction: commits when it returns, rolls back when it throws and rethrows its own error.
    ///
    /// Unlike `withTransaction`, the caller sees the body's error as thrown (a `DocketError` stays one), not wrapped.
    public func inTransaction<Result: Sendable>(
        logger: Logger,
        _ body: (PostgresConnection) async throws -> Result
    ) async throws -> Result {
        try await query("BEGIN", logger: logger)
        let value: Result
        do {
            value = try await body(self)
        } catch {
            _ = try? await query("ROLLBACK", logger: logger)
            throw error
        }
        // A caller that went away (its client disconnected) gets no answer: its transaction does not commit.
        if Task.isCancelled {
            _ = try? await query("ROLLBACK", logger: logger)
            throw CancellationError()
        }
        try await query("COMMIT", logger: logger)
        return value
    }
}
