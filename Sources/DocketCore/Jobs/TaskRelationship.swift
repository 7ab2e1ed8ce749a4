/// The role of a task for a job (SPEC 2.2).
public enum TaskRelationship: String, Sendable, Hashable, CaseIterable {
    case primary, supporting, prerequisite, step
}
