import ArgumentParser
import DocketCore
import DocketProtocol
import Foundation

/// `docket jobs create|list|show|cancel|retry|history` over the protocol.
struct Jobs: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Create, inspect and operate jobs through docketd.",
        subcommands: [Create.self, List.self, Show.self, Cancel.self, Retry.self, History.self])

    static let columns = ["id", "name", "status", "priority", "attempt", "assigned_agent", "next_run_at", "updated_at"]

    struct Create: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Create a job for a worker: due now unless --in, --at or --draft; --wait follows it to its end.")
        @OptionGroup var server: ServerOptions
        @Option(help: "The handler a worker runs it with.") var kind: String
        @Option(help: "Its name (default: the kind).") var name: String?
        @Option(help: "Its queue (default: default).") var queue: String?
        @Option(help: "The handler's input, a JSON object.") var args: String?
        @Option(help: "1–100 or CRITICAL, HIGH, MEDIUM, LOW, BACKGROUND.") var priority: String?
        @Option(help: "Due this many seconds from now.") var `in`: Int?
        @Option(help: "Due at this time (RFC 3339).") var at: String?
        @Flag(help: "Leave it a draft (no schedule: nothing runs it until job.schedule or job.start).") var draft = false
        @Option(help: "Makes a repeated create return the first job.") var idempotencyKey: String?
        @Flag(help: "Wait until it succeeds, fails or is cancelled, and print it then.") var wait = false
        @Option(help: "With --wait: give up after this many seconds (exit 1).") var timeout: Int = 60

        func run() async throws {
            var request: [String: JSONValue] = ["kind": .string(kind), "name": .string(name ?? kind)]
            if let queue { request["queue"] = .string(queue) }
            if let args {
                guard case .object(let object)? = try? JSONReader.parse(Array(args.utf8)) else {
                    throw ValidationError("--args must be a JSON object, got \(args)")
                }
                request["args"] = .object(object)
            }
            if let priority { request["priority"] = Int(priority).map { .number(Double($0)) } ?? .string(priority) }
            if let idempotencyKey { request["idempotency_key"] = .string(idempotencyKey) }
            if !draft {
                let due: Date
                if let at {
                    guard let parsed = Timestamp.parse(at) else { throw ValidationError("--at must be an RFC 3339 time, got \(at)") }
                    due = parsed
                } else {
                    due = Date().addingTimeInterval(Double(`in` ?? 0))
                }
                request["schedule"] = .object(["kind": .string("once"), "run_at": .string(Timestamp.format(due))])
            }
            guard wait else {
                try await server.run("job.create", request) { job in
                    "Created job \(job["id"]?.cell ?? "?") (\(job["status"]?.cell ?? "?"), kind \(kind), queue \(job["queue"]?.cell ?? "?"))."
                }
                return
            }
            let client = try await server.client()
            defer { Task { await client.close() } }
            let created = try await client.call("job.create", server.args(request))
            let id = created["id"] ?? .null
            if !server.json { print("Created job \(id.cell); waiting for it to finish…") }
            let deadline = ContinuousClock.now + .seconds(timeout)
            while true {
                let job = try await client.call("job.get", ["job_id": id])
                let status = job["status"]?.cell ?? ""
                if ["succeeded", "failed", "cancelled"].contains(status) {
                    print(server.json ? String(decoding: JSONWriter.bytes(job), as: UTF8.self) : fields(job))
                    if status != "succeeded" { throw ExitCode.failure }
                    return
                }
                guard ContinuousClock.now < deadline else {
                    throw DocketError(.unavailable, "job \(id.cell) is still \(status) after \(timeout) s (is a worker for kind \(kind) running?)")
                }
                try await Task.sleep(for: .milliseconds(200))  // models time: the pause between two looks at the job
            }
        }
    }

    struct List: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "List jobs, newest last (filters as job.list).")
        @OptionGroup var server: ServerOptions
        @Option(help: "Only these statuses (comma-separated).") var status: String?
        @Option(help: "At most this many (1–1000).") var limit: Int = 50
        @Option(help: "Continue after this cursor.") var after: String?

        func run() async throws {
            var args: [String: JSONValue] = ["limit": .number(Double(limit))]
            if let status { args["status"] = .array(status.split(separator: ",").map { .string(String($0)) }) }
            if let after { args["after"] = .string(after) }
            try await server.run("job.list", args) { page in
                table(page.items, Jobs.columns) + (page["next_cursor"].flatMap { $0 == .null ? nil : "\nnext: --after \($0.cell)" } ?? "")
            }
        }
    }

    struct Show: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Show one job.")
        @OptionGroup var server: ServerOptions
        @Argument(help: "Job id.") var id: String

        func run() async throws {
            try await server.run("job.get", ["job_id": .string(id)], render: fields)
        }
    }

    struct Cancel: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Cancel a job (graceful unless --hard).")
        @OptionGroup var server: ServerOptions
        @Argument(help: "Job id.") var id: String
        @Option(help: "Why.") var reason: String?
        @Flag(help: "Stop it now rather than asking its worker.") var hard = false

        func run() async throws {
            var args: [String: JSONValue] = ["job_id": .string(id), "mode": .string(hard ? "hard" : "graceful")]
            if let reason { args["reason"] = .string(reason) }
            try await server.run("job.cancel", args) { job in
                job["status"]?.cell == "cancelled" ? "Cancelled job \(id)." : "Asked the worker of job \(id) to cancel."
            }
        }
    }

    struct Retry: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Run a failed, succeeded or cancelled job again.")
        @OptionGroup var server: ServerOptions
        @Argument(help: "Job id.") var id: String

        func run() async throws {
            try await server.run("job.retry", ["job_id": .string(id)]) { job in
                "Job \(id) is running again (attempt \(job["attempt"]?.cell ?? "?"))."
            }
        }
    }

    struct History: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Every run of a job.")
        @OptionGroup var server: ServerOptions
        @Argument(help: "Job id.") var id: String

        func run() async throws {
            try await server.run("job.history", ["job_id": .string(id)]) { runs in
                table(runs.items, ["run_number", "attempt", "status", "scheduled_for", "started_at", "finished_at", "error_code", "actual_cost"])
            }
        }
    }
}

/// `docket tasks list|show` over the protocol.
struct Tasks: AsyncParsableCommand {
    static let configuration = CommandConfiguration(abstract: "Inspect tasks through docketd.", subcommands: [List.self, Show.self])

    struct List: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "List tasks, highest priority first.")
        @OptionGroup var server: ServerOptions
        @Option(help: "Only these statuses (comma-separated).") var status: String?
        @Option(help: "Only this job's tasks.") var job: String?
        @Option(help: "At most this many (1–1000).") var limit: Int = 50

        func run() async throws {
            var args: [String: JSONValue] = ["limit": .number(Double(limit))]
            if let status { args["status"] = .array(status.split(separator: ",").map { .string(String($0)) }) }
            if let job { args["job_id"] = .string(job) }
            try await server.run("task.list", args) { page in
                table(page.items, ["id", "title", "status", "priority", "assignee_id", "job_id", "updated_at"])
            }
        }
    }

    struct Show: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Show one task.")
        @OptionGroup var server: ServerOptions
        @Argument(help: "Task id.") var id: String

        func run() async throws {
            try await server.run("task.get", ["task_id": .string(id)], render: fields)
        }
    }
}

/// `docket budget set|show` over the protocol (needs cluster:admin).
struct BudgetCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(commandName: "budget", abstract: "Set or show a tenant's budget.",
                                                    subcommands: [SetBudget.self, Show.self])

    struct SetBudget: AsyncParsableCommand {
        static let configuration = CommandConfiguration(commandName: "set", abstract: "Set a tenant's limit and period.")
        @OptionGroup var server: ServerOptions
        @Option(help: "Limit, a decimal such as 100.00.") var limit: String
        @Option(help: "day, month or total.") var period: String

        func run() async throws {
            try await server.run("budget.set", ["limit": .string(limit), "period": .string(period)]) { budget in
                "Budget of \(budget["tenant_id"]?.cell ?? "?"): \(budget["limit"]?.cell ?? "?") per \(budget["period"]?.cell ?? "?")."
            }
        }
    }

    struct Show: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Show a tenant's budget and this period's spend.")
        @OptionGroup var server: ServerOptions

        func run() async throws {
            try await server.run("budget.get", [:], render: fields)
        }
    }
}
