import DocketClient
import DocketCore
import DocketPostgres
import DocketServices
import DocketTestSupport
import DocketWorker
import Foundation
import Logging
import ServiceLifecycle
import Synchronization
import Testing

/// The worker runtime against one real docketd: routing by kind, results and failures, graceful cancel and pause
/// within a heartbeat, resume from the checkpoint, and a shutdown that drains.
@Suite(.serialized)
struct WorkerTests {
    /// Quick heartbeats so a test sees a cancel or pause within a second.
    static let fast = WorkerOptions(concurrency: 8, leaseSeconds: 10, heartbeatInterval: .milliseconds(500),
                                    pollInterval: .seconds(2), shutdownDeadline: .seconds(10))

    /// Runs `workers` in a service group while `body` runs, then shuts them down gracefully.
    static func running<T: Sendable>(_ workers: [Worker], _ body: @Sendable () async throws -> T) async throws -> T {
        let group = ServiceGroup(services: workers, gracefulShutdownSignals: [], cancellationSignals: [],
                                 logger: Logger(label: "test.workers"))
        return try await withThrowingTaskGroup(of: Void.self) { tasks in
            tasks.addTask { try await group.run() }
            do {
                let value = try await body()
                await group.triggerGracefulShutdown()
                try await tasks.waitForAll()
                return value
            } catch {
                await group.triggerGracefulShutdown()
                try? await tasks.waitForAll()
                throw error
            }
        }
    }

    /// Waits until the job is in `status`.
    static func status(_ docket: Docket, _ id: UUID, becomes status: JobStatus, within limit: Duration = .seconds(20)) async throws -> Docket.Job {
        try await eventually(limit, every: .milliseconds(50)) { () async throws -> Docket.Job? in
            let job = try await docket.jobs.get(id)
            return job.status == status ? job : nil
        }
    }

    @Test func eachJobRunsOnceInAWorkerOfItsKind() async throws {
        try await withDocketd { server, endpoint in
            let token = try await Self.tenantKey(endpoint)
            let producer = try await Docket.connect(port: server.port, token: token)
            let seen = Mutex([UUID: [String]]())
            func handler(_ worker: String) -> JobHandler {
                { context in
                    seen.withLock { $0[context.id, default: []].append("\(worker):\(context.job.kind ?? "")") }
                    if context.job.kind == "reject" { throw JobFailure("BAD_INPUT", "args are wrong", output: ["why": "n"]) }
                    return JobResult(output: ["n": context.args["n"] ?? .null], summary: "ok")
                }
            }
            let first = try Worker(docket: try await Docket.connect(port: server.port, token: token),
                                   handlers: ["a": handler("w1"), "b": handler("w1")], options: Self.fast)
            let second = try Worker(docket: try await Docket.connect(port: server.port, token: token),
                                    handlers: ["c": handler("w2"), "reject": handler("w2")], options: Self.fast)
            let jobs = try await Self.running([first, second]) {
                var jobs: [Docket.Job] = []
                for batch in 0..<3 {
                    jobs += try await producer.jobs.createMany((0..<100).map { index in
                        .now("job-\(batch)-\(index)", kind: ["a", "b", "c"][index % 3], args: ["n": .number(Double(index))])
                    })
                }
                let rejected = try await producer.jobs.create(.now("bad", kind: "reject"))
                _ = try await eventually(.seconds(60), every: .milliseconds(100)) { () -> Bool? in
                    seen.withLock { $0.count } == 301 ? true : nil
                }
                let failed = try await Self.status(producer, rejected.id, becomes: .failed)
                #expect(failed.errorCode == "BAD_INPUT" && failed.errorMessage == "args are wrong" && failed.output?["why"] == "n")
                return jobs
            }
            let runs = seen.withLock { $0 }
            for job in jobs {
                let ranBy = runs[job.id] ?? []
                #expect(ranBy.count == 1, "\(job.name) ran once: \(ranBy)")
                let expected = job.kind == "c" ? "w2:c" : "w1:\(job.kind ?? "")"
                #expect(ranBy == [expected], "\(job.name) ran in a worker of its kind")
                let stored = try await producer.jobs.get(job.id)
                #expect(stored.status == .succeeded && stored.output?["n"] == job.args["n"] && stored.resultSummary == "ok")
            }
            #expect(first.statistics.completed + second.statistics.completed == 300)
            #expect(second.statistics.failed == 1 && first.statistics.running == 0 && second.statistics.running == 0)
            await producer.close()
        }
    }

    /// A handler that counts steps from its checkpoint, saving one every step, until stopped or at `steps`.
    static let stepper: JobHandler = { context in
        var step = context.checkpointStep ?? 0
        let started = step
        while step < 1_000 {
            do {
                try await Task.sleep(for: .milliseconds(20))
            } catch {
                try await context.checkpoint(step: step, state: ["step": .number(Double(step))])
                throw error
            }
            step += 1
            if step.isMultiple(of: 10) { try await context.checkpoint(step: step, state: ["step": .number(Double(step))]) }
            if let limit = context.args["steps"], case .number(let steps) = limit, step >= Int(steps) { break }
        }
        return JobResult(output: ["from": .number(Double(started)), "to": .number(Double(step))])
    }

    @Test func gracefulCancelAndPauseAreHonouredWithinAHeartbeatAndResumeContinues() async throws {
        try await withDocketd { server, endpoint in
            let token = try await Self.tenantKey(endpoint)
            let docket = try await Docket.connect(port: server.port, token: token)
            let worker = try Worker(docket: try await Docket.connect(port: server.port, token: token),
                                    handlers: ["step": Self.stepper], options: Self.fast)
            try await Self.running([worker]) {
                // Cancel: asked gracefully, the job is cancelled within one heartbeat (plus the report).
                let doomed = try await docket.jobs.create(.now("doomed", kind: "step"))
                _ = try await Self.status(docket, doomed.id, becomes: .running)
                try await Task.sleep(for: .milliseconds(300))  // models time: the handler is well into its steps
                let asked = ContinuousClock.now
                _ = try await docket.jobs.cancel(doomed.id, reason: "no longer needed")
                _ = try await Self.status(docket, doomed.id, becomes: .cancelled, within: .seconds(5))
                let took = ContinuousClock.now - asked
                #expect(took < Self.fast.heartbeatInterval + .seconds(1), "cancelled \(took) after the request")

                // Pause: the handler saves its checkpoint, the job is paused, and resume continues from that step.
                let long = try await docket.jobs.create(.now("long", kind: "step", args: ["steps": 60]))
                _ = try await eventually(.seconds(10), every: .milliseconds(50)) { () async throws -> Bool? in
                    (try await docket.jobs.get(long.id).checkpointStep ?? 0) >= 10 ? true : nil
                }
                let pauseAsked = ContinuousClock.now
                _ = try await docket.jobs.pause(long.id)
                let paused = try await Self.status(docket, long.id, becomes: .paused, within: .seconds(5))
                let pauseTook = ContinuousClock.now - pauseAsked
                #expect(pauseTook < Self.fast.heartbeatInterval + .seconds(1), "paused \(pauseTook) after the request")
                let savedStep = try #require(paused.checkpointStep)
                #expect(savedStep >= 10 && savedStep < 60)
                _ = try await docket.jobs.resume(long.id)
                let done = try await Self.status(docket, long.id, becomes: .succeeded)
                #expect(done.output?["from"] == .number(Double(savedStep)), "resumed from the saved step \(savedStep): \(done.output ?? .null)")
                #expect(done.output?["to"] == 60)
                #expect(worker.statistics.cancelled == 1 && worker.statistics.paused == 1)
            }
            await docket.close()
        }
    }

    @Test func gracefulShutdownLetsRunningHandlersFinishAndClaimsNothingMore() async throws {
        try await withDocketd { server, endpoint in
            let token = try await Self.tenantKey(endpoint)
            let docket = try await Docket.connect(port: server.port, token: token)
            let worker = try Worker(docket: try await Docket.connect(port: server.port, token: token),
                                    handlers: ["step": Self.stepper], options: Self.fast)
            let group = ServiceGroup(services: [worker], gracefulShutdownSignals: [], cancellationSignals: [],
                                     logger: Logger(label: "test.workers"))
            let run = Task { try await group.run() }
            let inFlight = try await docket.jobs.create(.now("in-flight", kind: "step", args: ["steps": 50]))
            _ = try await Self.status(docket, inFlight.id, becomes: .running)
            await group.triggerGracefulShutdown()
            try await Task.sleep(for: .milliseconds(100))  // models time: shutdown has begun
            let late = try await docket.jobs.create(.now("late", kind: "step", args: ["steps": 1]))
            try await run.value
            #expect(try await docket.jobs.get(inFlight.id).status == .succeeded, "the running handler finished")
            try await Task.sleep(for: .seconds(1))  // models time: a claim would have come by now
            // The leader may start it (a due job no worker holds), but no worker took it.
            let untouched = try await docket.jobs.get(late.id)
            #expect(untouched.claimedBy == nil && untouched.status != .succeeded, "nothing claimed after shutdown began: \(untouched.status)")
            #expect(worker.statistics.claimed == 1)
            await docket.close()
        }
    }

    /// A key of tenant `acme` that may create and execute jobs.
    static func tenantKey(_ endpoint: DatabaseEndpoint) async throws -> String {
        try await withDatabase(endpoint) { database in
            try await APIKeyService(database: database).create(
                for: Principal(id: "app", type: .service, tenantId: "acme", scopes: [.jobAdmin])).token
        }
    }

    @Test func optionsThatCannotWorkAreRefused() throws {
        #expect(throws: DocketError.self) { try WorkerOptions(concurrency: 0).validate() }
        #expect(throws: DocketError.self) { try WorkerOptions(leaseSeconds: 10, heartbeatInterval: .seconds(6)).validate() }
        #expect(throws: DocketError.self) { try WorkerOptions(pollInterval: .zero).validate() }
    }
}
