/// How a task depends on another (SPEC 2.5).
public enum DependencyType: String, Sendable, Hashable, CaseIterable {
    /// The task cannot start until the prerequisite is completed (aliases `blocks`, `requires`).
    case finishToStart = "finish_to_start"
    /// The task cannot start until the prerequisite has started.
    case startToStart = "start_to_start"
    /// The task cannot complete until the prerequisite is completed.
    case finishToFinish = "finish_to_finish"
    /// Ordering only: never gates anything.
    case follows

    /// Parses a type name or alias, or `VALIDATION_ERROR` on `dependency_type`.
    public init(name: String) throws(DocketError) {
        switch name {
        case "blocks", "requires": self = .finishToStart
        default:
            guard let type = DependencyType(rawValue: name) else {
                throw .validation(field: "dependency_type", "unknown type \"\(name)\"; known: "
                    + DependencyType.allCases.map(\.rawValue).joined(separator: ", ") + " (and blocks, requires)")
            }
            self = type
        }
    }

    /// Whether this dependency holds back a start (and so drives `blocked`).
    public var gatesStart: Bool { self == .finishToStart || self == .startToStart }

    /// Whether a prerequisite in `status` satisfies this dependency for starting (`forStart`) or completing.
    public func isMet(by status: TaskStatus, forStart: Bool) -> Bool {
        switch self {
        case .follows: true
        case .finishToStart: !forStart || status == .completed
        case .startToStart: !forStart || status == .inProgress || status == .completed
        case .finishToFinish: forStart || status == .completed
        }
    }
}
