import Foundation

/// What `job.heartbeat` tells a worker: whether it still runs the job, until when, and whether to stop.
public struct HeartbeatReply: Sendable, Hashable {
    public var status: JobStatus
    public var leaseExpiresAt: Date?
    public var cancelRequested: JSONValue?
    public var pauseRequested: Bool

    public init(status: JobStatus, leaseExpiresAt: Date?, cancelRequested: JSONValue?, pauseRequested: Bool) {
        self.status = status
        self.leaseExpiresAt = leaseExpiresAt
        self.cancelRequested = cancelRequested
        self.pauseRequested = pauseRequested
    }
}
