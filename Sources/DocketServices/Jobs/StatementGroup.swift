import DocketCore
import DocketPostgres
import Foundation
import Synchronization

/// Group commit: requests that arrive while others are being written share one statement — one implicit
/// transaction, one durable commit. Used for `job.create` (`JobQueries.insertBatch`) and for the conditioned writes
/// of complete, fail, heartbeat and checkpoint (`JobQueries.updateManyIfUnchanged`).
///
/// There is no waiting window: a request finds a writer free and is written at once, alone; while every writer is
/// busy, the requests that arrive queue up and the next free writer takes them all (up to `maxBatch`). So a quiet
/// service answers as fast as before, and a busy one commits many requests per fsync. Each request is answered only
/// once its statement committed, so a crash loses nothing that was answered `ok`. A batch the database refuses for
/// what one of its requests holds is written again request by request, so one bad request never fails the others;
/// an unavailable database fails the batch at once (each request would only wait out the same outage).
final class StatementGroup<Request: Sendable, Answer: Sendable>: Sendable {
    /// Writes a batch in one statement and returns each request's answer, in order.
    typealias Write = @Sendable (_ database: Database, _ batch: [Request]) async throws -> [Answer]

    private struct Pending: Sendable {
        let request: Request
        let answer: CheckedContinuation<Answer, any Error>
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
    /// Requests in one statement at most.
    let maxBatch: Int
    /// Requests with the same key never share a batch (a later one waits for the next).
    private let key: (@Sendable (Request) -> UUID)?
    private let writeBatch: Write
    private let state = Mutex(State())

    init(database: Database, maxWriters: Int = 4, maxBatch: Int = 200, distinctBy key: (@Sendable (Request) -> UUID)? = nil,
         write: @escaping Write) {
        self.database = database
        self.maxWriters = maxWriters
        self.maxBatch = maxBatch
        self.key = key
        self.writeBatch = write
    }

    /// How many statements have written how many requests so far.
    var figures: (batches: Int, requests: Int) { state.withLock { ($0.batches, $0.written) } }

    /// Writes the request with whatever others are waiting; returns its answer once committed.
    func submit(_ request: Request) async throws -> Answer {
        try await withCheckedThrowingContinuation { (answer: CheckedContinuation<Answer, any Error>) in
            let lead = state.withLock { state -> Bool in
                state.pending.append(Pending(request: request, answer: answer))
                guard state.writers < maxWriters else { return false }
                state.writers += 1
                return true
            }
            // The writer is not the request's own task: a request whose client went away must not cancel the others'.
            if lead { Task { await self.drain() } }
        }
    }

    /// Writes batches until nothing waits.
    private func drain() async {
        while true {
            let batch = state.withLock { state -> [Pending] in
                let batch = Self.take(from: &state.pending, max: maxBatch, key: key)
                if batch.isEmpty { state.writers -= 1 }
                return batch
            }
            guard !batch.isEmpty else { return }
            await write(batch)
        }
    }

    /// The next batch, oldest first, with at most one request per key.
    private static func take(from pending: inout [Pending], max: Int, key: (@Sendable (Request) -> UUID)?) -> [Pending] {
        guard let key else {
            let batch = Array(pending.prefix(max))
            pending.removeFirst(batch.count)
            return batch
        }
        var batch: [Pending] = [], left: [Pending] = [], keys: Set<UUID> = []
        for item in pending {
            if batch.count < max, keys.insert(key(item.request)).inserted { batch.append(item) } else { left.append(item) }
        }
        pending = left
        return batch
    }

    private func write(_ batch: [Pending]) async {
        do {
            let answers = try await writeBatch(database, batch.map(\.request))
            state.withLock { state in
                state.batches += 1
                state.written += batch.count
            }
            for (pending, answer) in zip(batch, answers) { pending.answer.resume(returning: answer) }
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

/// A create waiting for its group: the job and its events.
struct GroupedCreate: Sendable {
    let job: Job
    let events: [EventDraft]
}

extension StatementGroup where Request == GroupedCreate, Answer == Void {
    /// The group commit of `job.create`s without idempotency keys: one multi-row insert of the jobs and their events.
    static func creates(_ database: Database) -> StatementGroup {
        StatementGroup(database: database) { database, batch in
            let logger = database.logger
            try await database.statement { connection in
                try await JobQueries(connection, logger: logger).insertBatch(batch.map(\.job), events: batch.flatMap(\.events))
            }
            return batch.map { _ in () }
        }
    }

    func insert(_ job: Job, events: [EventDraft]) async throws {
        try await submit(GroupedCreate(job: job, events: events))
    }
}

extension StatementGroup where Request == ConditionedChange, Answer == Bool {
    /// The group commit of changes written without their row lock: each is written only if its row is still at the
    /// version it was read at, and answers whether it was.
    static func changes(_ database: Database) -> StatementGroup {
        StatementGroup(database: database, distinctBy: { $0.job.id }) { database, batch in
            let logger = database.logger
            let written = try await database.statement { connection in
                try await JobQueries(connection, logger: logger).updateManyIfUnchanged(batch)
            }
            return batch.map { written.contains($0.job.id) }
        }
    }
}
