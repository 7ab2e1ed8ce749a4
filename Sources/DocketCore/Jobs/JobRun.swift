import Foundation

/// One occurrence or attempt of a job (SPEC 2.3).
public struct JobRun: Sendable, Hashable {
    public enum Status: String, Sendable, Hashable, CaseIterable {
        case running, succeeded, failed, cancelled, timedOut = "timed_out"
    }

    public var id: UUID
    public var jobId: UUID
    public var tenantId: String
    public var runNumber: Int
    public var attempt: Int
    public var scheduledFor: Date
    public var startedAt: Date
    public var finishedAt: Date?
    public var status: Status
    public var errorCode: String?
    public var errorMessage: String?
    public var actualCost: Money?
    public var resultSummary: String?
    public var instanceId: String?
    public var claimedBy: String?
    public var leaderEpoch: Int64?

    public init(id: UUID = .random(), jobId: UUID, tenantId: String, runNumber: Int, attempt: Int, scheduledFor: Date,
                startedAt: Date, status: Status = .running) {
        self.id = id
        self.jobId = jobId
        self.tenantId = tenantId
        self.runNumber = runNumber
        self.attempt = attempt
        self.scheduledFor = scheduledFor
        self.startedAt = startedAt
        self.status = status
    }

}
