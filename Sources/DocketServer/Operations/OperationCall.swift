import DocketBus
import DocketCore
import DocketServices

/// The services an operation's handler calls.
public struct Services: Sendable {
    public let jobs: JobService
    public let tasks: TaskService
    public let cluster: ClusterService
    public let keys: APIKeyService

    public init(jobs: JobService, tasks: TaskService, cluster: ClusterService, keys: APIKeyService) {
        self.jobs = jobs
        self.tasks = tasks
        self.cluster = cluster
        self.keys = keys
    }
}

/// What a handler works with: the services, who calls, and the caller's connection.
struct OperationCall: Sendable {
    let services: Services
    let session: SessionState
    let context: ServerContext
    /// Nil only for operations anyone may call (`ProtocolOperation.needsActor` is false).
    let caller: Principal?

    /// The authenticated caller (the session has checked there is one).
    var actor: Principal {
        get throws(DocketError) {
            guard let caller else { throw DocketError(.unauthenticated, "authenticate first") }
            return caller
        }
    }

    var jobs: JobService { services.jobs }
    var tasks: TaskService { services.tasks }
}
