import DocketCore
import DocketTestSupport
import Testing
@testable import DocketCluster

/// Every transition of the election, without PostgreSQL (docs/cluster.md, "Leader election").
struct ElectionStateMachineTests {
    typealias Machine = ElectionStateMachine<TestInstant>
    let start = TestInstant(milliseconds: 0)

    /// A machine that has just won and claimed `epoch` at `start`.
    func leading(_ epoch: Int64 = 7) -> Machine {
        var machine = Machine()
        _ = machine.start()
        _ = machine.connected()
        _ = machine.lockResult(won: true)
        _ = machine.termClaimed(epoch: epoch, at: start)
        return machine
    }

    @Test func attemptWinClaimAndRenew() {
        var machine = Machine()
        #expect(machine.start() == .connect)
        #expect(machine.connected() == .tryLock)
        #expect(machine.state == .following)
        #expect(machine.lockResult(won: true) == .claimTerm)
        #expect(machine.state == .claiming)
        #expect(machine.leaderEpoch == nil, "not leading until the term is claimed")
        #expect(machine.termClaimed(epoch: 3, at: start) == .wait(.milliseconds(500)))
        #expect(machine.leaderEpoch == 3)
        #expect(machine.waited() == .renew(epoch: 3))
        let later = start.advanced(by: .milliseconds(500))
        #expect(machine.renewal(.renewed, at: later) == .wait(.milliseconds(500)))
        #expect(machine.state == .leading(epoch: 3, confirmed: later))
    }

    @Test func aLostTryLooksForAFrozenHolder() {
        var machine = Machine()
        _ = machine.start()
        _ = machine.connected()
        #expect(machine.lockResult(won: false) == .readLeadership)
        // A live holder: wait and try again.
        #expect(machine.leadershipRead(heartbeatAge: .seconds(2), holderPid: 42) == .wait(.milliseconds(500)))
        #expect(machine.waited() == .tryLock)
        // No row yet, or no holder: wait too.
        _ = machine.lockResult(won: false)
        #expect(machine.leadershipRead(heartbeatAge: nil, holderPid: nil) == .wait(.milliseconds(500)))
        // Silent past the lease TTL: take over from the frozen holder.
        _ = machine.waited()
        _ = machine.lockResult(won: false)
        #expect(machine.leadershipRead(heartbeatAge: .milliseconds(10_001), holderPid: 42) == .terminateHolder(pid: 42))
        #expect(machine.holderTerminated() == .wait(.milliseconds(500)))
        #expect(machine.waited() == .tryLock)
        #expect(machine.leaderEpoch == nil)
    }

    @Test func failedRenewalsHoldUntilTheTrustWindowPasses() {
        var machine = leading()
        #expect(machine.renewal(.failed, at: start.advanced(by: .seconds(1))) == .wait(.milliseconds(500)))
        #expect(machine.leaderEpoch == 7, "still leading inside the trust window")
        #expect(machine.renewal(.failed, at: start.advanced(by: .seconds(3))) == .wait(.milliseconds(500)), "exactly the window")
        #expect(machine.renewal(.failed, at: start.advanced(by: .milliseconds(3001))) == .stepDown(reason: "trust window passed"))
        #expect(machine.leaderEpoch == nil)
        #expect(machine.steppedDown() == .wait(.milliseconds(500)))
        #expect(machine.waited() == .connect)
    }

    @Test func aRenewalAfterFailuresRestartsTheWindow() {
        var machine = leading()
        _ = machine.renewal(.failed, at: start.advanced(by: .seconds(2)))
        _ = machine.renewal(.renewed, at: start.advanced(by: .milliseconds(2500)))
        #expect(machine.renewal(.failed, at: start.advanced(by: .seconds(5))) == .wait(.milliseconds(500)))
        #expect(machine.renewal(.failed, at: start.advanced(by: .milliseconds(5501))) == .stepDown(reason: "trust window passed"))
    }

    @Test func aTakenTermStepsDownAtOnce() {
        var machine = leading()
        #expect(machine.renewal(.termTaken, at: start.advanced(by: .milliseconds(100))) == .stepDown(reason: "term taken"))
        #expect(machine.leaderEpoch == nil)
    }

    @Test func aLostConnectionMeansTheLockIsGone() {
        var machine = leading()
        #expect(machine.connectionLost() == .wait(.milliseconds(500)))
        #expect(machine.leaderEpoch == nil)
        #expect(machine.state == .connecting)
        #expect(machine.waited() == .connect)
        // While following, too.
        _ = machine.connected()
        #expect(machine.connectionLost() == .wait(.milliseconds(500)))
    }

    @Test func stoppingALeaderResignsAnyoneElseIsDone() {
        var leader = leading(9)
        #expect(leader.stop() == .resign(epoch: 9))
        #expect(leader.resigned() == .done)
        #expect(leader.state == .stopped)
        var follower = Machine()
        _ = follower.start()
        _ = follower.connected()
        #expect(follower.stop() == .done)
        // Once stopping, nothing starts again.
        #expect(follower.waited() == .done)
        #expect(follower.connected() == .done)
        var winning = Machine()
        _ = winning.start()
        _ = winning.connected()
        _ = winning.lockResult(won: true)
        _ = winning.stop()
        #expect(winning.termClaimed(epoch: 2, at: start) == .resign(epoch: 2), "a term won while stopping is resigned at once")
    }

    @Test func timingIsValidated() {
        #expect(throws: DocketError.self) {
            try Machine.Configuration(heartbeatInterval: .seconds(3), trustWindow: .seconds(3)).validate()
        }
        #expect(throws: DocketError.self) { try Machine.Configuration(trustWindow: .seconds(10), leaseTTL: .seconds(10)).validate() }
        #expect(throws: Never.self) { try Machine.Configuration().validate() }
    }
}
