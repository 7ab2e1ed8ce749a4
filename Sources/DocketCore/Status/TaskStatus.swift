/// The status of a task (SPEC 2.5).
public enum TaskStatus: String, Sendable, Hashable, CaseIterable, Codable {
    case pending
    case blocked
    case inProgress = "in_progress"
    case completed
    case cancelled

    /// Whether the task has ended (`task.reopen` may still bring it back).
    public var isTerminal: Bool { self == .completed || self == .cancelled }

    /// The operation name for blocked → pending: the last start-gating prerequisite was met or removed.
    public static let unblockOperation = "task.unblock"

    /// The task status machine of SPEC 2.5.
    public static let machine = StatusMachine<TaskStatus>(entity: "task", rows: [
        .init(.pending, .inProgress),
        .init(.pending, .blocked),
        .init(.pending, .cancelled),
        .init(.blocked, .pending, onlyVia: [TaskStatus.unblockOperation]),
        .init(.blocked, .cancelled),
        .init(.inProgress, .completed),
        .init(.inProgress, .cancelled),
        .init(.inProgress, .pending),
        .init(.completed, .pending, onlyVia: ["task.reopen"]),
        .init(.cancelled, .pending, onlyVia: ["task.reopen"]),
    ])
}
