import Foundation

/// What `cluster.status` reports: the instances, the leader and its term, this instance's own view, the sweeps.
public struct ClusterStatus: Sendable, Hashable {
    public struct Instance: Sendable, Hashable {
        public var id: String
        public var address: String?
        public var httpAddress: String?
        public var version: String
        public var hostname: String?
        public var pid: Int32?
        public var status: String
        public var startedAt: Date
        public var heartbeatAt: Date

        public init(id: String, address: String?, httpAddress: String?, version: String, hostname: String?, pid: Int32?,
                    status: String, startedAt: Date, heartbeatAt: Date) {
            self.id = id
            self.address = address
            self.httpAddress = httpAddress
            self.version = version
            self.hostname = hostname
            self.pid = pid
            self.status = status
            self.startedAt = startedAt
            self.heartbeatAt = heartbeatAt
        }
    }

    /// One row of `docket.leadership`.
    public struct Leadership: Sendable, Hashable {
        public var instanceId: String?
        public var epoch: Int64
        public var backendPid: Int32?
        public var electedAt: Date?
        public var heartbeatAt: Date?
        /// Seconds since the heartbeat, by the database's clock.
        public var heartbeatAge: Double?

        public init(instanceId: String?, epoch: Int64, backendPid: Int32?, electedAt: Date?, heartbeatAt: Date?, heartbeatAge: Double?) {
            self.instanceId = instanceId
            self.epoch = epoch
            self.backendPid = backendPid
            self.electedAt = electedAt
            self.heartbeatAt = heartbeatAt
            self.heartbeatAge = heartbeatAge
        }
    }

    /// A sweep's last pass (`docket.sweep_runs`).
    public struct SweepPass: Sendable, Hashable {
        public var instanceId: String
        public var epoch: Int64
        public var lastRunAt: Date
        public var changed: Int
        public var durationMilliseconds: Double
        public var totalChanged: Int64

        public init(instanceId: String, epoch: Int64, lastRunAt: Date, changed: Int, durationMilliseconds: Double, totalChanged: Int64) {
            self.instanceId = instanceId
            self.epoch = epoch
            self.lastRunAt = lastRunAt
            self.changed = changed
            self.durationMilliseconds = durationMilliseconds
            self.totalChanged = totalChanged
        }
    }

    /// What an instance believes about itself.
    public struct LocalRole: Sendable, Hashable {
        public var instanceId: String
        /// The epoch it leads in; nil while it follows.
        public var leaderEpoch: Int64?

        public init(instanceId: String, leaderEpoch: Int64?) {
            self.instanceId = instanceId
            self.leaderEpoch = leaderEpoch
        }
    }

    public var instances: [Instance]
    public var leader: Leadership?
    public var thisInstance: LocalRole?
    public var sweeps: [String: SweepPass]

    public init(instances: [Instance], leader: Leadership?, thisInstance: LocalRole?, sweeps: [String: SweepPass]) {
        self.instances = instances
        self.leader = leader
        self.thisInstance = thisInstance
        self.sweeps = sweeps
    }
}
