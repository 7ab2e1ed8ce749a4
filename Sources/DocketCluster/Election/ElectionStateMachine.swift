import DocketCore

/// The decisions of the leader election (docs/cluster.md, "Leader election"), as pure data.
///
/// The elector tells it what happened — the lock connection opened or was lost, the lock was or was not won, what the
/// leadership row says, whether a renewal went through — and carries out the `Action` it answers with. Time comes in
/// as `Instant`s, so tests drive every transition with a clock of their own.
///
/// ```
///            connect ──▶ following ──tryLock won──▶ claiming ──term claimed──▶ leading ──renew ok──┐
///               ▲           │  ▲ lost: read the row,                             │  ▲             │
///               │           │  └ frozen holder? terminate it                     │  └─────────────┘
///  connection lost / step down ◀─────────── term taken, or no renewal for the trust window
///                                     stop: a leader resigns (and unlocks); anyone else is done
/// ```
public struct ElectionStateMachine<Instant: InstantProtocol>: Sendable where Instant.Duration == Duration {
    public struct Configuration: Sendable {
        public var electionInterval: Duration
        public var heartbeatInterval: Duration
        public var trustWindow: Duration
        public var leaseTTL: Duration

        public init(electionInterval: Duration = .milliseconds(500), heartbeatInterval: Duration = .milliseconds(500),
                    trustWindow: Duration = .seconds(3), leaseTTL: Duration = .seconds(10)) {
            self.electionInterval = electionInterval
            self.heartbeatInterval = heartbeatInterval
            self.trustWindow = trustWindow
            self.leaseTTL = leaseTTL
        }

        public func validate() throws(DocketError) {
            guard heartbeatInterval < trustWindow else {
                throw .validation(field: "heartbeat_interval", "must be shorter than the trust window")
            }
            guard trustWindow < leaseTTL else { throw .validation(field: "trust_window", "must be shorter than the lease TTL") }
        }
    }

    public enum State: Sendable, Equatable {
        /// No lock connection: opening one.
        case connecting
        /// Connected, not leading: trying the lock every election interval.
        case following
        /// The lock is ours: bumping the epoch.
        case claiming
        /// Leading `epoch`; the last renewal that went through was at `confirmed`.
        case leading(epoch: Int64, confirmed: Instant)
        case stopped
    }

    public enum Action: Sendable, Equatable {
        /// Open the lock connection (with server-side keepalives).
        case connect
        /// `pg_try_advisory_lock` on the lock connection.
        case tryLock
        /// Read the leadership row: is the holder alive?
        case readLeadership
        /// The holder's heartbeat is older than the lease TTL: terminate its lock backend.
        case terminateHolder(pid: Int32)
        /// Bump the epoch and record `cluster.leader_elected`, on the lock connection.
        case claimTerm
        /// Renew the term's heartbeat (with a deadline).
        case renew(epoch: Int64)
        /// Close the lock connection at once: the lock goes with it.
        case stepDown(reason: String)
        /// Graceful: end the term and unlock, so a follower takes over at its next try.
        case resign(epoch: Int64)
        /// Rest, then report `waited`.
        case wait(Duration)
        /// Nothing more: the elector returns.
        case done
    }

    /// What a renewal attempt came to.
    public enum Renewal: Sendable, Equatable {
        case renewed
        /// The row names another term: someone took over.
        case termTaken
        /// It did not go through in time (or failed): leadership holds while the trust window lasts.
        case failed
    }

    public let configuration: Configuration
    public private(set) var state: State = .connecting
    private var stopping = false

    public init(configuration: Configuration = .init()) { self.configuration = configuration }

    /// The role this instance has now: leading in an epoch, or not.
    public var leaderEpoch: Int64? {
        if case .leading(let epoch, _) = state { return epoch }
        return nil
    }

    public mutating func start() -> Action { stopping ? finish() : .connect }

    public mutating func connected() -> Action {
        guard !stopping else { return finish() }
        state = .following
        return .tryLock
    }

    /// The lock connection failed or closed (a query past its deadline closes it): the lock, if held, is gone too.
    public mutating func connectionLost() -> Action {
        state = .connecting
        return stopping ? finish() : .wait(configuration.electionInterval)
    }

    public mutating func lockResult(won: Bool) -> Action {
        guard !stopping else { return finish() }
        guard case .following = state else { return .wait(configuration.electionInterval) }
        if won {
            state = .claiming
            return .claimTerm
        }
        return .readLeadership
    }

    /// The leadership row as read after a lost try: a holder silent past the lease TTL is frozen.
    public mutating func leadershipRead(heartbeatAge: Duration?, holderPid: Int32?) -> Action {
        guard !stopping else { return finish() }
        if let heartbeatAge, heartbeatAge > configuration.leaseTTL, let holderPid { return .terminateHolder(pid: holderPid) }
        return .wait(configuration.electionInterval)
    }

    public mutating func holderTerminated() -> Action { stopping ? finish() : .wait(configuration.electionInterval) }

    public mutating func termClaimed(epoch: Int64, at now: Instant) -> Action {
        state = .leading(epoch: epoch, confirmed: now)
        return stopping ? finish() : .wait(configuration.heartbeatInterval)
    }

    public mutating func renewal(_ outcome: Renewal, at now: Instant) -> Action {
        guard case .leading(let epoch, let confirmed) = state else { return .wait(configuration.electionInterval) }
        switch outcome {
        case .renewed:
            state = .leading(epoch: epoch, confirmed: now)
        case .termTaken:
            return stepDown("term taken")
        case .failed:
            if confirmed.duration(to: now) > configuration.trustWindow { return stepDown("trust window passed") }
        }
        return stopping ? finish() : .wait(configuration.heartbeatInterval)
    }

    /// A rest ended.
    public mutating func waited() -> Action {
        guard !stopping else { return finish() }
        switch state {
        case .connecting: return .connect
        case .following: return .tryLock
        case .leading(let epoch, _): return .renew(epoch: epoch)
        case .claiming: return .claimTerm
        case .stopped: return .done
        }
    }

    /// The lock connection was closed to step down.
    public mutating func steppedDown() -> Action {
        state = .connecting
        return stopping ? finish() : .wait(configuration.electionInterval)
    }

    /// Graceful shutdown: a leader resigns first; anyone else is done at once.
    public mutating func stop() -> Action {
        stopping = true
        return finish()
    }

    /// The resignation went through (or could not): done.
    public mutating func resigned() -> Action {
        state = .stopped
        return .done
    }

    private mutating func stepDown(_ reason: String) -> Action {
        state = .connecting
        return .stepDown(reason: reason)
    }

    private mutating func finish() -> Action {
        if case .leading(let epoch, _) = state { return .resign(epoch: epoch) }
        state = .stopped
        return .done
    }
}
