import Testing
import Synchronization
@testable import DocketCore

/// The names of the bodies that entered, in order.
private final class Entries: Sendable {
    private let names = Mutex<[String]>([])
    func append(_ name: String) { names.withLock { $0.append(name) } }
    var all: [String] { names.withLock { $0 } }
}

/// A body that stays inside the gate until the test lets it go.
private final class Holder: Sendable {
    let name: String
    private let stream: AsyncStream<Void>
    private let continuation: AsyncStream<Void>.Continuation

    init(_ name: String) {
        self.name = name
        (stream, continuation) = AsyncStream.makeStream()
    }

    func hold(recording entered: Entries) async {
        entered.append(name)
        for await _ in stream { break }
    }

    func release() { continuation.finish() }
}

/// Waits (up to about two seconds) until `condition` holds; the test's expectation says whether it did.
private func eventually(_ condition: () -> Bool) async -> Bool {
    for _ in 0..<2000 {
        if condition() { return true }
        try? await Task.sleep(for: .milliseconds(1))
    }
    return condition()
}

struct AsyncGateTests {
    @Test func letsWidthThroughAndTheRestInArrivalOrder() async throws {
        let gate = AsyncGate(width: 2)
        let entered = Entries()
        let holders = ["a", "b", "c", "d"].map(Holder.init)
        var tasks: [Task<Void, any Error>] = []
        for (index, holder) in holders.enumerated() {
            tasks.append(Task { try await gate.run { await holder.hold(recording: entered) } })
            // Each one is inside or in line before the next arrives, so arrival order is known.
            #expect(await eventually { entered.all.count + gate.waiting == index + 1 })
        }
        #expect(entered.all == ["a", "b"])
        #expect(gate.waiting == 2)

        holders[1].release()
        #expect(await eventually { entered.all.count == 3 })
        #expect(entered.all == ["a", "b", "c"])
        #expect(gate.waiting == 1)

        holders[0].release()
        holders[2].release()
        holders[3].release()
        for task in tasks { try await task.value }
        #expect(entered.all == ["a", "b", "c", "d"])
        #expect(gate.waiting == 0)
    }

    @Test func aCancelledWaiterLeavesTheLineAndTheGateStaysWhole() async throws {
        let gate = AsyncGate(width: 1)
        let entered = Entries()
        let first = Holder("first")
        let holding = Task { try await gate.run { await first.hold(recording: entered) } }
        #expect(await eventually { entered.all.count == 1 })

        let waiter = Task { try await gate.run { entered.append("waiter") } }
        #expect(await eventually { gate.waiting == 1 })
        waiter.cancel()
        await #expect(throws: CancellationError.self) { try await waiter.value }
        #expect(gate.waiting == 0)

        first.release()
        try await holding.value
        // The place the cancelled waiter never took is free: the next one enters without waiting.
        let value = try await gate.run { 42 }
        #expect(value == 42)
        #expect(entered.all == ["first"])
    }

    @Test func aThrowingBodyFreesItsPlace() async throws {
        struct Boom: Error {}
        let gate = AsyncGate(width: 1)
        await #expect(throws: Boom.self) { try await gate.run { throw Boom() } }
        let value = try await gate.run { "next" }
        #expect(value == "next")
        #expect(gate.waiting == 0)
    }
}
