import DocketClient
import DocketCore
import DocketPostgres
import Foundation
import Synchronization

/// Clients creating jobs in a loop across instances, recording every answer: when it was asked, when it was
/// answered, and what came back. A request left unanswered for `patience` is recorded as such (and its worker moves on
/// with a new connection), so a stuck request shows up in the outcomes instead of hanging the test.
public final class CreateLoad: Sendable {
    public struct Outcome: Sendable {
        public let instance: Int
        public let asked: ContinuousClock.Instant
        public let answered: ContinuousClock.Instant
        /// The job's id when the create was answered `ok`.
        public let jobId: String?
        /// The error code otherwise; nil with no `jobId` means no answer within `patience`.
        public let code: DocketError.Code?

        public var waited: Duration { answered - asked }
        public var unanswered: Bool { jobId == nil && code == nil }
    }

    private let outcomes = Mutex<[Outcome]>([])
    private let running = Mutex<[Task<Void, Never>]>([])
    private let stopping = Atomic(false)
    let patience: Duration

    /// Starts `clients` workers, spread over `servers` round-robin, creating jobs in `tenant`.
    public init(_ servers: [Docketd], clients: Int = 4, tenant: String = "load", patience: Duration = .seconds(30)) {
        self.patience = patience
        var tasks: [Task<Void, Never>] = []
        for worker in 0..<clients {
            let index = worker % servers.count
            let server = servers[index]
            tasks.append(Task.detached { [self] in await self.work(server, index: index, worker: worker, tenant: tenant) })
        }
        running.withLock { $0 = tasks }
    }

    private func work(_ server: Docketd, index: Int, worker: Int, tenant: String) async {
        var client: DocketClient?
        var sequence = 0
        let clock = ContinuousClock()
        while !stopping.load(ordering: .relaxed) {
            if client == nil {
                // Connecting authenticates, which reads the database: a refusal is an answer too.
                let asked = clock.now
                do {
                    client = try await server.client()
                } catch {
                    let code = (error as? DocketError)?.code ?? .unavailable
                    outcomes.withLock { $0.append(Outcome(instance: index, asked: asked, answered: clock.now, jobId: nil, code: code)) }
                    try? await Task.sleep(for: .milliseconds(100))
                    continue
                }
            }
            guard let connection = client else { continue }
            sequence += 1
            let name = "load-\(worker)-\(sequence)"
            let asked = clock.now
            let answer: Result<JSONValue, DocketError>?
            do {
                answer = try await Deadline.race(patience) {
                    do {
                        return .success(try await connection.call("job.create", ["name": .string(name), "tenant_id": .string(tenant)]))
                    } catch let error as DocketError {
                        return .failure(error)
                    }
                }
            } catch {
                answer = .failure(DocketError(.unavailable, "\(error)"))
            }
            let outcome: Outcome
            switch answer {
            case .success(let job)?:
                outcome = Outcome(instance: index, asked: asked, answered: clock.now, jobId: job["id"]?.stringValue, code: nil)
            case .failure(let error)?:
                outcome = Outcome(instance: index, asked: asked, answered: clock.now, jobId: nil, code: error.code)
                if error.message.contains("connection to docketd") {
                    await connection.close()
                    client = nil
                }
            case nil:
                outcome = Outcome(instance: index, asked: asked, answered: clock.now, jobId: nil, code: nil)
                await connection.close()
                client = nil
            }
            outcomes.withLock { $0.append(outcome) }
            if outcome.jobId == nil { try? await Task.sleep(for: .milliseconds(20)) }
        }
        await client?.close()
    }

    /// Everything answered so far.
    public var soFar: [Outcome] { outcomes.withLock { $0 } }

    /// Stops the workers and returns every outcome.
    public func stop() async -> [Outcome] {
        stopping.store(true, ordering: .relaxed)
        for task in running.withLock({ $0 }) { await task.value }
        return outcomes.withLock { $0 }
    }
}
