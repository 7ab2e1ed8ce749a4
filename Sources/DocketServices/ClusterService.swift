import DocketCore
import DocketPostgres
import Foundation

/// `cluster.status`: the instances, the leader and its term, read from the tables every instance shares.
public struct ClusterService: Sendable {
    let database: Database
    let leadershipName: String
    /// What this instance believes about itself (`{id, role, epoch}`), shown as `this_instance`.
    let localRole: @Sendable () -> JSONValue

    public init(database: Database, leadershipName: String = "default", localRole: @escaping @Sendable () -> JSONValue = { .null }) {
        self.database = database
        self.leadershipName = leadershipName
        self.localRole = localRole
    }

    public func status(by actor: Principal) async throws -> JSONValue {
        try Authorizer.check(actor, .clusterStatus)
        let name = leadershipName
        let local = localRole()
        return try await database.read { connection in
            let queries = ClusterQueries(connection, logger: database.logger)
            let leadership = try await queries.leadership(name: name)
            let leader: JSONValue = leadership.map { term in
                .object([
                    "instance_id": term.instanceId.map(JSONValue.string) ?? .null, "epoch": .number(Double(term.epoch)),
                    "since": term.electedAt.map { .string(Timestamp.format($0)) } ?? .null,
                    "heartbeat_at": term.heartbeatAt.map { .string(Timestamp.format($0)) } ?? .null,
                ])
            } ?? .null
            return .object(["instances": .array(try await queries.instances()), "leader": leader, "this_instance": local,
                            "sweeps": .object(try await queries.sweeps())])
        }
    }
}
