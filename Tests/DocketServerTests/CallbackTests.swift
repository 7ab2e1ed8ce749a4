import Crypto
import DocketClient
import DocketCore
import DocketPostgres
import DocketTestSupport
import Foundation
import PostgresNIO
import Testing

/// Completion callbacks against a real HTTP receiver (SPEC 4.3, issue 7).
@Suite(.serialized)
struct CallbackTests {
    let t: JSONValue = .string("t")

    func delivery(_ client: DocketClient, _ id: JSONValue) async throws -> [String: JSONValue] {
        try await client.call("job.get", ["job_id": id, "tenant_id": t])["callback"]?.objectValue ?? [:]
    }

    /// Waits until the job's callback state is `state`.
    func waitForState(_ client: DocketClient, _ id: JSONValue, _ state: String, timeout: Duration = .seconds(30)) async throws -> [String: JSONValue] {
        var last: [String: JSONValue] = [:]
        if let reached = try? await eventually(timeout, every: .milliseconds(100), { () async throws -> [String: JSONValue]? in
            last = try await delivery(client, id)
            return last["state"] == .string(state) ? last : nil
        }) { return reached }
        Issue.record("callback never reached \(state): \(last)")
        return last
    }

    @Test func oneSignedDeliveryPerTerminalJob() async throws {
        let receiver = try await CallbackReceiver.start { _ in .status(200) }
        defer { Task { await receiver.stop() } }
        try await withDocketd { server, endpoint in
            let client = try await server.client()
            defer { Task { await client.close() } }
            let job = try await client.call("job.create", ["name": .string("with callback"), "tenant_id": t,
                "callback_url": .string(receiver.url), "metadata": .object(["team": .string("blue")])])
            let id = job["id"]!
            try await client.call("job.start", ["job_id": id, "tenant_id": t])
            try await client.call("job.complete", ["job_id": id, "tenant_id": t])
            let other = try await client.call("job.create", ["name": .string("cancelled"), "tenant_id": t, "callback_url": .string(receiver.url)])
            try await client.call("job.cancel", ["job_id": other["id"]!, "tenant_id": t, "reason": .string("no need")])
            let plain = try await client.call("job.create", ["name": .string("no callback"), "tenant_id": t])
            try await client.call("job.start", ["job_id": plain["id"]!, "tenant_id": t])
            try await client.call("job.complete", ["job_id": plain["id"]!, "tenant_id": t])

            let done = try await waitForState(client, id, "delivered")
            #expect(done["status_code"] == .number(200))
            #expect(done["attempts"] == .number(1))
            #expect(done["sent_at"] != nil && done["sent_at"] != .null)
            _ = try await waitForState(client, other["id"]!, "delivered")
            // Models time: two seconds more, and nothing is sent twice.
            try await Task.sleep(for: .seconds(2))
            #expect(receiver.requests.count == 2)

            let secret: [UInt8] = try await withDatabase(endpoint) { database in
                try await database.read { connection in
                    let rows = try await connection.query("SELECT secret FROM docket.callback_secrets WHERE tenant_id = 't'",
                                                          logger: .init(label: "test")).collect()
                    return Array(try rows[0].decode(ByteBuffer.self).readableBytesView)
                }
            }
            for request in receiver.requests {
                let body = try JSONDecoder().decode(JSONValue.self, from: Data(request.body))
                let signature = request.headers["docket-signature"] ?? ""
                let parts = Dictionary(uniqueKeysWithValues: signature.split(separator: ",").map { part -> (String, String) in
                    let pair = part.split(separator: "=", maxSplits: 1)
                    return (String(pair[0]), pair.count > 1 ? String(pair[1]) : "")
                })
                let mac = HMAC<SHA256>.authenticationCode(for: Array("\(parts["t"] ?? "").".utf8) + request.body, using: SymmetricKey(data: secret))
                #expect(parts["v1"] == mac.map { String(format: "%02x", $0) }.joined(), "the signature verifies with the tenant's secret")
                #expect(request.headers["docket-delivery-id"] != nil)
                #expect(request.headers["content-type"] == "application/json")
                for field in ["job_id", "status", "completed_at", "metadata"] { #expect(body[field] != nil, "body has \(field)") }
                if body["job_id"] == id {
                    #expect(body["status"] == .string("succeeded"))
                    #expect(body["metadata"]?["team"] == .string("blue"))
                } else {
                    #expect(body["status"] == .string("cancelled"))
                }
            }
        }
    }

    @Test func aFailingReceiverIsRetriedUntilItAnswers() async throws {
        let receiver = try await CallbackReceiver.start { index in index < 3 ? .status(500) : .status(200) }
        defer { Task { await receiver.stop() } }
        try await withDocketd { server, _ in
            let client = try await server.client()
            defer { Task { await client.close() } }
            let job = try await client.call("job.create", ["name": .string("flaky receiver"), "tenant_id": t, "callback_url": .string(receiver.url)])
            try await client.call("job.start", ["job_id": job["id"]!, "tenant_id": t])
            try await client.call("job.fail", ["job_id": job["id"]!, "tenant_id": t, "error_message": .string("boom")])
            let done = try await waitForState(client, job["id"]!, "delivered", timeout: .seconds(40))
            #expect(done["attempts"] == .number(4))
            #expect(done["status_code"] == .number(200))
            #expect(receiver.requests.count == 4)
            let ids = Set(receiver.requests.compactMap { $0.headers["docket-delivery-id"] })
            #expect(ids.count == 1, "every attempt carries the same delivery id")
            let attempts = receiver.requests.compactMap { $0.headers["docket-attempt"] }
            #expect(attempts == ["1", "2", "3", "4"])
            // Backoff: the attempts are spread out, not sent back to back.
            let times = receiver.requests.map(\.at)
            #expect(times[3].timeIntervalSince(times[0]) > 3)
        }
    }

    @Test func aReceiverThatNeverAnswersGivesUpAndDegradesReadiness() async throws {
        let receiver = try await CallbackReceiver.start { _ in .hang }
        defer { Task { await receiver.stop() } }
        try await withDocketd(["--callback-attempts", "3", "--callback-timeout", "1", "--callback-degraded-after", "2"]) { server, _ in
            let client = try await server.client()
            defer { Task { await client.close() } }
            let before = try HTTP.get(port: server.httpPort, path: "/readyz")
            #expect(before.status == 200 && !before.body.contains("degraded"))
            let job = try await client.call("job.create", ["name": .string("silent receiver"), "tenant_id": t, "callback_url": .string(receiver.url)])
            try await client.call("job.cancel", ["job_id": job["id"]!, "tenant_id": t])
            let failed = try await waitForState(client, job["id"]!, "failed", timeout: .seconds(40))
            #expect(failed["attempts"] == .number(3))
            #expect(receiver.requests.count == 3)
            let events = try await client.call("events.list", ["topics": .array([.string("job.callback_failed")]), "tenant_id": t])
            let items = events["events"]?.items ?? []
            #expect(items.count == 1)
            #expect(items.first?["entity_id"] == job["id"])
            let ready = try HTTP.get(port: server.httpPort, path: "/readyz")
            #expect(ready.status == 200)
            #expect(ready.body.contains("notifications degraded"))
        }
    }

    @Test func refusedPrivateAddressesFailAtOnce() async throws {
        let receiver = try await CallbackReceiver.start { _ in .status(200) }
        defer { Task { await receiver.stop() } }
        try await withDocketd(["--callback-refuse-private", "true"]) { server, _ in
            let client = try await server.client()
            defer { Task { await client.close() } }
            let job = try await client.call("job.create", ["name": .string("to loopback"), "tenant_id": t, "callback_url": .string(receiver.url)])
            try await client.call("job.cancel", ["job_id": job["id"]!, "tenant_id": t])
            let failed = try await waitForState(client, job["id"]!, "failed")
            #expect(failed["attempts"] == .number(1))
            if case .string(let error)? = failed["error"] { #expect(error.contains("private")) }
            #expect(receiver.requests.isEmpty)
            do {
                _ = try await client.call("job.create", ["name": .string("ftp"), "tenant_id": t, "callback_url": .string("ftp://example.com/x")])
                Issue.record("an ftp callback URL was accepted")
            } catch let error as DocketError {
                #expect(error.code == .validationError)
            }
        }
    }

    /// The leader is killed while its request waits for the receiver's answer: the next leader delivers after the
    /// attempt's lease, and exactly one delivery is acknowledged.
    @Test func killingTheLeaderMidDeliveryNeitherLosesNorDuplicates() async throws {
        let receiver = try await CallbackReceiver.start { index in index == 0 ? .delayed(.seconds(3), 200) : .status(200) }
        defer { Task { await receiver.stop() } }
        try await Cluster.with(3, ["--callback-timeout", "2"]) { servers, _ in
            let leader = try await Cluster.waitForLeader(via: servers[0]) { _, _ in true }
            var ids: [String] = []
            for server in servers { ids.append(try await Cluster.instanceId(of: server)) }
            let leaderIndex = try #require(ids.firstIndex(of: leader.instance))
            let survivor = servers[(leaderIndex + 1) % 3]
            let client = try await survivor.client()
            defer { Task { await client.close() } }
            let job = try await client.call("job.create", ["name": .string("mid-delivery"), "tenant_id": t, "callback_url": .string(receiver.url)])
            try await client.call("job.start", ["job_id": job["id"]!, "tenant_id": t])
            try await client.call("job.complete", ["job_id": job["id"]!, "tenant_id": t])
            #expect(await receiver.wait(timeout: .seconds(15)) { $0.count == 1 }, "the leader sent the first attempt")
            servers[leaderIndex].process.signal(SIGKILL)
            _ = try? await servers[leaderIndex].process.wait()
            let done = try await waitForState(client, job["id"]!, "delivered", timeout: .seconds(40))
            #expect(done["attempts"] == .number(2))
            try await Task.sleep(for: .seconds(4))  // models time: four seconds more, and no third attempt
            #expect(receiver.requests.count == 2, "one attempt lost with the leader, one delivered")
            #expect(Set(receiver.requests.compactMap { $0.headers["docket-delivery-id"] }).count == 1)
            #expect(receiver.acknowledgedCount == 1, "exactly one answer reached a live sender")
        }
    }
}
