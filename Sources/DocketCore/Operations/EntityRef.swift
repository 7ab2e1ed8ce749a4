import Foundation

/// A kind of entity an operation names by id.
public protocol EntityKind: Sendable {
    /// The argument that carries its id (`job_id`, `task_id`).
    static var idField: String { get }
}

public enum JobEntity: EntityKind {
    public static let idField = "job_id"
}

public enum TaskEntity: EntityKind {
    public static let idField = "task_id"
}

/// An operation on one entity: its id and the optional `tenant_id`.
public struct EntityRef<Kind: EntityKind>: OperationArguments, Hashable {
    public var id: UUID
    public var tenantId: String?

    public init(id: UUID, tenantId: String? = nil) {
        self.id = id
        self.tenantId = tenantId
    }

    public init(reading reader: inout ArgumentReader) throws(DocketError) {
        id = try reader.uuid(Kind.idField)
        tenantId = try reader.tenant()
    }
}

/// An operation on one entity guarded by an optional `expected_version`.
public struct VersionedRef<Kind: EntityKind>: OperationArguments, Hashable {
    public var ref: EntityRef<Kind>
    public var expectedVersion: Int64?

    public var id: UUID { ref.id }

    public init(reading reader: inout ArgumentReader) throws(DocketError) {
        ref = try EntityRef(reading: &reader)
        expectedVersion = try reader.expectedVersion()
    }
}

/// An update of an entity's settable fields, guarded by an optional `expected_version`.
public struct EntityUpdate<Kind: EntityKind, Fields: OperationArguments>: OperationArguments {
    public var ref: VersionedRef<Kind>
    public var fields: Fields

    public init(reading reader: inout ArgumentReader) throws(DocketError) {
        ref = try VersionedRef(reading: &reader)
        fields = try Fields(reading: &reader)
    }
}

/// `job.update`.
public typealias JobUpdate = EntityUpdate<JobEntity, JobInput>
/// `task.update`.
public typealias TaskUpdate = EntityUpdate<TaskEntity, TaskInput>

/// `job_id`: `job.get`, `job.delete`, `job.history`, `task.by_job`, …
public typealias JobRef = EntityRef<JobEntity>
/// `job_id`, `expected_version`: `job.start`, `job.retry`, `job.resume`.
public typealias JobVersioned = VersionedRef<JobEntity>
/// `task_id`: `task.get`, `task.subtasks`, …
public typealias TaskRef = EntityRef<TaskEntity>
/// `task_id`, `expected_version`: `task.start`, `task.reopen`.
public typealias TaskVersioned = VersionedRef<TaskEntity>
