import Foundation

/// The filters of `job.list` (SPEC 2.2).
public struct JobFilter: OperationArguments, Hashable {
    public var statuses: [JobStatus] = []
    public var assignedAgent: String?
    public var planId: String?
    public var metadata: [String: JSONValue]?
    public var createdAfter: Date?
    public var createdBefore: Date?
    public var queue: String?
    public var kind: String?

    public init() {}

    public init(reading args: inout ArgumentReader) throws(DocketError) {
        statuses = try args.values("status", JobStatus.self)
        assignedAgent = try args.optionalString("assigned_agent", maxLength: 500)
        planId = try args.optionalString("plan_id", maxLength: 500)
        metadata = try args.optionalObject("metadata")
        createdAfter = try args.optionalTime("created_after")
        createdBefore = try args.optionalTime("created_before")
        queue = try args.optionalQueue("queue")
        kind = try args.optionalKind("kind")
    }
}
