import DocketCore
import DocketPostgres
import DocketServices
import DocketTestSupport
import Foundation
import Testing

/// Actors of tenant "a" (and one of "b") with the scopes tests need.
enum Actors {
    static let admin = Principal(id: "admin-a", type: .user, tenantId: "a", scopes: [.jobAdmin])
    static let writer = Principal(id: "writer-a", type: .service, tenantId: "a", scopes: [.jobWrite])
    static let reader = Principal(id: "reader-a", type: .user, tenantId: "a", scopes: [.jobRead])
    static let executor = Principal(id: "worker-a", type: .agent, tenantId: "a", scopes: [.jobExecute])
    static let otherTenant = Principal(id: "admin-b", type: .user, tenantId: "b", scopes: [.jobAdmin, .clusterAdmin])
    static let system = Principal(id: "system", type: .system, tenantId: "ops", scopes: Set(Scope.allCases))
    static let budgetAdmin = Principal(id: "ops-a", type: .user, tenantId: "a", scopes: [.clusterAdmin])
}

/// Runs `body` with a job service on a fresh database.
func withJobService<T: Sendable>(
    configure: @Sendable (inout JobService.Configuration) -> Void = { _ in },
    _ body: @Sendable (JobService, Database) async throws -> T
) async throws -> T {
    try await withTestDatabaseClient { database in
        var configuration = JobService.Configuration()
        configure(&configuration)
        return try await body(JobService(database: database, configuration: configuration), database)
    }
}

extension JobService {
    /// Creates a job with a name and optional extra arguments.
    func make(_ name: String = "job", _ extra: [String: JSONValue] = [:], by actor: Principal = Actors.admin) async throws -> Job {
        var fields = extra
        fields["name"] = .string(name)
        return try await create(Arguments(fields), by: actor)
    }

    // The wire's arguments, read as the operation table reads them (tests pass fields as a client would).
    func create(_ fields: Arguments, by actor: Principal) async throws -> Job { try await create(try JobCreate(fields), by: actor) }

    func update(_ id: UUID, _ fields: Arguments, by actor: Principal) async throws -> Job {
        var wire = fields.fields
        wire["job_id"] = .string(id.uuidString)
        let input = try JobUpdate(Arguments(wire))
        return try await update(id, input.fields, expectedVersion: input.ref.expectedVersion, by: actor)
    }

    func schedule(_ id: UUID, schedule: JSONValue, expectedVersion: Int64? = nil, by actor: Principal) async throws -> Job {
        try await self.schedule(id, schedule: try Schedule(json: schedule), expectedVersion: expectedVersion, by: actor)
    }
}

/// The code of the `DocketError` that `body` throws, or nil when it succeeds.
func errorCode(_ body: () async throws -> Void) async -> DocketError.Code? {
    do {
        try await body()
        return nil
    } catch let error as DocketError {
        return error.code
    } catch {
        Issue.record("unexpected error \(String(reflecting: error))")
        return nil
    }
}

/// Topics of a job's events, oldest first.
func topics(of job: UUID, in database: Database) async throws -> [String] {
    try await database.read { connection in
        try await EventQueries(connection, logger: database.logger)
            .list(afterSeq: 0, entity: job.uuidString.lowercased()).map(\.topic)
    }
}

/// A schedule that was due a minute ago.
let dueNow: JSONValue = .object(["kind": .string("once"), "run_at": .string(Timestamp.format(Date().addingTimeInterval(-60)))])


/// `error` with `id` replaced by a placeholder in its message and details, to compare refusals about different ids.
func anonymized(_ error: DocketError, _ id: UUID) -> DocketError {
    let text = id.uuidString.lowercased()
    return DocketError(error.code, error.message.replacingOccurrences(of: text, with: "ID"),
                       details: error.details.mapValues { $0 == .string(text) ? .string("ID") : $0 })
}
