/// The topics of domain events (SPEC 2.7).
public enum Topic: String, Sendable, Hashable, CaseIterable, Codable {
    case jobCreated = "job.created", jobUpdated = "job.updated", jobDeleted = "job.deleted"
    case jobStatusChanged = "job.status_changed", jobScheduled = "job.scheduled", jobStarted = "job.started"
    case jobSucceeded = "job.succeeded", jobFailed = "job.failed", jobCancelled = "job.cancelled"
    case jobCancelRequested = "job.cancel_requested", jobPaused = "job.paused", jobResumed = "job.resumed"
    case queueUpdated = "queue.updated", queuePaused = "queue.paused", queueResumed = "queue.resumed"
    case jobRetried = "job.retried", jobTimedOut = "job.timed_out", jobCheckpointed = "job.checkpointed"
    case jobAgentAssigned = "job.agent_assigned", jobTaskLinked = "job.task_linked"
    case jobTaskUnlinked = "job.task_unlinked", jobTasksCompleted = "job.tasks_completed"
    case jobCallbackFailed = "job.callback_failed"

    case taskCreated = "task.created", taskUpdated = "task.updated", taskDeleted = "task.deleted"
    case taskStatusChanged = "task.status_changed", taskStarted = "task.started", taskCompleted = "task.completed"
    case taskCancelled = "task.cancelled", taskReopened = "task.reopened", taskAssigned = "task.assigned"
    case taskSubtaskCreated = "task.subtask_created", taskDependencyAdded = "task.dependency_added"
    case taskDependencyRemoved = "task.dependency_removed", taskBlocked = "task.blocked"
    case taskUnblocked = "task.unblocked", taskPriorityChanged = "task.priority_changed"
    case taskContextUpdated = "task.context_updated", taskTimedOut = "task.timed_out"

    case clusterLeaderElected = "cluster.leader_elected", clusterInstanceJoined = "cluster.instance_joined"
    case clusterInstanceLeft = "cluster.instance_left"

    /// The topic announcing arrival in `status`, when there is one.
    public static func arrival(_ status: JobStatus) -> Topic? {
        switch status {
        case .draft: nil
        case .scheduled: .jobScheduled
        case .running: .jobStarted
        case .paused: .jobPaused
        case .succeeded: .jobSucceeded
        case .failed: .jobFailed
        case .cancelled: .jobCancelled
        }
    }
}
