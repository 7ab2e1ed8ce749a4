import DocketCore

/// Polls `probe` until it returns a value, every `interval`; fails after `timeout`.
///
/// The one way tests wait for something another process does: on a condition, with a deadline, never a bare sleep.
public func eventually<T: Sendable>(
    _ timeout: Duration = .seconds(20), every interval: Duration = .milliseconds(50), _ probe: () async throws -> T?
) async throws -> T {
    let deadline = ContinuousClock.now + timeout
    while ContinuousClock.now < deadline {
        if let value = try await probe() { return value }
        try await Task.sleep(for: interval)
    }
    throw DocketError(.unavailable, "condition not met within \(timeout)")
}
