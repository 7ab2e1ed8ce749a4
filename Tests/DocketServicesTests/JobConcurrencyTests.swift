import DocketCore
import DocketPostgres
import DocketServices
import Foundation
import Testing

struct JobConcurrencyTests {
    @Test func twoUpdatesWithTheSameExpectedVersionOneWins() async throws {
        try await withJobService { jobs, _ in
            let job = try await jobs.make()
            let outcomes = try await withThrowingTaskGroup(of: DocketError.Code?.self) { group in
                for name in ["left", "right"] {
                    group.addTask {
                        await errorCode {
                            _ = try await jobs.update(job.id, Arguments(["name": .string(name), "expected_version": .number(1)]), by: Actors.writer)
                        }
                    }
                }
                return try await group.reduce(into: [DocketError.Code?]()) { $0.append($1) }
            }
            #expect(outcomes.filter { $0 == nil }.count == 1)
            #expect(outcomes.filter { $0 == .concurrencyError }.count == 1)
            #expect(try await jobs.get(job.id, by: Actors.reader).version == 2)
        }
    }

    @Test func concurrentWritersWithoutExpectedVersionLoseNothing() async throws {
        try await withJobService { jobs, _ in
            let job = try await jobs.make()
            try await withThrowingTaskGroup(of: Void.self) { group in
                for index in 0..<20 {
                    group.addTask {
                        _ = try await jobs.assignAgent(job.id, agent: "agent-\(index)", by: Actors.writer)
                    }
                }
                try await group.waitForAll()
            }
            let after = try await jobs.get(job.id, by: Actors.reader)
            #expect(after.delegationChain.count == 20, "every append survived")
            #expect(after.version == 21)
        }
    }

    @Test func eightClaimersOverAThousandDueJobsTakeEachOnce() async throws {
        try await withJobService { jobs, database in
            try await database.transaction { connection in
                try await connection.query("""
                    INSERT INTO docket.jobs (id, tenant_id, name, status, next_run_at, created_by)
                    SELECT gen_random_uuid(), 'a', 'due-' || n, 'scheduled', now() - interval '1 minute', 'seed'
                    FROM generate_series(1, 1000) AS n
                    """, logger: database.logger)
            }
            let claimed = try await withThrowingTaskGroup(of: [UUID].self) { group in
                for worker in 0..<8 {
                    group.addTask {
                        var mine: [UUID] = []
                        while true {
                            let batch = try await jobs.claim(agent: "worker-\(worker)", limit: 25, by: Actors.executor)
                            if batch.isEmpty { return mine }
                            mine += batch.map(\.id)
                        }
                    }
                }
                return try await group.reduce(into: [UUID]()) { $0 += $1 }
            }
            #expect(claimed.count == 1000)
            #expect(Set(claimed).count == 1000, "no job claimed twice")
            #expect(jobs.claimPaths.transactional.load(ordering: .relaxed) == 0, "no gate applies: every claim was one statement")
            let (running, runs) = try await database.read { connection in
                try await connection.query("""
                    SELECT (SELECT count(*)::int FROM docket.jobs WHERE status = 'running' AND claimed_by IS NOT NULL),
                           (SELECT count(*)::int FROM docket.job_runs)
                    """, logger: database.logger).collect().first!.decode((Int, Int).self)
            }
            #expect(running == 1000)
            #expect(runs == 1000)
        }
    }

    @Test func claimOrdersByPriorityThenDueTime() async throws {
        try await withJobService { jobs, _ in
            let low = try await jobs.make("low", ["priority": .number(10), "schedule": dueNow])
            let high = try await jobs.make("high", ["priority": .number(90), "schedule": dueNow])
            let future = try await jobs.make("future", ["priority": .number(100), "schedule": .object([
                "kind": .string("once"), "run_at": .string(Timestamp.format(Date().addingTimeInterval(3600)))])])
            let first = try await jobs.claim(limit: 1, leaseSeconds: 30, by: Actors.executor)
            #expect(first.map(\.id) == [high.id])
            #expect(first.first?.claimedBy == Actors.executor.id)
            #expect(first.first?.leaseExpiresAt != nil)
            let rest = try await jobs.claim(limit: 10, by: Actors.executor)
            #expect(rest.map(\.id) == [low.id], "the future job is not due")
            #expect(try await jobs.get(future.id, by: Actors.reader).status == .scheduled)
            #expect(await errorCode { _ = try await jobs.claim(limit: 0, by: Actors.executor) } == .validationError)
            #expect(await errorCode { _ = try await jobs.claim(leaseSeconds: 0, by: Actors.executor) } == .validationError)
        }
    }

    @Test func pagingBothWaysWhileInsertsRun() async throws {
        try await withJobService { jobs, database in
            try await database.transaction { connection in
                try await connection.query("""
                    INSERT INTO docket.jobs (id, tenant_id, name, created_by, created_at)
                    SELECT gen_random_uuid(), 'a', 'seed-' || n, 'seed', now() - interval '1 hour' + n * interval '1 millisecond'
                    FROM generate_series(1, 2500) AS n
                    """, logger: database.logger)
            }
            let seeded = Set(try await database.read { connection in
                try await connection.query("SELECT id FROM docket.jobs", logger: database.logger).collect().map { try $0.decode(UUID.self) }
            })
            for order in [PageRequest.Order.asc, .desc] {
                let seen = try await withThrowingTaskGroup(of: [UUID]?.self) { group in
                    group.addTask {
                        for index in 0..<50 { _ = try await jobs.make("concurrent-\(index)") }
                        return nil
                    }
                    group.addTask {
                        var ids: [UUID] = []
                        var cursor: Cursor?
                        repeat {
                            let page = try await jobs.list(JobFilter(), page: PageRequest(after: cursor, limit: 100, order: order), by: Actors.reader)
                            ids += page.items.map(\.id)
                            cursor = page.nextCursor
                        } while cursor != nil
                        return ids
                    }
                    var result: [UUID] = []
                    for try await ids in group { if let ids { result = ids } }
                    return result
                }
                #expect(seen.count == Set(seen).count, "\(order): no job twice")
                #expect(seeded.isSubset(of: Set(seen)), "\(order): every job present before paging began is seen")
            }
            // Paging back with `before` returns the previous page.
            let first = try await jobs.list(JobFilter(), page: PageRequest(limit: 100), by: Actors.reader)
            let second = try await jobs.list(JobFilter(), page: PageRequest(after: first.nextCursor, limit: 100), by: Actors.reader)
            let back = try await jobs.list(JobFilter(), page: PageRequest(before: second.previousCursor, limit: 100), by: Actors.reader)
            #expect(back.items.map(\.id) == first.items.map(\.id))
            #expect(await errorCode { _ = try await jobs.list(JobFilter(), page: PageRequest(after: Cursor(parts: ["x"]), limit: 10), by: Actors.reader) } == .validationError)
        }
    }

    @Test func listFilters() async throws {
        try await withJobService { jobs, _ in
            let tagged = try await jobs.make("tagged", ["metadata": .object(["team": .string("data"), "tier": .number(1)]),
                                                        "plan_id": .string("p1"), "assigned_agent": .string("bot")])
            _ = try await jobs.make("plain")
            let byMeta = try JobFilter(Arguments(["metadata": .object(["team": .string("data")])]))
            #expect(try await jobs.list(byMeta, page: PageRequest(), by: Actors.reader).items.map(\.id) == [tagged.id])
            // Every job's metadata contains `{}`, the jobs with none too (`jobs_metadata_idx` does not hold those).
            let byEmpty = try JobFilter(Arguments(["metadata": .object([:])]))
            #expect(Set(try await jobs.list(byEmpty, page: PageRequest(), by: Actors.reader).items.map(\.name)) == ["tagged", "plain"])
            let byPlan = try JobFilter(Arguments(["plan_id": .string("p1")]))
            #expect(try await jobs.list(byPlan, page: PageRequest(), by: Actors.reader).items.map(\.id) == [tagged.id])
            let byAgent = try JobFilter(Arguments(["assigned_agent": .string("bot")]))
            #expect(try await jobs.list(byAgent, page: PageRequest(), by: Actors.reader).items.map(\.id) == [tagged.id])
            let byStatus = try JobFilter(Arguments(["status": .array([.string("draft")])]))
            #expect(try await jobs.list(byStatus, page: PageRequest(), by: Actors.reader).items.count == 2)
            #expect(throws: DocketError.self) { try JobFilter(Arguments(["status": .string("sleeping")])) }
            #expect(throws: DocketError.self) { try PageRequest(Arguments(["limit": .number(1001)])) }
        }
    }
}
