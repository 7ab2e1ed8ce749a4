/// Every operation of the service API, by wire name, with the scope it needs (SPEC 2.1, 3.3).
public enum ServiceOperation: String, Sendable, Hashable, CaseIterable, Codable {
    case jobCreate = "job.create", jobGet = "job.get", jobUpdate = "job.update", jobDelete = "job.delete"
    case jobList = "job.list", jobSchedule = "job.schedule", jobStart = "job.start", jobComplete = "job.complete"
    case jobFail = "job.fail", jobCancel = "job.cancel", jobRetry = "job.retry", jobPause = "job.pause"
    case jobResume = "job.resume", jobCheckpoint = "job.checkpoint", jobAssignAgent = "job.assign_agent"
    case jobLinkTask = "job.link_task", jobUnlinkTask = "job.unlink_task", jobLinkedTasks = "job.linked_tasks"
    case jobPending = "job.pending", jobRunning = "job.running", jobHistory = "job.history", jobClaim = "job.claim"
    case jobHeartbeat = "job.heartbeat", jobRecordMetrics = "job.record_metrics"

    case taskCreate = "task.create", taskGet = "task.get", taskUpdate = "task.update", taskDelete = "task.delete"
    case taskList = "task.list", taskStart = "task.start", taskComplete = "task.complete"
    case taskCancel = "task.cancel", taskReopen = "task.reopen", taskAssign = "task.assign"
    case taskCreateSubtask = "task.create_subtask", taskSubtasks = "task.subtasks"
    case taskAddDependency = "task.add_dependency", taskRemoveDependency = "task.remove_dependency"
    case taskDependencies = "task.dependencies", taskDependenciesComplete = "task.dependencies_complete"
    case taskUpdateContext = "task.update_context", taskSetPriority = "task.set_priority", taskByJob = "task.by_job"
    case taskPending = "task.pending", taskInProgress = "task.in_progress"

    case budgetSet = "budget.set", budgetGet = "budget.get", clusterStatus = "cluster.status"

    /// The scope an actor needs for this operation.
    public var requiredScope: Scope {
        switch self {
        case .jobGet, .jobList, .jobLinkedTasks, .jobPending, .jobRunning, .jobHistory:
            .jobRead
        case .jobCreate, .jobUpdate, .jobDelete, .jobSchedule, .jobLinkTask, .jobUnlinkTask, .jobAssignAgent:
            .jobWrite
        case .jobStart, .jobComplete, .jobFail, .jobCancel, .jobRetry, .jobPause, .jobResume, .jobCheckpoint,
            .jobClaim, .jobHeartbeat, .jobRecordMetrics:
            .jobExecute
        case .taskGet, .taskList, .taskSubtasks, .taskDependencies, .taskDependenciesComplete, .taskByJob,
            .taskPending, .taskInProgress:
            .taskRead
        case .taskCreate, .taskUpdate, .taskDelete, .taskStart, .taskComplete, .taskCancel, .taskReopen,
            .taskAssign, .taskCreateSubtask, .taskAddDependency, .taskRemoveDependency, .taskUpdateContext,
            .taskSetPriority:
            .taskWrite
        case .budgetSet, .budgetGet:
            .clusterAdmin
        case .clusterStatus:
            .clusterRead
        }
    }

    /// Operations a task's owner may perform on that task with `task:read` alone (SPEC 2.1).
    public var isOwnerOperation: Bool {
        switch self {
        case .taskUpdate, .taskStart, .taskComplete, .taskCancel: true
        default: false
        }
    }
}
