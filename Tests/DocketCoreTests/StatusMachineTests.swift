import Testing
@testable import DocketCore

/// Every (from, to) pair of both machines, against tables written out independently here.
struct StatusMachineTests {
    /// SPEC 2.2's job table: target → the operations allowed to take it ("*" = any).
    static let expectedJob: [JobStatus: [JobStatus: Set<String>]] = [
        .draft: [.scheduled: ["*"], .running: ["*"], .cancelled: ["*"]],
        .scheduled: [.running: ["*"], .cancelled: ["*"]],
        .running: [.succeeded: ["*"], .failed: ["*"], .cancelled: ["*"], .paused: ["job.pause"],
                   .scheduled: ["sweep.rearm"]],
        .paused: [.running: ["job.resume"], .cancelled: ["*"]],
        .failed: [.running: ["job.retry", "sweep.retry"], .cancelled: ["*"]],
        .succeeded: [.running: ["job.retry"]],
        .cancelled: [.running: ["job.retry"]],
    ]

    static let expectedTask: [TaskStatus: [TaskStatus: Set<String>]] = [
        .pending: [.inProgress: ["*"], .blocked: ["*"], .cancelled: ["*"]],
        .blocked: [.pending: ["task.unblock"], .cancelled: ["*"]],
        .inProgress: [.completed: ["*"], .cancelled: ["*"], .pending: ["*"]],
        .completed: [.pending: ["task.reopen"]],
        .cancelled: [.pending: ["task.reopen"]],
    ]

    static let probeOperations = ["job.start", "job.update", "job.pause", "job.resume", "job.retry", "sweep.retry",
                                  "sweep.rearm", "task.start", "task.reopen", "task.update", "task.unblock"]

    @Test(arguments: JobStatus.allCases)
    func jobTransitionsFrom(_ from: JobStatus) {
        for to in JobStatus.allCases {
            for operation in Self.probeOperations {
                let allowedOps = Self.expectedJob[from]?[to]
                let expected = allowedOps.map { $0.contains("*") || $0.contains(operation) } ?? false
                #expect(JobStatus.machine.allows(from: from, to: to, via: operation) == expected,
                        "job \(from) → \(to) via \(operation)")
                let thrown = (try? JobStatus.machine.check(id: "j1", from: from, to: to, via: operation)) == nil
                #expect(thrown == !expected)
            }
        }
    }

    @Test(arguments: TaskStatus.allCases)
    func taskTransitionsFrom(_ from: TaskStatus) {
        for to in TaskStatus.allCases {
            for operation in Self.probeOperations {
                let allowedOps = Self.expectedTask[from]?[to]
                let expected = allowedOps.map { $0.contains("*") || $0.contains(operation) } ?? false
                #expect(TaskStatus.machine.allows(from: from, to: to, via: operation) == expected,
                        "task \(from) → \(to) via \(operation)")
            }
        }
    }

    @Test func refusalNamesBothStatesAndWhatIsAllowed() throws {
        let error = try #require(throws: DocketError.self) {
            try JobStatus.machine.check(id: "5f1", from: .succeeded, to: .paused, via: "job.pause")
        }
        #expect(error.code == .invalidTransition)
        #expect(error.message == "job 5f1 is succeeded; succeeded → paused is not allowed (from succeeded: running via job.retry)")
        #expect(error.details["from"] == .string("succeeded"))
        #expect(error.details["to"] == .string("paused"))
    }

    @Test func reservedTransitionNamesTheOperationItNeeds() throws {
        let error = try #require(throws: DocketError.self) {
            try JobStatus.machine.check(id: "5f1", from: .succeeded, to: .running, via: "job.start")
        }
        #expect(error.message == "job 5f1 is succeeded; succeeded → running needs job.retry")
        let taskError = try #require(throws: DocketError.self) {
            try TaskStatus.machine.check(id: "t9", from: .completed, to: .inProgress, via: "task.start")
        }
        #expect(taskError.message.contains("task t9 is completed; completed → in_progress is not allowed"))
        #expect(taskError.message.contains("pending via task.reopen"))
    }

    @Test func terminalStates() {
        #expect(JobStatus.allCases.filter(\.isTerminal) == [.succeeded, .failed, .cancelled])
        #expect(TaskStatus.allCases.filter(\.isTerminal) == [.completed, .cancelled])
    }
}
