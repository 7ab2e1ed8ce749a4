import DocketCore
import DocketPostgres
import Foundation

/// `cluster.status`: the instances, the leader and its term, read from the tables every instance shares.
public struct ClusterService: Sendable {
    let database: Database
    let leadershipName: String
    /// What this instance believes about itself, shown as `this_instance`.
    let localRole: @Sendable () -> ClusterStatus.LocalRole?

    public init(database: Database, leadershipName: String = "default",
                localRole: @escaping @Sendable () -> ClusterStatus.LocalRole? = { nil }) {
        self.database = database
        self.leadershipName = leadershipName
        self.localRole = localRole
    }

    public func status(by actor: Principal) async throws -> ClusterStatus {
        try Authorizer.check(actor, .clusterStatus)
        let name = leadershipName
        let local = localRole()
        return try await database.read { connection in
            let logger = database.logger
            return ClusterStatus(instances: try await InstanceQueries(connection, logger: logger).instances(),
                                 leader: try await LeadershipQueries(connection, logger: logger).leadership(name: name),
                                 thisInstance: local, sweeps: try await SweepRunQueries(connection, logger: logger).all())
        }
    }
}
