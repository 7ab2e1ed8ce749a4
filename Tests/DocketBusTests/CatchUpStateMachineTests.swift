import DocketBus
import DocketTestSupport
import Testing

/// Every decision of the bus listener's catch-up, without PostgreSQL (docs/cluster.md, "The event bus").
struct CatchUpStateMachineTests {
    typealias Machine = CatchUpStateMachine<TestInstant>
    typealias Step = Machine.Step
    let t0 = TestInstant(milliseconds: 0)

    /// A machine whose hub stands at `position`, with a small batch so that full batches are easy to make.
    func started(at position: Int64 = 42, batch: Int = 3) -> Machine {
        Machine(position: position, configuration: .init(batch: batch, gapPatience: .milliseconds(50)))
    }

    @Test func theFirstCatchUpStartsAtTheHorizon() {
        var machine = Machine()
        #expect(machine.begin() == .readHorizon)
        #expect(machine.horizonRead(42, at: t0) == Step(position: 42, next: .finish))
        #expect(machine.position == 42)
        #expect(machine.horizonReads == 0, "the starting horizon is not a gap's")
        #expect(machine.begin() == .readEvents(after: 42, through: .max))
    }

    @Test func aGapFreeRunIsPublishedWithoutTheHorizon() {
        var machine = started()
        #expect(machine.begin() == .readEvents(after: 42, through: .max))
        #expect(machine.eventsRead([43, 44], at: t0) == Step(publish: 2, position: 44, next: .finish))
        #expect(machine.position == 44)
        _ = machine.begin()
        #expect(machine.eventsRead([], at: t0) == Step(publish: 0, position: nil, next: .finish), "nothing new")
        #expect(machine.horizonReads == 0)
    }

    @Test func aFullBatchReadsOn() {
        var machine = started()
        _ = machine.begin()
        #expect(machine.eventsRead([43, 44, 45], at: t0) == Step(publish: 3, position: 45, next: .readEvents(after: 45, through: .max)))
        #expect(machine.eventsRead([46], at: t0) == Step(publish: 1, position: 46, next: .finish))
    }

    @Test func aNewGapHoldsBackWhatFollowsIt() {
        var machine = started()
        _ = machine.begin()
        // 44 is taken by a transaction still open: 43 goes out, 45 and 46 wait.
        #expect(machine.eventsRead([43, 45, 46], at: t0) == Step(publish: 1, position: 43, next: .finish))
        #expect(machine.gap?.seq == 44)
        // Within the patience, the gap just holds.
        _ = machine.begin()
        #expect(machine.eventsRead([45, 46], at: t0.advanced(by: .milliseconds(49))) == Step(publish: 0, next: .finish))
        #expect(machine.gap?.since == t0, "the gap keeps the moment it was first seen")
    }

    @Test func aGapThatFillsIsPublishedInOrder() {
        var machine = started()
        _ = machine.begin()
        _ = machine.eventsRead([43, 45], at: t0)
        _ = machine.begin()
        #expect(machine.eventsRead([44, 45], at: t0.advanced(by: .milliseconds(10))) == Step(publish: 2, position: 45, next: .finish))
        #expect(machine.gap == nil)
        #expect(machine.horizonReads == 0)
    }

    @Test func anOldGapIsSettledWithTheHorizon() {
        var machine = started()
        _ = machine.begin()
        _ = machine.eventsRead([43, 45, 46], at: t0)
        _ = machine.begin()
        let late = t0.advanced(by: .milliseconds(50))
        #expect(machine.eventsRead([45, 46], at: late) == Step(publish: 0, next: .readHorizon))
        // 44 rolled back: the horizon has passed it, so everything up to the horizon is final.
        #expect(machine.horizonRead(46, at: late) == Step(next: .readEvents(after: 43, through: 46)))
        #expect(machine.eventsRead([45, 46], at: late) == Step(publish: 2, position: 46, next: .readEvents(after: 46, through: .max)))
        #expect(machine.gap == nil)
        #expect(machine.horizonReads == 1)
        #expect(machine.eventsRead([], at: late) == Step(next: .finish))
    }

    @Test func aHorizonBelowTheGapLeavesItOpen() {
        var machine = started()
        _ = machine.begin()
        _ = machine.eventsRead([43, 45], at: t0)
        let late = t0.advanced(by: .milliseconds(60))
        _ = machine.begin()
        #expect(machine.eventsRead([45], at: late) == Step(next: .readHorizon))
        // 44 is still in flight: the horizon has not passed the position.
        #expect(machine.horizonRead(43, at: late) == Step(next: .finish))
        #expect(machine.gap?.seq == 44)
        #expect(machine.position == 43)
        // The next catch-up asks again at once: the gap is already older than the patience.
        _ = machine.begin()
        #expect(machine.eventsRead([45], at: late) == Step(next: .readHorizon))
    }

    @Test func aGapFurtherOnIsANewGap() {
        var machine = started()
        _ = machine.begin()
        _ = machine.eventsRead([43, 45], at: t0)
        // 44 fills, but 46 is missing now: that gap's patience starts afresh.
        let later = t0.advanced(by: .milliseconds(100))
        _ = machine.begin()
        #expect(machine.eventsRead([44, 45, 47], at: later) == Step(publish: 2, position: 45, next: .finish))
        #expect(machine.gap?.seq == 46)
        #expect(machine.gap?.since == later)
    }

    @Test func settlingAFullBatchReadsOnToTheHorizon() {
        var machine = started(batch: 2)
        _ = machine.begin()
        _ = machine.eventsRead([43, 45], at: t0)
        let late = t0.advanced(by: .milliseconds(50))
        _ = machine.begin()
        _ = machine.eventsRead([45, 46], at: late)
        #expect(machine.horizonRead(50, at: late) == Step(next: .readEvents(after: 43, through: 50)))
        #expect(machine.eventsRead([45, 46], at: late) == Step(publish: 2, position: 46, next: .readEvents(after: 46, through: 50)))
        // 47 and 49 rolled back: the position still reaches the horizon.
        #expect(machine.eventsRead([48], at: late) == Step(publish: 1, position: 50, next: .readEvents(after: 50, through: .max)))
        #expect(machine.position == 50)
    }

    @Test func aLostConnectionKeepsThePosition() {
        var machine = started()
        _ = machine.begin()
        _ = machine.eventsRead([43, 44, 45], at: t0)  // a full batch: mid-catch-up
        machine.interrupted()
        #expect(machine.begin() == .readEvents(after: 45, through: .max), "a reconnect catches up from the table")
    }
}
