import DocketClient
import DocketCore
import DocketPostgres
import DocketTestSupport
import Foundation
import Synchronization
import Testing

/// Database faults under load, each on a PostgreSQL of its own, with real docketd processes (docs/operations.md,
/// "Database outages"). Every test ends with `FaultRig.verify`: each `ok` create stored, no answer past its deadline,
/// nothing leaked, one leader, no duplicate slot, and SIGTERM in time.
///
/// The sleeps here model time on purpose: they are how long a fault lasts, or how long load runs around it.
@Suite(.serialized)
struct FaultInjectionTests {
    /// A recurring job firing every second, so the checks can look for a slot fired twice across the fault.
    func everySecond(_ server: Docketd) async throws {
        let client = try await server.client()
        try await client.call("job.create", ["name": .string("every second"), "tenant_id": .string("slots"),
                                             "schedule": .object(["kind": .string("interval"), "every_seconds": .number(1)])])
        await client.close()
    }

    @Test func killNineAndRestartUnderCreateLoad() async throws {
        try await FaultRig.with(instances: 2) { rig in
            try await everySecond(rig.servers[0])
            let load = CreateLoad(rig.servers, clients: 4)
            try await Task.sleep(for: .seconds(2))  // models time: load before the fault
            try await rig.postgres.killNine()
            let killed = ContinuousClock.now
            try await Task.sleep(for: .seconds(3))  // models time: the outage
            let restarting = ContinuousClock.now
            try await rig.postgres.restart()
            let back = ContinuousClock.now
            let serving = try await rig.timesToServe(since: back)
            try await Task.sleep(for: .seconds(2))  // models time: load after the fault
            let outcomes = await load.stop()
            let during = outcomes.filter { $0.asked > killed && $0.answered < restarting }
            print("fault figures: kill -9 — \(during.count) creates during the outage, \(during.filter { $0.code == .unavailable }.count) UNAVAILABLE; instances served again after \(serving)")
            #expect(!during.isEmpty && during.allSatisfy { $0.code == .unavailable }, "during the outage every create answers UNAVAILABLE")
            #expect(serving.allSatisfy { $0 <= .seconds(5) }, "every instance serves within 5 s of the database returning: \(serving)")
            #expect(outcomes.contains { $0.asked > back && $0.jobId != nil }, "creates succeed again")
            try await rig.verify(outcomes, clients: 4)
            try await rig.stopAll()
        }
    }

    @Test func aFrozenDatabaseAnswersUnavailableWithinTheDeadline() async throws {
        try await FaultRig.with(instances: 2) { rig in
            try await everySecond(rig.servers[0])
            let load = CreateLoad(rig.servers, clients: 4)
            try await Task.sleep(for: .seconds(2))  // models time: load before the fault
            try rig.postgres.freeze(true)
            let frozen = ContinuousClock.now
            // While frozen, /readyz answers within a second, and says 503 once the pool has seen the outage.
            let http = rig.servers[1].httpPort
            var readiness: [(Int, Duration)] = []
            for _ in 0..<8 {
                try await Task.sleep(for: .seconds(2))  // models time: sampled through the 20 s freeze
                let began = ContinuousClock.now
                let status = (try? HTTP.get(port: http, path: "/readyz").status) ?? -1
                readiness.append((status, ContinuousClock.now - began))
            }
            try await Task.sleep(for: .seconds(20) - (ContinuousClock.now - frozen))  // models time: a 20 s freeze
            try rig.postgres.freeze(false)
            let thawed = ContinuousClock.now
            let serving = try await rig.timesToServe(since: thawed)
            print("fault figures: SIGSTOP 20 s — /readyz \(readiness.map { "\($0.0) in \($0.1)" }); instances served again after \(serving)")
            #expect(readiness.allSatisfy { $0.1 < .seconds(1) }, "/readyz answers within a second")
            #expect(readiness.dropFirst(2).allSatisfy { $0.0 == 503 }, "/readyz says 503 while the database is frozen")
            #expect(serving.allSatisfy { $0 <= .seconds(5) }, "every instance serves within 5 s of the database returning: \(serving)")
            try await Task.sleep(for: .seconds(2))  // models time: load after the fault
            let outcomes = await load.stop()
            let during = outcomes.filter { $0.asked > frozen && $0.answered < thawed }
            #expect(!during.isEmpty && during.allSatisfy { $0.code == .unavailable })
            try await rig.verify(outcomes, clients: 4)
            try await rig.stopAll()
        }
    }

    @Test func terminatingEveryBackendUnderLoadLeavesNothingStuck() async throws {
        try await FaultRig.with(instances: 2) { rig in
            try await everySecond(rig.servers[0])
            let load = CreateLoad(rig.servers, clients: 4)
            try await Task.sleep(for: .seconds(2))  // models time: load before the fault
            let first = try await rig.postgres.terminateBackends(of: rig.endpoint.database)
            try await Task.sleep(for: .seconds(3))  // models time: the issue's reproduction: twice, 3 s apart
            let second = try await rig.postgres.terminateBackends(of: rig.endpoint.database)
            let after = ContinuousClock.now
            let serving = try await rig.timesToServe(since: after)
            print("fault figures: pg_terminate_backend of \(first) then \(second) backends; instances served again after \(serving)")
            #expect(first > 0 && second > 0)
            #expect(serving.allSatisfy { $0 <= .seconds(5) }, "\(serving)")
            try await Task.sleep(for: .seconds(2))  // models time: load after the fault
            let outcomes = await load.stop()
            try await rig.verify(outcomes, clients: 4)
            try await rig.stopAll()
        }
    }

    @Test func aBlackholedLeaderStepsDownAndAnotherTakesOver() async throws {
        try await FaultRig.with(instances: 0) { rig in
            guard case .socket(let socket) = rig.endpoint.address else {
                Issue.record("the test server listens on a unix socket")
                return
            }
            let proxy = try BlackholeProxy(socketPath: socket)
            defer { proxy.stop() }
            // A reaches the database through the proxy and leads; B connects directly.
            let a = try await rig.add(url: proxy.url(database: rig.endpoint.database))
            _ = try await eventually(.seconds(15)) { try a.metric("docket_leader") == 1 ? true : nil }
            let b = try await rig.add()
            try await everySecond(a)
            let load = CreateLoad([a, b], clients: 4)
            try await Task.sleep(for: .seconds(2))  // models time: load before the fault
            // Sample both instances' own view of who leads, all through the partition.
            let sampling = Task.detached { () -> (both: Int, samples: Int) in
                var both = 0, samples = 0
                while !Task.isCancelled {
                    let aLeads = (try? a.metric("docket_leader")) == 1, bLeads = (try? b.metric("docket_leader")) == 1
                    if aLeads && bLeads { both += 1 }
                    samples += 1
                    try? await Task.sleep(for: .milliseconds(50))  // models time: a sample every 50 ms
                }
                return (both, samples)
            }
            proxy.blackhole(true)
            let cut = ContinuousClock.now
            let stepDown = try await eventually(.seconds(10), every: .milliseconds(50)) { try a.metric("docket_leader") == 0 ? ContinuousClock.now - cut : nil }
            let takeover = try await eventually(.seconds(30), every: .milliseconds(50)) { try b.metric("docket_leader") == 1 ? ContinuousClock.now - cut : nil }
            try await Task.sleep(for: .seconds(2))  // models time: B leads for a while during the partition
            proxy.blackhole(false)
            let healed = ContinuousClock.now
            let serving = try await rig.timesToServe(since: healed)
            sampling.cancel()
            let (both, samples) = await sampling.value
            print("fault figures: blackholed leader — stepped down after \(stepDown), the other took over after \(takeover); both led in \(both) of \(samples) samples; served again after \(serving)")
            #expect(both == 0, "never two leaders")
            #expect(stepDown <= .seconds(4), "the cut-off leader steps down within its trust window (3 s)")
            #expect(takeover <= .seconds(14), "the other takes over after the lease TTL (10 s)")
            #expect(serving.allSatisfy { $0 <= .seconds(5) }, "\(serving)")
            try await Task.sleep(for: .seconds(2))  // models time: load after the fault
            let outcomes = await load.stop()
            try await rig.verify(outcomes, clients: 4)
            try await rig.stopAll()
        }
    }

    @Test func aFullDiskAnswersUnavailableAndRecovers() async throws {
        try await FaultRig.with(instances: 2, diskMegabytes: 320) { rig in
            try await everySecond(rig.servers[0])
            let load = CreateLoad(rig.servers, clients: 4)
            try await Task.sleep(for: .seconds(2))  // models time: load before the fault
            try rig.postgres.fillDisk()
            let full = ContinuousClock.now
            try await Task.sleep(for: .seconds(5))  // models time: the disk stays full
            let releasing = ContinuousClock.now
            try rig.postgres.releaseDisk()
            // PostgreSQL may have stopped itself (a WAL write failed): start it again if so.
            if (try? rig.postgres.processes().isEmpty) ?? true { try await rig.postgres.restart() }
            try await rig.waitUntilTheDatabaseAnswers()
            let freed = ContinuousClock.now
            let serving = try await rig.timesToServe(since: freed)
            try await Task.sleep(for: .seconds(2))  // models time: load after the fault
            let outcomes = await load.stop()
            let settledFull: ContinuousClock.Instant = full + .seconds(1)
            let during = outcomes.filter { (outcome: CreateLoad.Outcome) -> Bool in outcome.asked > settledFull && outcome.answered < releasing }
            let refused = during.filter { $0.code == .unavailable }.count
            print("fault figures: full disk — \(during.count) creates while full (\(during.filter { $0.jobId != nil }.count) ok, \(refused) UNAVAILABLE); served again after \(serving)")
            #expect(refused > 0, "a full disk answers UNAVAILABLE")
            #expect(serving.allSatisfy { $0 <= .seconds(5) }, "every instance serves within 5 s of the database returning: \(serving)")
            try await rig.verify(outcomes, clients: 4)
            try await rig.stopAll()
        }
    }
}
