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
/// up: reads the horizon (`docket.events_horizon()`, below which no event can still commit), then the events above
/// its position up to the horizon. A lower `seq` whose transaction is still open holds the horizon below it, so
/// nothing is skipped when seqs commit out of order; the hub ignores anything at or below its position, so nothing is
/// delivered twice. Every query has a deadline (a frozen server is detected by nothing else), and a lost connection
/// is replaced with backoff, then caught up from the table.
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
            while !self.isStopping {
                var opened: PostgresConnection?
                do {
                    let connection = try await self.endpoint.connect(logger: self.logger)
                    opened = connection
                    if !first { self.stats.withLock { $0.reconnects += 1 } }
                    first = false
                    try await self.session(connection)
                } catch {
                    if !self.isStopping {
                        self.logger.warning("event listener connection lost", metadata: ["error": "\(DatabaseEndpoint.reason(error))"])
                    }
                }
                self.stats.withLock { $0.connected = false }
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

    private var isStopping: Bool { stopping.withLock { $0 } }

    /// One life of the listener connection: LISTEN, then catch up after every wake-up until stopped or closed.
    private func session(_ connection: PostgresConnection) async throws {
        let logger = self.logger
        let name = configuration.applicationName
        guard try await connection.withDeadline(configuration.queryDeadline, {
            try await SessionQueries(connection, logger: logger).setApplicationName(name)
        }) != nil else { throw DocketError(.unavailable, "the listener connection timed out") }
        try await connection.listen(on: EventQueries.channel) { notifications in
            let wake = self.wake
            let forwarder = Task {
                do { for try await _ in notifications { wake.fire() } } catch {}
                wake.fire()  // the connection ended: let the loop notice at once
            }
            defer { forwarder.cancel() }
            self.stats.withLock { $0.connected = true }
            var gap: (seq: Int64, since: ContinuousClock.Instant)?
            let clock = ContinuousClock()
            while !self.isStopping {
                guard !connection.isClosed else { throw DocketError(.unavailable, "the listener connection closed") }
                let began = clock.now
                try await self.catchUp(connection, gap: &gap)
                await self.wake.wait(upTo: self.configuration.poll)
                // At most one catch-up per spacing: a wake-up right after a catch-up waits for the rest of it (and
                // gathers the commits that come meanwhile); one after a quiet spell is served at once.
                let next = began + self.configuration.spacing
                if clock.now < next { try? await Task.sleep(until: next, clock: clock) }
            }
        }
    }

    /// Publishes every event above the hub's position that can no longer be preceded by a later commit.
    ///
    /// Fast path: the events right after the position with no gap in their seqs are final (every lower seq is
    /// accounted for), so they are published without asking for the horizon. A gap means a lower seq is in flight or
    /// was rolled back; the next commit's wake-up usually fills it. A gap still there after `gapPatience` is resolved
    /// with the horizon (`docket.events_horizon()`, which reads pg_locks and so is kept off the hot path): read the
    /// horizon first, then the events up to it in a later statement.
    private func catchUp(_ connection: PostgresConnection, gap: inout (seq: Int64, since: ContinuousClock.Instant)?) async throws {
        let queries = EventQueries(connection, logger: logger)
        let batch = configuration.batch
        let deadline = configuration.queryDeadline
        stats.withLock { $0.catchUps += 1 }
        guard let start = hub.position else {
            guard let horizon = try await connection.withDeadline(deadline, { try await queries.horizon() }) else {
                throw DocketError(.unavailable, "the event horizon query timed out")
            }
            hub.start(at: horizon)
            return
        }
        var position = start
        while true {
            let after = position
            guard let events = try await connection.withDeadline(deadline, {
                try await queries.list(afterSeq: after, throughSeq: Int64.max, limit: batch)
            }) else { throw DocketError(.unavailable, "the event catch-up query timed out") }
            var contiguous = 0
            for event in events {
                guard event.seq == position + 1 + Int64(contiguous) else { break }
                contiguous += 1
            }
            publish(Array(events.prefix(contiguous)))
            position = hub.position ?? position
            if contiguous == events.count {
                gap = nil
                if events.count < batch { return }
                continue
            }
            // A gap at position + 1: wait for it to fill, unless it has been there too long.
            let clock = ContinuousClock()
            guard let open = gap, open.seq == position + 1 else {
                gap = (position + 1, clock.now)
                return
            }
            guard clock.now - open.since >= configuration.gapPatience else { return }
            guard let horizon = try await connection.withDeadline(deadline, { try await queries.horizon() }) else {
                throw DocketError(.unavailable, "the event horizon query timed out")
            }
            guard horizon > position else { return }
            let settledAfter = position
            guard let settled = try await connection.withDeadline(deadline, {
                try await queries.list(afterSeq: settledAfter, throughSeq: horizon, limit: batch)
            }) else { throw DocketError(.unavailable, "the event catch-up query timed out") }
            publish(settled)
            if settled.count < batch { hub.advance(to: horizon) }
            gap = nil
            position = hub.position ?? position
            stats.withLock { $0.horizonReads += 1 }
        }
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
