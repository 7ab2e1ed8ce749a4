import DocketCore
import DocketPostgres
@testable import DocketServices
import DocketTestSupport
import Foundation
import Testing

/// Concurrent creates share statements (`StatementGroup`); each still gets its own answer and events, and one bad create
/// fails alone. Concurrent completions and failures share statements too, each written only if its row is unchanged.
struct GroupCommitTests {
    @Test func concurrentCreatesShareStatementsAndEachHasItsEvents() async throws {
        try await withJobService { jobs, database in
            let ids = try await withThrowingTaskGroup(of: UUID.self) { group in
                for index in 0..<300 { group.addTask { try await jobs.make("grouped-\(index)").id } }
                return try await group.reduce(into: [UUID]()) { $0.append($1) }
            }
            #expect(Set(ids).count == 300)
            let figures = jobs.groupCommitFigures
            print("group commit: 300 concurrent creates in \(figures.statements) statements")
            #expect(figures.jobs == 300)
            #expect(figures.statements < 300, "some creates shared a statement")
            let (stored, created): (Int, Int) = try await database.read { connection in
                try await connection.query("""
                    SELECT (SELECT count(*)::int FROM docket.jobs),
                           (SELECT count(*)::int FROM docket.events WHERE topic = 'job.created')
                    """, logger: database.logger).collect()[0].decode((Int, Int).self)
            }
            #expect(stored == 300)
            #expect(created == 300, "every job has its job.created event")
            let one = try await jobs.get(try #require(ids.first), by: Actors.admin)
            #expect(try await topics(of: one.id, in: database) == ["job.created"])
        }
    }

    @Test func aCreateTheDatabaseRefusesFailsAloneInItsBatch() async throws {
        try await withJobService { jobs, database in
            let existing = try await jobs.make("first")
            let group = try #require(jobs.createGroup)
            // A draft reusing an existing id passes every Swift check and is refused by the primary key.
            var clash = Job(id: existing.id, tenantId: "a", name: "clash", createdBy: "admin-a", now: Date().storedPrecision)
            clash.queue = "default"
            let clashing = clash
            let outcomes = await withTaskGroup(of: (String, DocketError.Code?).self) { tasks in
                tasks.addTask {
                    do {
                        try await group.insert(clashing, events: JobService.createdEvents(clashing, by: Actors.admin))
                        return ("clash", nil)
                    } catch {
                        return ("clash", Database.classify(error).code)
                    }
                }
                for index in 0..<100 {
                    tasks.addTask {
                        do {
                            _ = try await jobs.make("good-\(index)")
                            return ("good", nil)
                        } catch {
                            return ("good", Database.classify(error).code)
                        }
                    }
                }
                return await tasks.reduce(into: [(String, DocketError.Code?)]()) { $0.append($1) }
            }
            #expect(outcomes.filter { $0.0 == "clash" }.map(\.1) == [.internal], "the clashing create is refused")
            #expect(outcomes.filter { $0.0 == "good" }.allSatisfy { $0.1 == nil }, "every other create succeeded")
            let stored: Int = try await database.read { connection in
                try await connection.query("SELECT count(*)::int FROM docket.jobs", logger: database.logger)
                    .collect()[0].decode(Int.self)
            }
            #expect(stored == 101)
            #expect(try await jobs.get(existing.id, by: Actors.admin).name == "first", "the existing job is untouched")
        }
    }

    /// Starts `count` jobs (each with its open run).
    private func running(_ count: Int, _ jobs: JobService) async throws -> [Job] {
        var started: [Job] = []
        for index in 0..<count { started.append(try await jobs.start(try await jobs.make("run-\(index)").id, by: Actors.admin)) }
        return started
    }

    @Test func concurrentCompletionsShareStatementsAndEachIsWrittenAsAloneOne() async throws {
        try await withJobService { jobs, database in
            let started = try await running(121, jobs)
            let lone = started[0], grouped = Array(started.dropFirst())
            // One completion alone first: the row, run and events every grouped one must match.
            let alone = try await jobs.complete(lone.id, JobOutcome(resultSummary: "done", actualCost: try Money("0.25", field: "c")),
                                                by: Actors.admin)
            let before = jobs.groupedChangeFigures
            let answers = try await withThrowingTaskGroup(of: Job.self) { group in
                for (index, job) in grouped.enumerated() {
                    group.addTask {
                        index.isMultiple(of: 3)
                            ? try await jobs.fail(job.id, errorCode: "BOOM", errorMessage: "no", by: Actors.admin)
                            : try await jobs.complete(job.id, JobOutcome(resultSummary: "done", actualCost: try Money("0.25", field: "c")),
                                                      by: Actors.admin)
                    }
                }
                return try await group.reduce(into: [UUID: Job]()) { $0[$1.id] = $1 }
            }
            let figures = jobs.groupedChangeFigures
            print("group commit: 120 concurrent completions in \(figures.statements - before.statements) statements")
            #expect(figures.changes - before.changes == 120)
            #expect(figures.statements - before.statements < 120, "some completions shared a statement")
            for (index, job) in grouped.enumerated() {
                let stored = try await jobs.get(job.id, by: Actors.admin)
                #expect(answers[job.id] == stored, "the answer is the row as stored")
                let runs = try await jobs.history(job.id, by: Actors.admin)
                #expect(runs.count == 1)
                if index.isMultiple(of: 3) {
                    #expect(stored.status == .failed && stored.errorCode == "BOOM")
                    #expect(runs.first?.status == .failed)
                    #expect(try await topics(of: job.id, in: database) == ["job.created", "job.status_changed", "job.started",
                                                                           "job.status_changed", "job.failed"])
                } else {
                    #expect(stored.status == .succeeded && stored.resultSummary == alone.resultSummary)
                    #expect(stored.actualCost == alone.actualCost && stored.version == alone.version)
                    #expect(runs.first?.status == .succeeded && runs.first?.finishedAt == stored.finishedAt)
                    #expect(try await topics(of: job.id, in: database) == (try await topics(of: lone.id, in: database)))
                }
            }
        }
    }

    @Test func twoCompletionsOfOneJobWriteItOnceAndTheSecondIsRefused() async throws {
        try await withJobService { jobs, database in
            let started = try await running(40, jobs)
            let outcomes = await withTaskGroup(of: (UUID, DocketError.Code?).self) { group in
                for job in started {
                    for _ in 0..<2 {
                        group.addTask {
                            (job.id, await errorCode { _ = try await jobs.complete(job.id, JobOutcome(), by: Actors.admin) })
                        }
                    }
                }
                return await group.reduce(into: [(UUID, DocketError.Code?)]()) { $0.append($1) }
            }
            for job in started {
                let codes = outcomes.filter { $0.0 == job.id }.map(\.1)
                #expect(codes.filter { $0 == nil }.count == 1, "exactly one completion of each job took")
                #expect(codes.contains(.invalidTransition), "the other was refused by the status table")
                let succeeded = try await topics(of: job.id, in: database).filter { $0 == "job.succeeded" }
                #expect(succeeded.count == 1)
                #expect(try await jobs.get(job.id, by: Actors.admin).version == job.version + 1)
            }
        }
    }
}
