/// An operation of the service API: its wire name and who may call it (SPEC 2.1, 3.3).
///
/// The permission model's view of an operation. The protocol's operation table (DocketServer) binds each one to its
/// typed arguments and handler; the services check it with `Authorizer`.
public struct ServiceOperation: Sendable, Hashable, CustomStringConvertible {
    /// Who may call it.
    public enum Access: Sendable, Hashable {
        /// Anyone, before `auth` too (`hello`, `ping`, `auth`).
        case anyone
        /// Any authenticated actor; what it may see is checked inside (`subscribe`: per topic).
        case authenticated
        /// An actor holding the scope (or one implying it).
        case scope(Scope)
    }

    public let name: String
    public let access: Access
    /// A task's owner may do this to that task with `task:read` alone.
    public let isOwnerOperation: Bool

    init(_ name: String, _ access: Access, ownerMay: Bool = false) {
        self.name = name
        self.access = access
        self.isOwnerOperation = ownerMay
    }

    init(_ name: String, _ scope: Scope, ownerMay: Bool = false) { self.init(name, .scope(scope), ownerMay: ownerMay) }

    public var description: String { name }

    /// The scope it needs, if any.
    public var requiredScope: Scope? {
        if case .scope(let scope) = access { return scope }
        return nil
    }
}

extension ServiceOperation {
    public static let hello = ServiceOperation("hello", .anyone)
    public static let ping = ServiceOperation("ping", .anyone)
    public static let auth = ServiceOperation("auth", .anyone)
    public static let subscribe = ServiceOperation("subscribe", .authenticated)
    public static let unsubscribe = ServiceOperation("unsubscribe", .authenticated)
    public static let eventsList = ServiceOperation("events.list", .authenticated)

    public static let jobCreate = ServiceOperation("job.create", .jobWrite)
    public static let jobCreateMany = ServiceOperation("job.create_many", .jobWrite)
    public static let queueList = ServiceOperation("queue.list", .jobRead)
    public static let queueGet = ServiceOperation("queue.get", .jobRead)
    public static let queueUpdate = ServiceOperation("queue.update", .jobAdmin)
    public static let queuePause = ServiceOperation("queue.pause", .jobAdmin)
    public static let queueResume = ServiceOperation("queue.resume", .jobAdmin)
    public static let jobGet = ServiceOperation("job.get", .jobRead)
    public static let jobUpdate = ServiceOperation("job.update", .jobWrite)
    public static let jobDelete = ServiceOperation("job.delete", .jobWrite)
    public static let jobList = ServiceOperation("job.list", .jobRead)
    public static let jobSchedule = ServiceOperation("job.schedule", .jobWrite)
    public static let jobStart = ServiceOperation("job.start", .jobExecute)
    public static let jobComplete = ServiceOperation("job.complete", .jobExecute)
    public static let jobFail = ServiceOperation("job.fail", .jobExecute)
    public static let jobCancel = ServiceOperation("job.cancel", .jobExecute)
    public static let jobRetry = ServiceOperation("job.retry", .jobExecute)
    public static let jobPause = ServiceOperation("job.pause", .jobExecute)
    public static let jobResume = ServiceOperation("job.resume", .jobExecute)
    public static let jobCheckpoint = ServiceOperation("job.checkpoint", .jobExecute)
    public static let jobAssignAgent = ServiceOperation("job.assign_agent", .jobWrite)
    public static let jobLinkTask = ServiceOperation("job.link_task", .jobWrite)
    public static let jobUnlinkTask = ServiceOperation("job.unlink_task", .jobWrite)
    public static let jobLinkedTasks = ServiceOperation("job.linked_tasks", .jobRead)
    public static let jobPending = ServiceOperation("job.pending", .jobRead)
    public static let jobRunning = ServiceOperation("job.running", .jobRead)
    public static let jobHistory = ServiceOperation("job.history", .jobRead)
    public static let jobClaim = ServiceOperation("job.claim", .jobExecute)
    public static let jobHeartbeat = ServiceOperation("job.heartbeat", .jobExecute)
    public static let jobRecordMetrics = ServiceOperation("job.record_metrics", .jobExecute)

    public static let taskCreate = ServiceOperation("task.create", .taskWrite)
    public static let taskGet = ServiceOperation("task.get", .taskRead)
    public static let taskUpdate = ServiceOperation("task.update", .taskWrite, ownerMay: true)
    public static let taskDelete = ServiceOperation("task.delete", .taskWrite)
    public static let taskList = ServiceOperation("task.list", .taskRead)
    public static let taskStart = ServiceOperation("task.start", .taskWrite, ownerMay: true)
    public static let taskComplete = ServiceOperation("task.complete", .taskWrite, ownerMay: true)
    public static let taskCancel = ServiceOperation("task.cancel", .taskWrite, ownerMay: true)
    public static let taskReopen = ServiceOperation("task.reopen", .taskWrite)
    public static let taskAssign = ServiceOperation("task.assign", .taskWrite)
    public static let taskCreateSubtask = ServiceOperation("task.create_subtask", .taskWrite)
    public static let taskSubtasks = ServiceOperation("task.subtasks", .taskRead)
    public static let taskAddDependency = ServiceOperation("task.add_dependency", .taskWrite)
    public static let taskRemoveDependency = ServiceOperation("task.remove_dependency", .taskWrite)
    public static let taskDependencies = ServiceOperation("task.dependencies", .taskRead)
    public static let taskDependenciesComplete = ServiceOperation("task.dependencies_complete", .taskRead)
    public static let taskUpdateContext = ServiceOperation("task.update_context", .taskWrite)
    public static let taskSetPriority = ServiceOperation("task.set_priority", .taskWrite)
    public static let taskByJob = ServiceOperation("task.by_job", .taskRead)
    public static let taskPending = ServiceOperation("task.pending", .taskRead)
    public static let taskInProgress = ServiceOperation("task.in_progress", .taskRead)

    public static let budgetSet = ServiceOperation("budget.set", .clusterAdmin)
    public static let budgetGet = ServiceOperation("budget.get", .clusterAdmin)
    public static let clusterStatus = ServiceOperation("cluster.status", .clusterRead)
}
