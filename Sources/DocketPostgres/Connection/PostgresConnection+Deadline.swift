import DocketCore
import PostgresNIO
import Synchronization

extension PostgresConnection {
    /// Runs `body` (queries on this connection) with a deadline; past it, closes the connection (the only way to abort
    /// an in-flight PostgresNIO query) and returns nil.
    ///
    /// A query on a connection that is already closed never completes (PLATFORM-NOTES), so this refuses a closed
    /// connection up front and does not wait for the query once the deadline has passed: the race is run in two
    /// unstructured tasks, the first to finish answers, and a query left hanging on a closed connection is abandoned.
    public func withDeadline<T: Sendable>(
        _ limit: Duration, _ body: @escaping @Sendable () async throws -> T
    ) async throws -> T? {
        guard !isClosed else { throw DocketError(.unavailable, "the database connection is closed") }
        let answered = OnceFlag()
        return try await withCheckedThrowingContinuation { (continuation: CheckedContinuation<T?, any Error>) in
            Task {
                do {
                    let value = try await body()
                    if answered.claim() { continuation.resume(returning: value) }
                } catch {
                    if answered.claim() { continuation.resume(throwing: error) }
                }
            }
            Task {
                try? await Task.sleep(for: limit)
                if answered.claim() {
                    try? await self.close()
                    continuation.resume(returning: nil)
                }
            }
        }
    }
}

/// True for the first caller of `claim()` only.
public final class OnceFlag: Sendable {
    private let taken = Mutex(false)

    public init() {}

    public func claim() -> Bool {
        taken.withLock { taken in
            defer { taken = true }
            return !taken
        }
    }
}
