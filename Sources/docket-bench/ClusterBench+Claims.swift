import DocketClient
import DocketCore
import DocketPostgres
import Foundation
import PostgresNIO
import Synchronization

extension ClusterBench {
    /// 4 instances × 8 claim loops over 50,000 jobs with group commit on (its default), and a kill -9 of the leader
    /// once a third of the jobs exist. Claim loops whose instance died reconnect to another; the jobs the dead
    /// instance's loops held come back through their lease (3 s) and retry policy. Checked in the database at the end:
    /// every job answered `ok` exists, every job of the tenant succeeded, with exactly one succeeded run and one
    /// `job.succeeded` event. Throws if any check fails.
    func claims(_ cluster: Cluster, total: Int = 50_000, loopsPerInstance: Int = 8) async throws {
        while cluster.instances.count < 4 { cluster.instances.append(try await cluster.spawn()) }
        let tenant: JSONValue = .string("bench-claims")
        let run = ClaimRun(ports: cluster.instances.map(\.port), token: cluster.token)
        let clock = ContinuousClock(), start = clock.now
        let producers = (0..<16).map { producer in
            Task {
                var connection = await run.connect(preferring: producer % run.ports.count)
                while run.created.load(ordering: .relaxed) < total {
                    guard let (client, _) = connection else { return }
                    let n = run.created.add(1, ordering: .relaxed).newValue
                    guard n <= total else { break }
                    do {
                        let job = try await client.call("job.create", [
                            "name": .string("c-\(n)"), "tenant_id": tenant,
                            "schedule": .object(["kind": .string("once"), "run_at": .string(Timestamp.format(Date()))]),
                            "retry_policy": .object(["max_attempts": .number(10), "initial_backoff_seconds": .number(0.2),
                                                     "max_backoff_seconds": .number(1)]),
                        ])
                        if case .string(let id)? = job["id"] { run.answered.withLock { $0.append(id) } }
                    } catch {
                        await client.close()
                        connection = await run.connect(preferring: producer + 1)
                    }
                }
            }
        }
        let loops = (0..<(4 * loopsPerInstance)).map { loop in
            Task {
                var connection = await run.connect(preferring: loop % run.ports.count)
                while run.producing.load(ordering: .relaxed) || run.completed.load(ordering: .relaxed) < total {
                    guard let (client, _) = connection else { return }
                    do {
                        let jobs = try await client.call("job.claim", ["limit": .number(10), "tenant_id": tenant,
                                                                       "lease_seconds": .number(3), "agent": .string("loop-\(loop)")]).elements
                        if jobs.isEmpty {
                            try await Task.sleep(for: .milliseconds(50))
                            continue
                        }
                        try await withThrowingTaskGroup(of: Void.self) { group in
                            for job in jobs {
                                group.addTask {
                                    do {
                                        _ = try await client.call("job.complete", ["job_id": job["id"] ?? .null, "tenant_id": tenant])
                                        run.completed.add(1, ordering: .relaxed)
                                    } catch let error as DocketError where error.code == .invalidTransition {
                                        // The lease ran out and another loop took the job again: its completion counts.
                                    }
                                }
                            }
                            try await group.waitForAll()
                        }
                    } catch {
                        await client.close()
                        if Task.isCancelled { return }
                        try? await Task.sleep(for: .milliseconds(100))
                        connection = await run.connect(preferring: loop + 1)
                    }
                }
            }
        }
        // The kill: the leader, once a third of the jobs have been run.created.
        while run.created.load(ordering: .relaxed) < total / 3 { try await Task.sleep(for: .milliseconds(50)) }
        let leader = try await currentLeader(cluster)
        run.alive.withLock { _ = $0.remove(leader.index) }
        cluster.instances[leader.index].process.signal(SIGKILL)
        _ = try? await cluster.instances[leader.index].process.wait()
        let killedAt = clock.now - start
        for producer in producers { await producer.value }
        run.producing.store(false, ordering: .relaxed)
        let createdIn = clock.now - start
        // Done when every job of the tenant has succeeded (or after five minutes).
        let endpoint = try DatabaseEndpoint(url: cluster.url)
        var left = -1
        while clock.now - start < .seconds(600) {
            left = try await endpoint.withConnection(logger: logger) { connection in
                let rows = try await connection.query(
                    "SELECT count(*)::int FROM docket.jobs WHERE tenant_id = 'bench-claims' AND status <> 'succeeded'", logger: logger)
                for try await count in rows.decode(Int.self) { return count }
                return 0
            }
            if left == 0 { break }
            try await Task.sleep(for: .milliseconds(250))
        }
        let elapsed = clock.now - start
        for loop in loops { loop.cancel() }
        for loop in loops { await loop.value }
        let ids = run.answered.withLock { $0 }
        let (stored, missing, twice, events, retried) = try await endpoint.withConnection(logger: logger) { connection in
            try await connection.query("""
                WITH ok AS (SELECT unnest(\(ids)::uuid[]) AS id), runs AS (
                    SELECT job_id, count(*) FILTER (WHERE status = 'succeeded') AS succeeded, count(*) AS all_runs
                    FROM docket.job_runs WHERE tenant_id = 'bench-claims' GROUP BY job_id
                ), told AS (
                    SELECT entity_id, count(*) AS n FROM docket.events
                    WHERE tenant_id = 'bench-claims' AND topic = 'job.succeeded' GROUP BY entity_id
                )
                SELECT (SELECT count(*)::int FROM docket.jobs WHERE tenant_id = 'bench-claims'),
                       (SELECT count(*)::int FROM ok WHERE NOT EXISTS (SELECT 1 FROM docket.jobs j WHERE j.id = ok.id)),
                       (SELECT count(*)::int FROM docket.jobs j LEFT JOIN runs r ON r.job_id = j.id
                         WHERE j.tenant_id = 'bench-claims' AND coalesce(r.succeeded, 0) <> 1),
                       (SELECT count(*)::int FROM docket.jobs j LEFT JOIN told t ON t.entity_id = j.id::text
                         WHERE j.tenant_id = 'bench-claims' AND coalesce(t.n, 0) <> 1),
                       (SELECT count(*)::int FROM runs WHERE all_runs > 1)
                """, logger: logger).collect()[0].decode((Int, Int, Int, Int, Int).self)
        }
        print(String(format: "claims      4 docketd × %d claim loops, %d jobs created (%d answered ok) in %.1f s; leader killed -9 at %.1f s; "
                         + "all succeeded after %.1f s (%.0f jobs/s)", loopsPerInstance, stored, ids.count, createdIn.inSeconds,
                     killedAt.inSeconds, elapsed.inSeconds, Double(stored) / elapsed.inSeconds))
        print("            ok creates missing: \(missing); jobs not succeeded: \(left); jobs without exactly one succeeded run: \(twice); "
            + "without exactly one job.succeeded event: \(events); jobs that ran more than once (lease ran out at the kill): \(retried)")
        guard missing == 0, left == 0, twice == 0, events == 0 else {
            throw BenchFailure("claims: a job was lost or completed other than once")
        }
    }
}

/// What the `claims` scenario's tasks share: the instances still alive, the ids answered `ok`, and the counts.
final class ClaimRun: Sendable {
    let ports: [Int]
    let token: String
    let alive: Mutex<Set<Int>>
    let answered = Mutex<[String]>([])
    let created = Atomic(0)
    let completed = Atomic(0)
    let producing = Atomic(true)

    init(ports: [Int], token: String) {
        self.ports = ports
        self.token = token
        alive = Mutex(Set(ports.indices))
    }

    /// A connection to the first live instance from `index` on, and its index; nil when none answers.
    @Sendable func connect(preferring index: Int) async -> (DocketClient, Int)? {
        for offset in 0..<ports.count {
            let candidate = (index + offset) % ports.count
            guard alive.withLock({ $0.contains(candidate) }) else { continue }
            if let client = try? await DocketClient.connect(host: "127.0.0.1", port: ports[candidate], token: token) {
                return (client, candidate)
            }
        }
        return nil
    }
}
