import DocketClient
import DocketCore
import DocketPostgres
import DocketTestSupport
import Foundation
import PostgresNIO
import Testing

/// The bus across three real docketd processes: what is caused through one instance reaches subscribers on another,
/// in seq order, each once, even when the subscriber's instance loses its listener connection meanwhile.
@Suite(.serialized)
struct BusClusterTests {
    @Test func eventsThroughBReachASubscriberOnAAcrossListenerLoss() async throws {
        try await Cluster.with(3) { servers, endpoint in
            let a = servers[0], b = servers[1]
            let watcher = try await a.client()
            defer { Task { await watcher.close() } }
            try await watcher.call("subscribe", ["topics": .array([.string("job.*")]), "tenant_id": .string("bus")])
            let instanceA = try await Cluster.instanceId(of: a)

            // Four writers through B, 60 jobs each (created, then started: several events per job).
            let clock = ContinuousClock()
            try await withThrowingTaskGroup(of: Void.self) { group in
                for writer in 0..<4 {
                    group.addTask {
                        let client = try await b.client()
                        defer { Task { await client.close() } }
                        for index in 0..<60 {
                            let job = try await client.call("job.create", ["name": .string("w\(writer)-\(index)"), "tenant_id": .string("bus")])
                            try await client.call("job.start", ["job_id": job["id"]!, "tenant_id": .string("bus")])
                        }
                    }
                }
                group.addTask {
                    // Twice, cut A's listener connection while the writers run.
                    let admin = try await endpoint.connect(logger: .init(label: "test"))
                    defer { Task { try? await admin.close() } }
                    for _ in 0..<2 {
                        try await Task.sleep(for: .milliseconds(400))  // models time: the cut comes mid-load
                        let rows = try await admin.query("""
                            SELECT count(*)::int FROM (SELECT pg_terminate_backend(pid) FROM pg_stat_activity
                            WHERE application_name = \("docket-listener-" + instanceA.prefix(8))) terminated
                            """, logger: .init(label: "test")).collect()
                        #expect(try rows.first?.decode(Int.self) == 1, "A's listener connection was found and terminated")
                    }
                }
                try await group.waitForAll()
            }
            let written = clock.now
            let expected: [Int64] = try await withDatabase(endpoint) { database in
                try await database.read { connection in
                    var seqs: [Int64] = []
                    let rows = try await connection.query("""
                        SELECT seq FROM docket.events WHERE tenant_id = 'bus' AND topic LIKE 'job.%' ORDER BY seq
                        """, logger: .init(label: "test"))
                    for try await seq in rows.decode(Int64.self) { seqs.append(seq) }
                    return seqs
                }
            }
            #expect(expected.count >= 4 * 60 * 2)
            let received = try await pushedEvents(watcher, count: expected.count, timeout: .seconds(20)).map { event -> Int64 in
                if case .number(let seq)? = event["seq"] { return Int64(seq) }
                return -1
            }
            #expect(received == expected, "every event once, in seq order (\(received.count) of \(expected.count))")
            print("figures: bus across instances: \(expected.count) events, all delivered in order after two listener losses,"
                + " last one \(clock.now - written) after the writers finished")
        }
    }
}
