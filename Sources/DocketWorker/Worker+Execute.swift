import DocketClient
import DocketCore
import Foundation

extension Worker {
    /// Runs one claimed job to its end: the handler beside its heartbeat loop, then the report of how it ended.
    func execute(_ context: JobContext) async -> WorkerMetrics.Outcome {
        guard let kind = context.job.kind, let handler = handlers[kind] else {
            // Claims name only registered kinds, so this is a job whose kind changed under it: hand it back failed.
            await report(context) { try await $0.fail(context.id, code: "UNKNOWN_KIND", message: "no handler for kind \(context.job.kind ?? "(none)")") }
            return .failed
        }
        enum Step: Sendable {
            case finished(Result<JobResult, any Error>)
            case heartbeatsEnded
        }
        let result = await withTaskGroup(of: Step.self) { group -> Result<JobResult, any Error> in
            group.addTask {
                do { return .finished(.success(try await handler(context))) } catch { return .finished(.failure(error)) }
            }
            group.addTask {
                await self.heartbeats(context)
                return .heartbeatsEnded
            }
            var result: Result<JobResult, any Error>?
            while let step = await group.next() {
                switch step {
                case .finished(let ended):
                    result = ended
                    group.cancelAll()
                case .heartbeatsEnded:
                    // The loop ends early only to stop the handler: cancel it and wait for it to return.
                    if result == nil { group.cancelAll() }
                }
            }
            return result ?? .failure(CancellationError())
        }
        return await finish(context, result)
    }

    /// Renews the lease every `heartbeatInterval` and reads the job's requests, until the handler ends (this task is
    /// cancelled) or a stop is due: a graceful cancel or pause, or the job no longer being this worker's.
    func heartbeats(_ context: JobContext) async {
        while !Task.isCancelled {
            if await context.stopSignal.wait(upTo: options.heartbeatInterval) { return }
            guard !Task.isCancelled else { return }
            do {
                let beat = try await docket.jobs.heartbeat(context.id, executionContext: context.takeExecutionContext(),
                                                           leaseSeconds: options.leaseSeconds)
                if beat.status != .running {
                    context.stop(.lost)
                    return
                }
                if beat.isCancelRequested, context.stop(.cancel) { return }
                if beat.pauseRequested, context.stop(.pause) { return }
            } catch let error as DocketError where [.jobNotFound, .invalidTransition, .permissionDenied].contains(error.code) {
                context.stop(.lost)
                return
            } catch {
                logger.warning("heartbeat failed", metadata: ["job": "\(context.id)", "error": "\(error)"])
            }
        }
    }

    /// Reports how the run ended: a result completes the job; a thrown error ends it as the stop reason says, or
    /// fails it with the error's code.
    func finish(_ context: JobContext, _ result: Result<JobResult, any Error>) async -> WorkerMetrics.Outcome {
        let stop = context.stopReason
        if stop == .lost { return .lost }
        switch result {
        case .success(let value):
            let reported = await report(context) {
                try await $0.complete(context.id, output: value.output, actualCost: value.actualCost, resultSummary: value.summary)
            }
            return reported ? .completed : .lost
        case .failure(let error):
            switch stop {
            case .cancel?:
                return await report(context) { try await $0.cancel(context.id, reason: "cancel requested", mode: .hard) } ? .cancelled : .lost
            case .pause?:
                return await report(context) { try await $0.pause(context.id, mode: .hard) } ? .paused : .lost
            case .shutdown?, .lost?, nil:
                let (code, message, output, cost) = Self.failure(error, shutdown: stop == .shutdown)
                let reported = await report(context) {
                    try await $0.fail(context.id, code: code, message: message, actualCost: cost, output: output)
                }
                return reported ? .failed : .lost
            }
        }
    }

    /// The code and message a thrown error fails its job with.
    static func failure(_ error: any Error, shutdown: Bool) -> (String, String, JSONValue?, Money?) {
        switch error {
        case let failure as JobFailure: (failure.code, failure.message, failure.output, failure.actualCost)
        case let docket as DocketError: (docket.code.rawValue, docket.message, nil, nil)
        case is CancellationError: ("WORKER_SHUTDOWN", "the worker stopped before the handler finished", nil, nil)
        default: (shutdown ? "WORKER_SHUTDOWN" : "HANDLER_ERROR", String(describing: error).prefix(2_000).description, nil, nil)
        }
    }

    /// Sends a run's report, again while the server is unavailable (for up to a lease); false when the job was no
    /// longer this worker's to report.
    @discardableResult
    func report(_ context: JobContext, _ send: (Docket.Jobs) async throws -> Docket.Job) async -> Bool {
        let deadline = ContinuousClock.now + .seconds(options.leaseSeconds)
        var pause = Duration.milliseconds(100)
        while true {
            do {
                _ = try await send(docket.jobs)
                return true
            } catch let error as DocketError where error.code == .unavailable && ContinuousClock.now + pause < deadline {
                try? await Task.sleep(for: pause)  // models time: the pause before reporting again
                pause = min(pause * 2, .seconds(2))
            } catch {
                logger.warning("report refused", metadata: ["job": "\(context.id)", "error": "\(error)"])
                return false
            }
        }
    }
}
