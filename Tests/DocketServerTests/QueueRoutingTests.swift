import DocketClient
import DocketCore
import DocketTestSupport
import Foundation
import Testing

extension QueueSuites {
    /// Queues, kinds and args over the wire: fixed at create, listed by, and routing `job.claim`.
    @Suite struct QueueRoutingTests {
        let t: JSONValue = .string("t")

        @Test func aJobKeepsItsQueueKindAndArgs() async throws {
            try await withDocketd { server, _ in
                let client = try await server.client()
                defer { Task { await client.close() } }
                let args: JSONValue = .object(["to": .string("a@example.com"), "attempts": .array([.number(1), .bool(true)])])
                let mail = try await client.call("job.create", ["name": .string("welcome"), "tenant_id": t,
                                                                 "queue": .string("mail.v2"), "kind": .string("SendWelcome"), "args": args])
                #expect(mail["queue"] == .string("mail.v2"))
                #expect(mail["kind"] == .string("SendWelcome"))
                #expect(mail["args"] == args)
                let fetched = try await client.call("job.get", ["job_id": mail["id"]!, "tenant_id": t])
                #expect(fetched["queue"] == .string("mail.v2") && fetched["kind"] == .string("SendWelcome") && fetched["args"] == args)

                let plain = try await client.call("job.create", ["name": .string("plain"), "tenant_id": t])
                #expect(plain["queue"] == .string("default"), "a job without a queue is in `default`")
                #expect(plain["kind"] == .null)
                #expect(plain["args"] == .object([:]))

                // job.created carries the queue and the kind for workers that watch the bus.
                let data = try await eventually { () async throws -> JSONValue? in  // events.list reads up to the bus horizon
                    let created = try await client.call("events.list", ["topics": .array([.string("job.created")]), "tenant_id": t])
                    return created["events"]?.list.first { $0["entity_id"] == mail["id"] }?["data"]
                }
                #expect(data["queue"] == .string("mail.v2"))
                #expect(data["kind"] == .string("SendWelcome"))

                // Fixed at create: job.update refuses them, and changes nothing.
                for field in ["queue", "kind", "args"] {
                    let value: JSONValue = field == "args" ? .object([:]) : .string("other")
                    await #expect(throws: DocketError.self, "job.update refuses \(field)") {
                        try await client.call("job.update", ["job_id": mail["id"]!, "tenant_id": t, field: value])
                    }
                }
                let after = try await client.call("job.get", ["job_id": mail["id"]!, "tenant_id": t])
                #expect(after["version"] == mail["version"] && after["queue"] == .string("mail.v2"))
            }
        }

        @Test func listsFilterByQueueAndKind() async throws {
            try await withDocketd { server, _ in
                let client = try await server.client()
                defer { Task { await client.close() } }
                for (index, (queue, kind)) in [("mail", "Send"), ("mail", "Bounce"), ("sms", "Send"), ("default", nil)].enumerated() {
                    var args: [String: JSONValue] = ["name": .string("j\(index)"), "tenant_id": t, "queue": .string(queue)]
                    if let kind { args["kind"] = .string(kind) }
                    try await client.call("job.create", args)
                }
                func names(_ filter: [String: JSONValue]) async throws -> Set<String> {
                    var args = filter
                    args["tenant_id"] = t
                    return Set(try await client.call("job.list", args).list.compactMap { $0["name"]?.stringValue })
                }
                #expect(try await names(["queue": .string("mail")]) == ["j0", "j1"])
                #expect(try await names(["kind": .string("Send")]) == ["j0", "j2"])
                #expect(try await names(["queue": .string("mail"), "kind": .string("Send")]) == ["j0"])
                #expect(try await names(["queue": .string("default")]) == ["j3"])
                #expect(try await names(["queue": .string("nothing-here")]).isEmpty)
            }
        }

        @Test func aClaimTakesOnlyTheQueuesAndKindsItNames() async throws {
            try await withDocketd { server, _ in
                let client = try await server.client()
                defer { Task { await client.close() } }
                var ids: [String: JSONValue] = [:]
                for (name, queue, kind) in [("mail-send", "mail", "Send"), ("mail-bounce", "mail", "Bounce"),
                                            ("sms-send", "sms", "Send"), ("report", "default", "Report")] {
                    let job = try await client.call("job.create", ["name": .string(name), "tenant_id": t, "queue": .string(queue),
                                                                    "kind": .string(kind)])
                    // Started and held by no worker: claimable at once.
                    try await client.call("job.start", ["job_id": job["id"]!, "tenant_id": t])
                    ids[name] = job["id"]
                }
                func claim(_ args: [String: JSONValue]) async throws -> Set<String> {
                    var args = args
                    args["tenant_id"] = t
                    args["limit"] = .number(10)
                    return Set(try await client.call("job.claim", args).list.compactMap { $0["name"]?.stringValue })
                }
                #expect(try await claim(["queues": .array([.string("sms")])]) == ["sms-send"], "only the named queue")
                #expect(try await claim(["queues": .array([.string("mail")]), "kinds": .array([.string("Bounce")])]) == ["mail-bounce"],
                        "only the named kind within the named queue")
                #expect(try await claim(["kinds": .array([.string("Nope")])]).isEmpty, "no job of that kind")
                #expect(try await claim([:]) == ["mail-send", "report"], "no routing: whatever is left, every queue")
            }
        }

        @Test func badQueuesAndKindsAreRefusedAndChangeNothing() async throws {
            try await withDocketd { server, _ in
                let client = try await server.client()
                defer { Task { await client.close() } }
                let refused: [(String, [String: JSONValue], String)] = [
                    ("job.create", ["queue": .string("Mail")], "queue"),
                    ("job.create", ["queue": .string("mail queue")], "queue"),
                    ("job.create", ["queue": .string("")], "queue"),
                    ("job.create", ["queue": .string(String(repeating: "q", count: 101))], "queue"),
                    ("job.create", ["queue": .number(3)], "queue"),
                    ("job.create", ["kind": .string("")], "kind"),
                    ("job.create", ["kind": .string(String(repeating: "k", count: 201))], "kind"),
                    ("job.create", ["args": .array([])], "args"),
                    ("job.create", ["args": .string("{}")], "args"),
                    ("job.claim", ["queues": .array([.string("UPPER")])], "queues"),
                    ("job.claim", ["queues": .string("mail")], "queues"),
                    ("job.claim", ["kinds": .array([.string("")])], "kinds"),
                    ("job.list", ["queue": .string("a/b")], "queue"),
                ]
                for (op, fields, field) in refused {
                    var args = fields
                    args["tenant_id"] = t
                    if op == "job.create" { args["name"] = .string("bad") }
                    do {
                        try await client.call(op, args)
                        Issue.record("\(op) \(fields) must be refused")
                    } catch let error as DocketError {
                        #expect(error.code == .validationError, "\(op) \(fields)")
                        #expect(error.details["field"] == .string(field), "\(op) names \(field): \(error.details)")
                    }
                }
                #expect(try await client.call("job.list", ["tenant_id": t]).list.isEmpty, "no refused create made a job")
            }
        }
    }
}
