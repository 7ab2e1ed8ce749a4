/// The status of a job (SPEC 2.2).
public enum JobStatus: String, Sendable, Hashable, CaseIterable, Codable {
    case draft
    case scheduled
    case running
    case paused
    case succeeded
    case failed
    case cancelled

    /// Whether the job has ended (for now: `job.retry` may still revive it).
    public var isTerminal: Bool { self == .succeeded || self == .failed || self == .cancelled }

    /// The job status machine of SPEC 2.2, with the `+` extensions (paused, re-arm).
    public static let machine = StatusMachine<JobStatus>(entity: "job", rows: [
        .init(.draft, .scheduled),
        .init(.draft, .running),
        .init(.draft, .cancelled),
        .init(.scheduled, .running),
        .init(.scheduled, .cancelled),
        .init(.running, .succeeded),
        .init(.running, .failed),
        .init(.running, .cancelled),
        .init(.running, .paused, onlyVia: ["job.pause"]),
        .init(.running, .scheduled, onlyVia: [JobStatus.rearmOperation]),
        .init(.paused, .running, onlyVia: ["job.resume"]),
        .init(.paused, .cancelled),
        .init(.failed, .running, onlyVia: ["job.retry", JobStatus.retrySweepOperation]),
        .init(.failed, .cancelled),
        .init(.succeeded, .running, onlyVia: ["job.retry"]),
        .init(.cancelled, .running, onlyVia: ["job.retry"]),
    ])

    /// The operation name the recurrence sweep uses when it re-arms a recurring job.
    public static let rearmOperation = "sweep.rearm"
    /// The operation name the retry sweep uses for automatic retries.
    public static let retrySweepOperation = "sweep.retry"
}
