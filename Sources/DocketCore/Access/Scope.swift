/// A permission scope granted to an actor (SPEC 2.1).
public enum Scope: String, Sendable, Hashable, CaseIterable, Codable {
    case jobRead = "job:read"
    case jobWrite = "job:write"
    case jobExecute = "job:execute"
    case jobAdmin = "job:admin"
    case taskRead = "task:read"
    case taskWrite = "task:write"
    case taskAdmin = "task:admin"
    case clusterRead = "cluster:read"
    case clusterAdmin = "cluster:admin"

    /// Whether holding this scope grants `other`: itself, or one it implies (the one table of implications).
    public func grants(_ other: Scope) -> Bool {
        if self == other { return true }
        return switch self {
        case .jobWrite, .jobExecute: other == .jobRead
        case .jobAdmin: other == .jobWrite || other == .jobExecute || other == .jobRead
        case .taskWrite: other == .taskRead
        case .taskAdmin: other == .taskWrite || other == .taskRead
        case .clusterAdmin: other == .clusterRead
        case .jobRead, .taskRead, .clusterRead: false
        }
    }

    /// The scopes this one grants, itself included.
    public var implied: Set<Scope> { Set(Scope.allCases.filter(grants)) }

    /// Every scope granted by `scopes`, implications applied.
    public static func effective(_ scopes: some Sequence<Scope>) -> Set<Scope> {
        scopes.reduce(into: Set<Scope>()) { $0.formUnion($1.implied) }
    }

    /// Parses a scope name, or throws `VALIDATION_ERROR` listing the known ones.
    public static func parse(_ name: String, field: String = "scopes") throws(DocketError) -> Scope {
        guard let scope = Scope(rawValue: name) else {
            throw .validation(field: field, "unknown scope \"\(name)\"; known: "
                + Scope.allCases.map(\.rawValue).joined(separator: ", "))
        }
        return scope
    }
}
