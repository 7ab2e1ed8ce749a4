import DocketCore
import DocketProtocol
import DocketServices
import Foundation

/// Carries out one authenticated request: reads its arguments, calls the service, shapes the answer (SPEC 3.3).
public struct Dispatcher: Sendable {
    let jobs: JobService
    let tasks: TaskService
    let cluster: ClusterService

    public init(jobs: JobService, tasks: TaskService, cluster: ClusterService) {
        self.jobs = jobs
        self.tasks = tasks
        self.cluster = cluster
    }

    /// Whether `op` names an operation this server serves (session operations aside).
    public static func knows(_ op: String) -> Bool { ServiceOperation(rawValue: op) != nil }

    public func handle(_ request: WireRequest, actor: Principal) async throws -> JSONValue {
        guard let operation = ServiceOperation(rawValue: request.op) else {
            throw DocketError(.unknownOp, "unknown op \"\(request.op)\"", details: ["op": .string(request.op)])
        }
        let args = request.args
        _ = try args.tenant  // every op takes an optional tenant_id, and it must be a string
        if request.op.hasPrefix("job.") || request.op.hasPrefix("budget.") {
            return try await handleJob(operation, args, actor)
        }
        if request.op.hasPrefix("task.") { return try await handleTask(operation, args, actor) }
        if operation == .clusterStatus { return try await cluster.status(by: actor) }
        throw DocketError(.unknownOp, "op \"\(request.op)\" is not served here yet", details: ["op": .string(request.op)])
    }
}

extension Page where Item == Job {
    var json: JSONValue { pageJSON(items.map(\.json), nextCursor, previousCursor) }
}

extension Page where Item == WorkTask {
    var json: JSONValue { pageJSON(items.map(\.json), nextCursor, previousCursor) }
}

func pageJSON(_ items: [JSONValue], _ next: Cursor?, _ previous: Cursor?) -> JSONValue {
    .object(["items": .array(items), "next_cursor": next.map { .string($0.text) } ?? .null,
             "prev_cursor": previous.map { .string($0.text) } ?? .null])
}

extension Arguments {
    /// An optional `expected_version`.
    var expectedVersion: Int64? {
        get throws(DocketError) { try optionalInt("expected_version", range: 1...Int(Int32.max)).map(Int64.init) }
    }

    var tenant: String? {
        get throws(DocketError) { try optionalString("tenant_id", maxLength: 200) }
    }
}
