import DocketClient
import DocketCore
import Foundation
import Synchronization

/// What a handler returns: the job succeeded with this output.
public struct JobResult: Sendable {
    public var output: JSONValue?
    public var actualCost: Money?
    public var summary: String?

    public init(output: JSONValue? = nil, actualCost: Money? = nil, summary: String? = nil) {
        self.output = output
        self.actualCost = actualCost
        self.summary = summary
    }

    public static let done = JobResult()
}

/// A failure a handler throws to fail its job with this code (any other error fails it with `HANDLER_ERROR`, a
/// `DocketError` with its own code). The job's retry policy (and its `retry_on` codes) decides what follows.
public struct JobFailure: Error, Sendable {
    public var code: String
    public var message: String
    public var output: JSONValue?
    public var actualCost: Money?

    public init(_ code: String, _ message: String, output: JSONValue? = nil, actualCost: Money? = nil) {
        self.code = code
        self.message = message
        self.output = output
        self.actualCost = actualCost
    }
}

/// Why the runtime stopped a handler (it cancels the handler's task; the reason says what happens to the job).
public enum StopReason: Sendable, Hashable {
    /// A graceful `job.cancel`: the job is cancelled hard once the handler has returned.
    case cancel
    /// A graceful `job.pause`: the job is paused hard once the handler has returned; the last checkpoint is where a
    /// resumed run continues.
    case pause
    /// The worker is shutting down and the deadline passed: the job fails with `WORKER_SHUTDOWN`.
    case shutdown
    /// The job is no longer this worker's (cancelled or paused hard, timed out, lease taken): nothing is reported.
    case lost
}

/// A running job as its handler sees it: the job, its args, its saved checkpoint, and the ways to report progress.
public final class JobContext: Sendable {
    /// The job as it was claimed (`status` running, `attempt` this run's attempt).
    public let job: Docket.Job
    let docket: Docket
    private let state = Mutex(State())
    /// Fired when the runtime decides to stop the handler (shutdown deadline; the heartbeat loop stops by itself).
    let stopSignal = WakeSignal()

    private struct State {
        var executionContext: [String: JSONValue]?
        var stop: StopReason?
    }

    init(job: Docket.Job, docket: Docket) {
        self.job = job
        self.docket = docket
    }

    public var id: UUID { job.id }
    /// The handler's input, fixed at create.
    public var args: [String: JSONValue] { job.args }
    /// The state saved by the last `checkpoint` (of this run, or of an earlier one before a pause or retry).
    public var checkpoint: JSONValue? { job.checkpointState }
    /// The step of that checkpoint.
    public var checkpointStep: Int? { job.checkpointStep }

    /// Why the runtime is stopping this handler, once it is (its task is cancelled at the same moment).
    public var stopReason: StopReason? { state.withLock { $0.stop } }
    /// Whether a graceful pause is asked for: save a checkpoint and return (or throw) soon.
    public var isPauseRequested: Bool { stopReason == .pause }

    /// Saves progress now: `state` is what a resumed or retried run continues from.
    public func checkpoint(step: Int, name: String? = nil, state: JSONValue) async throws {
        _ = try await docket.jobs.checkpoint(job.id, step: step, stepName: name, state: state)
    }

    /// Sets the execution context the next heartbeat sends (merged into the job's).
    public func report(_ executionContext: [String: JSONValue]) {
        state.withLock { $0.executionContext = executionContext }
    }

    func takeExecutionContext() -> [String: JSONValue]? {
        state.withLock { state in
            defer { state.executionContext = nil }
            return state.executionContext
        }
    }

    /// Stops the handler for `reason` (when no other reason came first): its heartbeat loop ends and its task is
    /// cancelled.
    func requestStop(_ reason: StopReason) {
        if stop(reason) { stopSignal.fire() }
    }

    /// Records why the handler is being stopped; the first reason wins.
    @discardableResult
    func stop(_ reason: StopReason) -> Bool {
        state.withLock { state in
            guard state.stop == nil else { return false }
            state.stop = reason
            return true
        }
    }
}

/// The code a job run by a handler is registered under.
public typealias JobHandler = @Sendable (JobContext) async throws -> JobResult
