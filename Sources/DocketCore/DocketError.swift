/// The one error type of Docket: a stable protocol code, a message naming the values involved, optional details.
///
/// Codes are the wire codes of SPEC 3.3 and never change meaning. `details` carries machine-readable context (the
/// refused transition, the cycle's path, the failing field) as string-keyed JSON values.
public struct DocketError: Error, Sendable, Equatable, CustomStringConvertible {
    /// The stable error codes of the protocol.
    public enum Code: String, Sendable, CaseIterable, Codable {
        case unauthenticated = "UNAUTHENTICATED"
        case permissionDenied = "PERMISSION_DENIED"
        case jobNotFound = "JOB_NOT_FOUND"
        case taskNotFound = "TASK_NOT_FOUND"
        case notFound = "NOT_FOUND"
        case invalidTransition = "INVALID_TRANSITION"
        case dependencyError = "DEPENDENCY_ERROR"
        case circularDependency = "CIRCULAR_DEPENDENCY"
        case subtaskError = "SUBTASK_ERROR"
        case concurrencyError = "CONCURRENCY_ERROR"
        case scheduleError = "SCHEDULE_ERROR"
        case validationError = "VALIDATION_ERROR"
        case budgetExceeded = "BUDGET_EXCEEDED"
        case badRequest = "BAD_REQUEST"
        case unknownOp = "UNKNOWN_OP"
        case lineTooLong = "LINE_TOO_LONG"
        case rateLimited = "RATE_LIMITED"
        case unavailable = "UNAVAILABLE"
        case `internal` = "INTERNAL"
    }

    public var code: Code
    public var message: String
    public var details: [String: JSONValue]

    public init(_ code: Code, _ message: String, details: [String: JSONValue] = [:]) {
        self.code = code
        self.message = message
        self.details = details
    }

    public var description: String { "\(code.rawValue): \(message)" }
}

extension DocketError {
    /// A `VALIDATION_ERROR` naming the offending field.
    public static func validation(field: String, _ reason: String) -> DocketError {
        DocketError(.validationError, "\(field): \(reason)", details: ["field": .string(field)])
    }

    /// A `SCHEDULE_ERROR` naming the schedule field (or cron field) and why it is wrong.
    public static func schedule(field: String, _ reason: String) -> DocketError {
        DocketError(.scheduleError, "\(field): \(reason)", details: ["field": .string(field)])
    }
}
