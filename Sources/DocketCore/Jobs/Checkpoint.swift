import Foundation

/// Resumable state a worker saves (`job.checkpoint`).
public struct Checkpoint: Sendable, Hashable {
    public var stepIndex: Int
    public var stepName: String?
    public var state: JSONValue?
    public var executionContext: [String: JSONValue]?

    public init(stepIndex: Int, stepName: String? = nil, state: JSONValue? = nil, executionContext: [String: JSONValue]? = nil) {
        self.stepIndex = stepIndex
        self.stepName = stepName
        self.state = state
        self.executionContext = executionContext
    }

    /// The stored form (`checkpoint_data`), stamped with when it was saved.
    public func json(savedAt: Date) -> JSONValue {
        .object(["step_index": .number(Double(stepIndex)), "step_name": stepName.map(JSONValue.string) ?? .null, "state": state ?? .null,
                 "execution_context": executionContext.map(JSONValue.object) ?? .null, "saved_at": .string(Timestamp.format(savedAt))])
    }
}
