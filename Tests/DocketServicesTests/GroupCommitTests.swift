import DocketCore
import DocketPostgres
@testable import DocketServices
import DocketTestSupport
import Foundation
import Testing

/// Concurrent creates share statements (`CreateGroup`); each still gets its own answer and events, and one bad create
/// fails alone.
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
}
