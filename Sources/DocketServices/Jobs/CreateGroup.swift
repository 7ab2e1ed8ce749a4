import DocketCore
import DocketPostgres
import Foundation
import Synchronization

/// Group commit of `job.create`: creates that arrive while others are being written share one statement — one
/// multi-row insert of the jobs and one of their events, one implicit transaction, one durable commit.
///
/// There is no waiting window: a create finds a writer free and is written at once, alone; while every writer is busy,
/// the creates that arrive queue up and the next free writer takes them all (up to `maxBatch`). So a quiet service
/// answers as fast as before, and a busy one commits many jobs per fsync. Each create is answered only once its
/// statement committed, so a crash loses nothing that was answered `ok`. A batch refused by the database for what one
/// of its jobs holds is written again job by job, so one bad create never fails the others; an unavailable database
/// fails the batch at once (each create would only wait out the same outage).
final class CreateGroup: Sendable {
    private struct Pending: Sendable {
        let job: Job
        let events: [EventDraft]
        let answer: CheckedContinuation<Void, any Error>
    }

    private struct State: Sendable {
        var pending: [Pending] = []
        var writers = 0
        var batches = 0
        var written = 0
    }

    let database: Database
    /// Statements in flight at most (each a writer draining the queue).
    let maxWriters: Int
    /// Jobs in one statement at most.
    let maxBatch: Int
    private let state = Mutex(State())

    init(database: Database, maxWriters: Int = 4, maxBatch: Int = 200) {
        self.database = database
        self.maxWriters = maxWriters
        self.maxBatch = maxBatch
    }

    /// How many statements have written how many jobs so far.
    var figures: (batches: Int, jobs: Int) { state.withLock { ($0.batches, $0.written) } }

    /// Writes the job and its events, with whatever other creates are waiting; returns once committed.
    func insert(_ job: Job, events: [EventDraft]) async throws {
        try await withCheckedThrowingContinuation { (answer: CheckedContinuation<Void, any Error>) in
            let lead = state.withLock { state -> Bool in
                state.pending.append(Pending(job: job, events: events, answer: answer))
                guard state.writers < maxWriters else { return false }
                state.writers += 1
                return true
            }
            // The writer is not the request's own task: a create whose client went away must not cancel the others'.
            if lead { Task { await self.drain() } }
        }
    }

    /// Writes batches until nothing waits.
    private func drain() async {
        while true {
            let batch = state.withLock { state -> [Pending] in
                let batch = Array(state.pending.prefix(maxBatch))
                state.pending.removeFirst(batch.count)
                if batch.isEmpty { state.writers -= 1 }
                return batch
            }
            guard !batch.isEmpty else { return }
            await write(batch)
        }
    }

    private func write(_ batch: [Pending]) async {
        do {
            let logger = database.logger
            try await database.statement { connection in
                try await JobQueries(connection, logger: logger).insertBatch(batch.map(\.job), events: batch.flatMap(\.events))
            }
            state.withLock { state in
                state.batches += 1
                state.written += batch.count
            }
            for pending in batch { pending.answer.resume() }
        } catch {
            let refusal = Database.classify(error)
            guard batch.count > 1, refusal.code != .unavailable else {
                for pending in batch { pending.answer.resume(throwing: refusal) }
                return
            }
            // Something in the batch was refused: each goes again alone, side by side, and only the bad one fails.
            await withTaskGroup(of: Void.self) { group in
                for pending in batch { group.addTask { await self.write([pending]) } }
            }
        }
    }
}
