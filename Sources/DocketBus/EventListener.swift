import DocketCore
import DocketPostgres
import Logging
import PostgresNIO
import ServiceLifecycle
import Synchronization

/// Reads committed events from `docket.events` in `seq` order and publishes them to the hub (SPEC 4.4).
///
/// One dedicated connection (outside the pool, so a busy pool never delays delivery) LISTENs on the wake-up channel.
/// After every wake-up — a NOTIFY from any instance, a local commit, a reconnect, or the periodic poll — it catches
/// up, at most once per `spacing`: it reads the events above its position and publishes the run that follows it with
/// no gap in the seqs. A gap (a lower seq whose transaction is still open, or rolled back) holds back what follows it;
/// one still there after `gapPatience` is settled with the horizon (`docket.events_horizon()`, below which no event
/// can still commit), which is read only then. So nothing is skipped when seqs commit out of order, and the hub
/// ignores anything at or below its position, so nothing is delivered twice. What to read and publish when is
/// `CatchUpStateMachine`'s to decide; this carries it out. Every query has a deadline (a frozen server is detected by
/// nothing else), and a lost connection is replaced with backoff, then caught up from the table.
public final class EventListener: Service, Sendable {
    public struct Configuration: Sendable {
        /// Catch up at least this often, even without a wake-up (a commit whose NOTIFY was lost in a crash).
        public var poll: Duration = .seconds(1)
        /// Least time between two catch-ups: under a steady write load, wake-ups coalesce into one read per spacing
        /// instead of one per commit (the bus's cost on the write path; docs/performance.md).
        public var spacing: Duration = .milliseconds(5)
        /// How long a gap in the seqs may stay before the horizon is read to settle it (a rolled-back seq leaves one
        /// for good; one still in flight fills at its commit).
        public var gapPatience: Duration = .milliseconds(50)
        public var batch = 500
        public var queryDeadline: Duration = .seconds(5)
        public var maximumReconnectDelay: Duration = .seconds(2)
        public var applicationName = "docket-listener"

        public init() {}
    }

    public struct Statistics: Sendable {
        public var connected = false
        public var reconnects = 0
        public var catchUps = 0
        public var delivered = 0
        public var droppedSubscribers = 0
        /// Catch-ups that had to read the horizon to settle a gap.
        public var horizonReads = 0
    }

    let endpoint: DatabaseEndpoint
    public let hub: EventHub
    /// Fire to make the listener catch up now (local commits do).
    public let wake = WakeSignal()
    /// Fired when `docket.enqueue()` committed a request (the intake sweep rests on it).
    public let intake = WakeSignal()
    let configuration: Configuration
    let logger: Logger
    private let stopping = Mutex(false)
    private let stats = Mutex(Statistics())

    public init(endpoint: DatabaseEndpoint, hub: EventHub, configuration: Configuration = .init(), logger: Logger) {
        self.endpoint = endpoint
        self.hub = hub
        self.configuration = configuration
        self.logger = logger
    }

    public var statistics: Statistics { stats.withLock { $0 } }

    public func run() async throws {
        await withGracefulShutdownHandler {
            var delay: Duration = .milliseconds(100)
            var first = true
            var machine = CatchUpStateMachine<ContinuousClock.Instant>(
                configuration: .init(batch: self.configuration.batch, gapPatience: self.configuration.gapPatience))
            while !self.isStopping {
                var opened: PostgresConnection?
                do {
                    let connection = try await self.endpoint.connect(logger: self.logger)
                    opened = connection
                    if !first { self.stats.withLock { $0.reconnects += 1 } }
                    first = false
                    try await self.session(connection, &machine)
                } catch {
                    if !self.isStopping {
                        self.logger.warning("event listener connection lost", metadata: ["error": "\(DatabaseEndpoint.reason(error))"])
                    }
                }
                self.stats.withLock { $0.connected = false }
                machine.interrupted()
                if let opened { try? await opened.close() }
                if opened != nil { delay = .milliseconds(100) }
                guard !self.isStopping else { break }
                try? await Task.sleep(for: delay)
                delay = min(delay * 2, self.configuration.maximumReconnectDelay)
            }
            self.hub.closeAll()
        } onGracefulShutdown: {
            self.stop()
        }
    }

    /// Ends `run` after the current catch-up (graceful shutdown does this).
    public func stop() {
        stopping.withLock { $0 = true }
        wake.fire()
    }

    /// Stopped by `stop()` (a graceful shutdown), or cancelled: every wait returns at once then, so a loop that
    /// went on would spin.
    private var isStopping: Bool { stopping.withLock { $0 } || Task.isCancelled }

    /// One life of the listener connection: LISTEN, then catch up after every wake-up until stopped or closed.
    private func session(_ connection: PostgresConnection, _ machine: inout CatchUpStateMachine<ContinuousClock.Instant>) async throws {
        let logger = self.logger
        let name = configuration.applicationName
        guard try await connection.withDeadline(configuration.queryDeadline, {
            try await SessionQueries(connection, logger: logger).setApplicationName(name)
        }) != nil else { throw DocketError(.unavailable, "the listener connection timed out") }
        try await connection.listen(on: EventQueries.channel) { notifications in
            let wake = self.wake, intake = self.intake
            let forwarder = Task {
                do {
                    for try await notification in notifications {
                        // `docket.enqueue()` commits a request, not an event: it wakes the leader's intake instead.
                        if notification.payload == EventQueries.intakePayload { intake.fire() } else { wake.fire() }
                    }
                } catch {}
                wake.fire()  // the connection ended: let the loop notice at once
            }
            defer { forwarder.cancel() }
            self.stats.withLock { $0.connected = true }
            let clock = ContinuousClock()
            while !self.isStopping {
                guard !connection.isClosed else { throw DocketError(.unavailable, "the listener connection closed") }
                let began = clock.now
                try await self.catchUp(connection, &machine)
                await self.wake.wait(upTo: self.configuration.poll)
                // At most one catch-up per spacing: a wake-up right after a catch-up waits for the rest of it (and
                // gathers the commits that come meanwhile); one after a quiet spell is served at once.
                let next = began + self.configuration.spacing
                if clock.now < next { try? await Task.sleep(until: next, clock: clock) }
            }
        }
    }

    /// One catch-up: the machine's reads, carried out under deadlines, and its publications.
    private func catchUp(_ connection: PostgresConnection, _ machine: inout CatchUpStateMachine<ContinuousClock.Instant>) async throws {
        let queries = EventQueries(connection, logger: logger)
        let deadline = configuration.queryDeadline, batch = configuration.batch
        stats.withLock { $0.catchUps += 1 }
        var action = machine.begin()
        while true {
            let step: CatchUpStateMachine<ContinuousClock.Instant>.Step
            switch action {
            case .finish:
                stats.withLock { $0.horizonReads = machine.horizonReads }
                return
            case .readHorizon:
                guard let horizon = try await connection.withDeadline(deadline, { try await queries.horizon() }) else {
                    throw DocketError(.unavailable, "the event horizon query timed out")
                }
                step = machine.horizonRead(horizon, at: .now)
                publish([], step)
            case .readEvents(let after, let through):
                guard let events = try await connection.withDeadline(deadline, {
                    try await queries.list(afterSeq: after, throughSeq: through, limit: batch)
                }) else { throw DocketError(.unavailable, "the event catch-up query timed out") }
                step = machine.eventsRead(events.map(\.seq), at: .now)
                publish(events, step)
            }
            action = step.next
        }
    }

    /// Publishes the step's share of `events` and moves the hub to the step's position.
    private func publish(_ events: [Event], _ step: CatchUpStateMachine<ContinuousClock.Instant>.Step) {
        publish(Array(events.prefix(step.publish)))
        guard let position = step.position else { return }
        hub.start(at: position)  // the first horizon; ignored once started
        hub.advance(to: position)
    }

    private func publish(_ events: [Event]) {
        guard !events.isEmpty else { return }
        let dropped = hub.publish(events)
        stats.withLock {
            $0.delivered += events.count
            $0.droppedSubscribers += dropped
        }
    }
}
