/// The bus listener's catch-up decisions (docs/cluster.md, "The event bus"), as pure data.
///
/// The listener begins a catch-up after every wake-up, tells the machine what each read returned (the seqs of the
/// events, in order, or the horizon) and carries out the `Action` it answers with; each answer also says how many of
/// the events just read to publish and where the hub's position moves. Time comes in as `Instant`s, so tests drive
/// every decision with a clock of their own.
///
/// ```
///  begin ─ no position yet ─▶ read the horizon ─▶ position = horizon, done
///    │
///    └──▶ read events after the position ─┬─ gap-free and short ─▶ publish them all, done
///              ▲                           ├─ gap-free, a full batch ─▶ publish them all, read on ─┐
///              └───────────────────────────┼───────────────────────────────────────────────────────┘
///                                          └─ a gap at position + 1 ─▶ publish the run before it, then
///                                               new gap, or younger than the patience ─▶ hold back, done
///                                               older ─▶ read the horizon ─┬─ not past the position ─▶ done
///                                                                          └─ past it ─▶ read events through it,
///                                                                               publish them all, position = horizon
/// ```
///
/// A gap is a seq missing right after the position: a transaction that took it is still open (it fills at commit,
/// and its wake-up usually arrives first) or rolled back (it never fills). The horizon (`docket.events_horizon()`,
/// below which nothing can still commit) settles it, and is read only then, never on the hot path.
public struct CatchUpStateMachine<Instant: InstantProtocol>: Sendable where Instant.Duration == Duration, Instant: Sendable {
    public struct Configuration: Sendable {
        /// Events per read.
        public var batch: Int
        /// How long a gap may stay before the horizon is read to settle it.
        public var gapPatience: Duration

        public init(batch: Int = 500, gapPatience: Duration = .milliseconds(50)) {
            self.batch = batch
            self.gapPatience = gapPatience
        }
    }

    public enum Action: Sendable, Equatable {
        /// Read `docket.events_horizon()`; answer with `horizonRead(_:at:)`.
        case readHorizon
        /// Read up to a batch of events with `after < seq <= through`, in seq order; answer with `eventsRead(_:at:)`.
        case readEvents(after: Int64, through: Int64)
        /// This catch-up is over: wait for the next wake-up.
        case finish
    }

    /// What to do with the events just read, and what next.
    public struct Step: Sendable, Equatable {
        /// Publish this many of the events just read, from the first.
        public var publish: Int
        /// The hub's position after this step (moved past the published events, or to a horizon), when it moved.
        public var position: Int64?
        public var next: Action

        public init(publish: Int = 0, position: Int64? = nil, next: Action) {
            self.publish = publish
            self.position = position
            self.next = next
        }
    }

    private enum Phase: Sendable, Equatable {
        case idle
        /// Reading the horizon the hub starts at.
        case starting
        /// Reading the events after the position, publishing the gap-free run.
        case reading
        /// Reading the horizon to settle the gap.
        case readingHorizon
        /// Reading the events up to `horizon`: everything there is final.
        case settling(horizon: Int64)
    }

    public let configuration: Configuration
    /// The seq of the last event published (or passed over at a horizon); nil until the first horizon is read.
    public private(set) var position: Int64?
    /// The gap at `position + 1` and when it was first seen.
    public private(set) var gap: (seq: Int64, since: Instant)?
    /// Catch-ups that had to read the horizon to settle a gap.
    public private(set) var horizonReads = 0
    private var phase = Phase.idle

    public init(position: Int64? = nil, configuration: Configuration = .init()) {
        self.position = position
        self.configuration = configuration
    }

    /// A wake-up: start a catch-up.
    public mutating func begin() -> Action {
        guard let position else {
            phase = .starting
            return .readHorizon
        }
        phase = .reading
        return .readEvents(after: position, through: .max)
    }

    /// The listener connection was lost mid-catch-up: the next one begins afresh (the position and gap stay).
    public mutating func interrupted() { phase = .idle }

    /// The seqs of the events the last `readEvents` returned, in order.
    public mutating func eventsRead(_ seqs: [Int64], at now: Instant) -> Step {
        switch phase {
        case .reading:
            return read(seqs, at: now)
        case .settling(let horizon):
            // Everything up to the horizon is final: publish it all, rolled-back seqs and all.
            if seqs.count >= configuration.batch, let last = seqs.last {
                position = last
                return Step(publish: seqs.count, position: last, next: .readEvents(after: last, through: horizon))
            }
            position = horizon
            gap = nil
            phase = .reading
            return Step(publish: seqs.count, position: horizon, next: .readEvents(after: horizon, through: .max))
        case .idle, .starting, .readingHorizon:
            preconditionFailure("events read while \(phase)")
        }
    }

    /// The horizon the last `readHorizon` returned.
    public mutating func horizonRead(_ horizon: Int64, at now: Instant) -> Step {
        switch phase {
        case .starting:
            position = horizon
            phase = .idle
            return Step(position: horizon, next: .finish)
        case .readingHorizon:
            guard let position, horizon > position else {
                // The missing seq is still in flight: the gap stays, and the next catch-up asks again.
                phase = .idle
                return Step(next: .finish)
            }
            horizonReads += 1
            phase = .settling(horizon: horizon)
            return Step(next: .readEvents(after: position, through: horizon))
        case .idle, .reading, .settling:
            preconditionFailure("horizon read while \(phase)")
        }
    }

    /// The fast path: publish the run of seqs that follows the position with no gap.
    private mutating func read(_ seqs: [Int64], at now: Instant) -> Step {
        guard let start = position else { preconditionFailure("reading without a position") }
        var run = 0
        while run < seqs.count, seqs[run] == start + 1 + Int64(run) { run += 1 }
        let moved: Int64? = run > 0 ? seqs[run - 1] : nil
        if let moved { position = moved }
        let here = position ?? start
        if run == seqs.count {
            gap = nil
            guard seqs.count >= configuration.batch else {
                phase = .idle
                return Step(publish: run, position: moved, next: .finish)
            }
            return Step(publish: run, position: moved, next: .readEvents(after: here, through: .max))
        }
        // A gap at here + 1: hold back what follows it until it fills, or has been there longer than the patience.
        guard let open = gap, open.seq == here + 1 else {
            gap = (here + 1, now)
            phase = .idle
            return Step(publish: run, position: moved, next: .finish)
        }
        guard open.since.duration(to: now) >= configuration.gapPatience else {
            phase = .idle
            return Step(publish: run, position: moved, next: .finish)
        }
        phase = .readingHorizon
        return Step(publish: run, position: moved, next: .readHorizon)
    }
}
