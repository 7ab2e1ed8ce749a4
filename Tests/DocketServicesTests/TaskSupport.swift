import DocketCore
import DocketPostgres
import DocketServices
import Foundation

enum TaskActors {
    static let writer = Principal(id: "writer-a", type: .user, tenantId: "a", scopes: [.taskWrite])
    static let owner = Principal(id: "owner-a", type: .user, tenantId: "a", scopes: [.taskRead])
    static let reader = Principal(id: "reader-a", type: .user, tenantId: "a", scopes: [.taskRead])
    static let otherTenant = Principal(id: "admin-b", type: .user, tenantId: "b", scopes: [.taskAdmin])
}

/// Runs `body` with task and job services on one fresh database.
func withTaskService<T: Sendable>(_ body: @Sendable (TaskService, JobService, Database) async throws -> T) async throws -> T {
    try await withTestDatabaseClientAndServices(body)
}

func withTestDatabaseClientAndServices<T: Sendable>(
    _ body: @Sendable (TaskService, JobService, Database) async throws -> T
) async throws -> T {
    try await withJobService { jobs, database in
        try await body(TaskService(database: database), jobs, database)
    }
}

extension TaskService {
    func make(_ title: String = "task", _ extra: [String: JSONValue] = [:], by actor: Principal = TaskActors.writer) async throws -> WorkTask {
        var fields = extra
        fields["title"] = .string(title)
        return try await create(Arguments(fields), by: actor)
    }

    // The wire's arguments, read as the operation table reads them (tests pass fields as a client would).
    func create(_ fields: Arguments, by actor: Principal) async throws -> WorkTask { try await create(try TaskCreate(fields), by: actor) }

    func createSubtask(parent: UUID, _ fields: Arguments, by actor: Principal) async throws -> WorkTask {
        try await createSubtask(parent: parent, try TaskCreate(fields), by: actor)
    }

    func update(_ id: UUID, _ fields: Arguments, by actor: Principal) async throws -> WorkTask {
        var wire = fields.fields
        wire["task_id"] = .string(id.uuidString)
        let input = try TaskUpdate(Arguments(wire))
        return try await update(id, input.fields, expectedVersion: input.ref.expectedVersion, by: actor)
    }

    func setPriority(_ id: UUID, _ priority: JSONValue, by actor: Principal) async throws -> WorkTask {
        try await setPriority(id, try Priority(json: priority).value, by: actor)
    }
}
