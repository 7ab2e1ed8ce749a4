import Foundation

/// How a worker says a job ended (`job.complete`).
public struct JobOutcome: Sendable, Hashable {
    public var success: Bool
    public var resultSummary: String?
    public var actualCost: Money?
    public var output: JSONValue?
    public var errorCode: String?
    public var errorMessage: String?

    public init(success: Bool = true, resultSummary: String? = nil, actualCost: Money? = nil, output: JSONValue? = nil,
                errorCode: String? = nil, errorMessage: String? = nil) {
        self.success = success
        self.resultSummary = resultSummary
        self.actualCost = actualCost
        self.output = output
        self.errorCode = errorCode
        self.errorMessage = errorMessage
    }
}
