import DocketCore

/// The `DocketError` that `body` throws, or nil when it succeeds; any other error comes back as `INTERNAL` naming it,
/// so an expectation on the code fails with the error in its message.
public func refusal(_ body: () async throws -> Void) async -> DocketError? {
    do {
        try await body()
        return nil
    } catch let error as DocketError {
        return error
    } catch {
        return DocketError(.internal, "not a DocketError: \(String(reflecting: error))")
    }
}
