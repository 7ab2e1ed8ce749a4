import Foundation

/// The filters of `job.list` (SPEC 2.2).
public struct JobFilter: Sendable, Hashable {
    public var statuses: [JobStatus] = []
    public var assignedAgent: String?
    public var planId: String?
    public var metadata: [String: JSONValue]?
    public var createdAfter: Date?
    public var createdBefore: Date?

    public init() {}

    public init(_ args: Arguments) throws(DocketError) {
        switch args.fields["status"] {
        case nil, .null?: break
        case .string(let name)?:
            statuses = [try Self.status(name)]
        case .array(let names)?:
            for name in names {
                guard case .string(let text) = name else { throw .validation(field: "status", "must be a list of statuses") }
                statuses.append(try Self.status(text))
            }
        default: throw .validation(field: "status", "must be a status or a list of statuses")
        }
        assignedAgent = try args.optionalString("assigned_agent", maxLength: 500)
        planId = try args.optionalString("plan_id", maxLength: 500)
        metadata = try args.optionalObject("metadata")
        createdAfter = try args.optionalTime("created_after")
        createdBefore = try args.optionalTime("created_before")
    }

    private static func status(_ name: String) throws(DocketError) -> JobStatus {
        guard let status = JobStatus(rawValue: name) else {
            throw .validation(field: "status", "unknown status \"\(name)\"; known: "
                + JobStatus.allCases.map(\.rawValue).joined(separator: ", "))
        }
        return status
    }
}
