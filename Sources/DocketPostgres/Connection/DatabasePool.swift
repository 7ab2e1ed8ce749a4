import DocketCore
import Logging
import PostgresNIO
import ServiceLifecycle
import Synchronization

/// The pooled connections every request uses (a PostgresNIO `PostgresClient`), kept able to recover at once after
/// an outage, as a `Service`.
///
/// PostgresNIO's pool backs off between failed connection attempts, up to a minute, so after a long outage it could
/// take that long to notice the database is back. While calls cannot get a connection, this pool probes the database
/// on a connection of its own every `probeInterval`; when a probe succeeds but calls still cannot get connections, it
/// swaps in a fresh `PostgresClient` (at most once per `resetSpacing`). The probe's verdict is also what `/readyz`
/// answers at once during an outage.
public final class DatabasePool: Service, Sendable {
    public struct Configuration: Sendable {
        public var size = 20
        public var limits = DatabaseLimits()
        public var probeInterval: Duration = .milliseconds(250)
        public var resetSpacing: Duration = .seconds(2)
        /// `application_name` of the pooled connections.
        public var applicationName = "docketd"

        public init() {}
    }

    /// One `PostgresClient` and the signal that retires it.
    final class Generation: Sendable {
        let client: PostgresClient
        let number: Int
        let retired = WakeFlag()
        let started = WakeFlag()

        init(client: PostgresClient, number: Int) {
            self.client = client
            self.number = number
        }
    }

    private struct State {
        var current: Generation
        var next: CheckedContinuation<Generation?, Never>?
        var pending: Generation?
        var stopping = false
        var lastReset: ContinuousClock.Instant?
        var resets = 0
    }

    public let endpoint: DatabaseEndpoint
    public let configuration: Configuration
    let logger: Logger
    public let usage = PoolUsage()
    public let health = DatabaseHealth()
    /// The calls in progress, for the deadline ticker.
    let calls = CallRegistry()
    private let state: Mutex<State>

    public init(endpoint: DatabaseEndpoint, configuration: Configuration = .init(), logger: Logger) {
        self.endpoint = endpoint
        self.configuration = configuration
        self.logger = logger
        let first = Generation(client: Self.makeClient(endpoint, configuration, logger), number: 1)
        state = Mutex(State(current: first, pending: first))
    }

    /// Returns once the current client runs (leases made before it run only after, with a warning in the log).
    public func started() async {
        await state.withLock { $0.current }.started.wait()
    }

    /// The client calls lease connections from now.
    public var client: PostgresClient { state.withLock { $0.current.client } }
    /// How many times the pool was replaced after an outage.
    public var resets: Int { state.withLock { $0.resets } }

    public func run() async {
        // A graceful shutdown and a cancellation (a failing service cancels the group) both stop it: waiting for the
        // next generation ignores cancellation, so cancellation must say stop too.
        await withTaskCancellationHandler {
            await withGracefulShutdownHandler {
                await self.superviseGenerations()
            } onGracefulShutdown: {
                self.stop()
            }
        } onCancel: {
            self.stop()
        }
    }

    /// Runs each generation of the client until it is retired, and the pool's two watchers, until `stop()`.
    private func superviseGenerations() async {
        await withTaskGroup(of: Void.self) { group in
            group.addTask { await self.superviseHealth() }
            group.addTask { await self.expireOverdueCalls() }
            while let generation = await self.nextGeneration() {
                group.addTask {
                    // Runs until retired (replaced) or until shutdown cancels it.
                    await withTaskGroup(of: Void.self) { lifetime in
                        lifetime.addTask { await generation.client.run() }
                        lifetime.addTask {
                            // PostgresClient marks itself running as its run() begins, and nothing tells when that
                            // was: leases wait a moment longer (one taken before logs a warning, though it works).
                            try? await Task.sleep(for: .milliseconds(20))
                            generation.started.fire()
                            await generation.retired.wait()
                        }
                        await lifetime.next()
                        lifetime.cancelAll()
                    }
                }
            }
            group.cancelAll()
        }
    }

    /// Ends `run`: no more generations, the current one retired.
    func stop() {
        let (waiter, current) = state.withLock { state -> (CheckedContinuation<Generation?, Never>?, Generation) in
            state.stopping = true
            defer { state.next = nil }
            return (state.next, state.current)
        }
        waiter?.resume(returning: nil)
        current.retired.fire()
        health.stop()
    }

    private func nextGeneration() async -> Generation? {
        await withCheckedContinuation { continuation in
            let ready = state.withLock { state -> Generation?? in
                if state.stopping { return .some(nil) }
                if let pending = state.pending {
                    state.pending = nil
                    return .some(pending)
                }
                state.next = continuation
                return nil
            }
            if let ready { continuation.resume(returning: ready) }
        }
    }

    /// Replaces the client: calls lease from the new one at once; the old one is shut down, failing its waiters.
    func reset() {
        let (waiter, fresh, old) = state.withLock { state -> (CheckedContinuation<Generation?, Never>?, Generation?, Generation?) in
            let now = ContinuousClock.now
            if state.stopping { return (nil, nil, nil) }
            if let last = state.lastReset, now - last < configuration.resetSpacing { return (nil, nil, nil) }
            state.lastReset = now
            state.resets += 1
            let fresh = Generation(client: Self.makeClient(endpoint, configuration, logger), number: state.current.number + 1)
            let old = state.current
            state.current = fresh
            if let waiter = state.next {
                state.next = nil
                return (waiter, fresh, old)
            }
            state.pending = fresh
            return (nil, nil, old)
        }
        guard let old else { return }
        logger.notice("replaced the database pool after an outage", metadata: ["generation": "\(old.number + 1)"])
        waiter?.resume(returning: fresh)
        old.retired.fire()
    }

    /// Every `tick`, answers the calls whose deadline has passed (one timer for all calls, not one per call).
    private func expireOverdueCalls() async {
        while !state.withLock({ $0.stopping }), !Task.isCancelled {
            try? await Task.sleep(for: .milliseconds(50))
            calls.expireOverdue(at: .now)
        }
    }

    /// While calls cannot get connections, probe the database directly; when it answers, renew the pool.
    private func superviseHealth() async {
        while await health.waitWhileHealthy() {
            let clock = ContinuousClock()
            let started = clock.now
            if await probe() {
                health.probeSucceeded()
                if health.poolIsStuck(quiet: configuration.resetSpacing) { reset() }
            } else {
                health.probeFailed()
            }
            let next = started + configuration.probeInterval
            if clock.now < next { try? await Task.sleep(until: next, clock: clock) }
        }
    }

    /// Whether a fresh connection opens and answers `SELECT 1` within a second.
    func probe() async -> Bool {
        let endpoint = self.endpoint, logger = self.logger
        let answered = try? await Deadline.race(.seconds(1)) {
            try await endpoint.withConnection(logger: logger, connectTimeout: .seconds(1)) { connection in
                try await SessionQueries(connection, logger: logger).ping()
            }
            return true
        }
        return (answered ?? nil) ?? false
    }

    static func makeClient(_ endpoint: DatabaseEndpoint, _ configuration: Configuration, _ logger: Logger) -> PostgresClient {
        var options = endpoint.clientConfiguration
        options.options.maximumConnections = configuration.size
        options.options.connectTimeout = configuration.limits.connectTimeout
        var parameters = [("application_name", configuration.applicationName)]
        let statement = configuration.limits.statementTimeout
        if statement > .zero {
            parameters.append(("statement_timeout", String(Int(statement.inSeconds * 1000))))
        }
        // The server notices a client that went away while its query runs (instead of finishing it), and never
        // keeps a transaction open for a client that stopped talking.
        parameters.append(("client_connection_check_interval", "1000"))
        parameters.append(("idle_in_transaction_session_timeout", "60000"))
        options.options.additionalStartupParameters = parameters
        return PostgresClient(configuration: options, backgroundLogger: logger)
    }
}

/// Whether calls can get database connections now, as seen by the calls themselves and the pool's probes.
public final class DatabaseHealth: Sendable {
    private struct State {
        /// Since when calls have failed to get a connection (nil: the last one got one).
        var failingSince: ContinuousClock.Instant?
        /// When a call last got a connection.
        var lastConnected: ContinuousClock.Instant?
        var lastProbe: (at: ContinuousClock.Instant, ok: Bool)?
        var waiter: CheckedContinuation<Bool, Never>?
        var stopped = false
    }

    private let state = Mutex(State())

    public init() {}

    /// A call got a connection.
    public func connected() {
        state.withLock { state in
            state.failingSince = nil
            state.lastConnected = .now
        }
    }

    /// A call could not get a connection (refused, timed out, the pool's circuit breaker open).
    public func connectionFailed() {
        let waiter = state.withLock { state -> CheckedContinuation<Bool, Never>? in
            if state.failingSince == nil { state.failingSince = .now }
            defer { state.waiter = nil }
            return state.waiter
        }
        waiter?.resume(returning: true)
    }

    public var isFailing: Bool { state.withLock { $0.failingSince != nil } }

    /// Whether the pool itself is stuck: calls fail to get connections and none has got one for `quiet` — not a busy
    /// moment in which one wait ran out while others are served.
    public func poolIsStuck(quiet: Duration) -> Bool {
        state.withLock { state in
            guard state.failingSince != nil else { return false }
            guard let last = state.lastConnected else { return true }
            return ContinuousClock.now - last > quiet
        }
    }

    /// True when calls are failing to get connections and the latest probe (within `freshness`) failed too.
    public func isUnreachable(freshness: Duration = .seconds(1)) -> Bool {
        state.withLock { state in
            guard state.failingSince != nil, let probe = state.lastProbe else { return false }
            if let last = state.lastConnected, ContinuousClock.now - last < freshness { return false }
            return !probe.ok && ContinuousClock.now - probe.at < freshness
        }
    }

    func probeSucceeded() { state.withLock { $0.lastProbe = (.now, true) } }
    func probeFailed() { state.withLock { $0.lastProbe = (.now, false) } }

    /// Waits while calls get connections; true when they stopped getting them, false once stopped.
    func waitWhileHealthy() async -> Bool {
        await withCheckedContinuation { continuation in
            let ready = state.withLock { state -> Bool? in
                if state.stopped { return false }
                if state.failingSince != nil { return true }
                state.waiter = continuation
                return nil
            }
            if let ready { continuation.resume(returning: ready) }
        }
    }

    func stop() {
        let waiter = state.withLock { state -> CheckedContinuation<Bool, Never>? in
            state.stopped = true
            defer { state.waiter = nil }
            return state.waiter
        }
        waiter?.resume(returning: false)
    }
}

/// How many calls hold a pooled connection now (at most the pool size), how many wait for one, and the peaks.
public final class PoolUsage: Sendable {
    private struct State {
        var holding = 0
        var waiting = 0
        var peakHolding = 0
        var peakWaiting = 0
    }

    private let state = Mutex(State())

    public init() {}

    func startWaiting() { state.withLock { $0.waiting += 1; $0.peakWaiting = max($0.peakWaiting, $0.waiting) } }
    func stopWaiting() { state.withLock { $0.waiting -= 1 } }
    func startHolding() { state.withLock { $0.holding += 1; $0.peakHolding = max($0.peakHolding, $0.holding) } }
    func stopHolding() { state.withLock { $0.holding -= 1 } }

    /// Calls holding a connection.
    public var current: Int { state.withLock { $0.holding } }
    public var peak: Int { state.withLock { $0.peakHolding } }
    /// Calls waiting for a connection.
    public var waiting: Int { state.withLock { $0.waiting } }
    public var peakWaiting: Int { state.withLock { $0.peakWaiting } }
}

/// A flag a task can wait on; `fire()` wakes it, now or later (one waiter).
final class WakeFlag: Sendable {
    private let state = Mutex<(fired: Bool, waiter: CheckedContinuation<Void, Never>?)>((false, nil))

    func fire() {
        let waiter = state.withLock { state -> CheckedContinuation<Void, Never>? in
            state.fired = true
            defer { state.waiter = nil }
            return state.waiter
        }
        waiter?.resume()
    }

    func wait() async {
        await withTaskCancellationHandler {
            await withCheckedContinuation { continuation in
                let fired = state.withLock { state -> Bool in
                    if state.fired { return true }
                    state.waiter = continuation
                    return false
                }
                if fired { continuation.resume() }
            }
        } onCancel: {
            fire()
        }
    }
}

extension Database {
    /// Runs `body` with a pool on `endpoint` that lives for the body's duration (commands and tests).
    public static func with<T: Sendable>(
        _ endpoint: DatabaseEndpoint, size: Int = 20, limits: DatabaseLimits = .init(), logger: Logger,
        _ body: (Database) async throws -> T
    ) async throws -> T {
        var configuration = DatabasePool.Configuration()
        configuration.size = size
        configuration.limits = limits
        let pool = DatabasePool(endpoint: endpoint, configuration: configuration, logger: logger)
        return try await withThrowingTaskGroup(of: Void.self) { group in
            group.addTask { await pool.run() }
            defer {
                pool.stop()
                group.cancelAll()
            }
            await pool.started()
            await Task.yield()
            return try await body(Database(pool: pool, logger: logger))
        }
    }
}
