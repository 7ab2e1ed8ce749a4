import DocketBus
import DocketCluster
import DocketCore
import DocketPostgres
import DocketServer
import DocketServices
import Foundation
import Logging
import ServiceLifecycle

/// docketd: every part wired into one service group (docs/architecture.md, "The parts"). The executable reads the
/// settings and runs this; tests can start it in-process.
public struct DocketDaemon: Sendable {
    public static let version = "0.1.0"

    public let settings: DaemonConfiguration
    public let instanceId: String
    let logger: Logger

    public init(settings: DaemonConfiguration, instanceId: String = UUID().uuidString.lowercased(), logger: Logger) {
        self.settings = settings
        self.instanceId = instanceId
        var logger = logger
        logger[metadataKey: "instance"] = "\(instanceId.prefix(8))"
        self.logger = logger
    }

    /// The parts of a running daemon, for tests that watch them.
    public struct Parts: Sendable {
        public let elector: LeaderElector
        public let maintainer: Maintainer
        public let protocolServer: ProtocolServer
        public let health: HealthServer
        public let database: Database
    }

    /// Opens the database (applying migrations), then runs every part until SIGTERM/SIGINT (or cancellation);
    /// `started` is told the parts once they are built. `ownsProcess` (the executable) handles SIGTERM/SIGINT and arms
    /// the `ShutdownDeadline`; a test running the daemon in-process passes false and ends it by cancelling its task.
    public func run(ownsProcess: Bool = true, started: @escaping @Sendable (Parts) -> Void = { _ in }) async throws {
        let dataDirectory = URL(fileURLWithPath: settings.dataDirectory).standardizedFileURL.path
        // On the embedded server, this process is one of its users: the last to leave stops it (docs/operations.md).
        let embedded = try DatabaseTarget.embeddedServer(databaseURL: settings.databaseURL, dataDirectory: dataDirectory)
        try embedded?.join()
        do {
            try await serve(dataDirectory: dataDirectory, ownsProcess: ownsProcess, started: started)
        } catch {
            await leave(embedded)
            throw error
        }
        await leave(embedded)
    }

    private func leave(_ embedded: EmbeddedPostgres?) async {
        guard let embedded else { return }
        do {
            if try await embedded.leave() { logger.info("stopped the embedded PostgreSQL: no docketd uses it any more") }
        } catch {
            logger.warning("cannot stop the embedded PostgreSQL", metadata: ["error": "\(error)"])
        }
    }

    private func serve(dataDirectory: String, ownsProcess: Bool, started: @escaping @Sendable (Parts) -> Void) async throws {
        let endpoint = try await DatabaseTarget.resolve(databaseURL: settings.databaseURL, dataDirectory: dataDirectory, logger: logger)
        try await endpoint.withConnection(logger: logger) { connection in
            let applied = try await MigrationRunner(logger: logger).migrate(on: connection)
            if !applied.isEmpty { logger.info("applied migrations", metadata: ["versions": "\(applied)"]) }
        }

        let pool = DatabasePool(endpoint: endpoint, configuration: poolConfiguration, logger: logger)
        let database = Database(pool: pool, logger: logger)
        let bus = EventWiring(settings: settings, endpoint: endpoint, database: database, instanceId: instanceId, logger: logger)
        let elector = LeaderElector(endpoint: endpoint, instanceId: instanceId, logger: logger) { database.eventCommits.fire() }

        let jobs = JobService(database: database, configuration: jobConfiguration)
        let tasks = TaskService(database: database)
        let keys = APIKeyService(database: database)
        let instanceId = self.instanceId
        let cluster = ClusterService(database: database) {
            ClusterStatus.LocalRole(instanceId: instanceId, leaderEpoch: elector.currentRole.epoch)
        }
        let metrics = ServerMetrics()
        let context = ServerContext(services: Services(jobs: jobs, tasks: tasks, cluster: cluster, keys: keys),
                                    configuration: settings.server, instanceId: instanceId, version: Self.version,
                                    metrics: metrics, logger: logger, bus: bus.eventBus)
        let protocolServer = ProtocolServer(context: context)

        let notifications = NotificationHealth()
        let transport = HTTPCallbackTransport()
        let maintainer = Maintainer(sweeps(jobs: jobs, tasks: tasks, database: database, notifications: notifications,
                                           transport: transport, recurrenceWake: bus.scheduleChanged,
                                           intakeWake: bus.eventBus == nil ? nil : bus.listener.intake),
                                    elector: elector, database: database, logger: logger)
        let sampler = DaemonMetrics(registry: metrics.registry, pool: pool, server: protocolServer, elector: elector,
                                    maintainer: maintainer, bus: bus, jobs: jobs)
        let health = HealthServer(host: settings.httpHost, port: settings.httpPort, metrics: metrics, logger: logger,
                                  maxConnections: settings.httpMaxConnections, sample: { await sampler.sample() }) {
            await Self.readiness(pool: pool, database: database, notifications: notifications, logger: logger)
        }
        let registry = InstanceRegistry(database: database, instanceId: instanceId, version: Self.version, elector: elector) {
            let address = try await protocolServer.boundAddress()
            let http = try await health.waitUntilBound()
            return (Announcer.text(address), Announcer.text(http))
        }
        let announcer = Announcer(server: protocolServer, health: health, database: database, keys: keys, endpoint: endpoint,
                                  dataDirectory: dataDirectory, logger: logger)
        // A socket bound here that no run() took (a failed bind, a group cancelled early) is closed on the way out.
        defer {
            protocolServer.closeUnserved()
            health.closeUnserved()
        }
        // Both listeners bind before any part starts: a taken port ends docketd here, with nothing yet to cancel.
        do {
            try await protocolServer.bind()
            try await health.bind()
        } catch {
            await transport.shutdown()
            throw error
        }
        started(Parts(elector: elector, maintainer: maintainer, protocolServer: protocolServer, health: health, database: database))

        // Order matters: services shut down in reverse, so the pool (first) goes last, and the elector (almost last) is
        // among the first to hear of a graceful shutdown: a leader resigns before anything else stops.
        var services: [ServiceGroupConfiguration.ServiceConfiguration] = [.init(service: pool)]
        services += bus.services
        services += [
            .init(service: protocolServer, successTerminationBehavior: .gracefullyShutdownGroup),
            .init(service: health),
            .init(service: announcer),
            .init(service: registry),
            .init(service: maintainer),
            .init(service: elector),
        ]
        if ownsProcess {
            // Last of all, so it hears of a graceful shutdown first and bounds the whole of it.
            let limit = Duration.milliseconds(Int(settings.shutdownGraceSeconds * 1000)) + ShutdownDeadline.hardLimit
            services.append(.init(service: ShutdownDeadline(limit: limit, logger: logger), successTerminationBehavior: .ignore))
        }
        var group = ServiceGroupConfiguration(services: services, gracefulShutdownSignals: ownsProcess ? [.sigterm, .sigint] : [],
                                              cancellationSignals: [], logger: logger)
        // A service stuck in its shutdown cannot keep the process alive: past the grace it is cancelled, and past a
        // few more seconds the group gives up on it (ShutdownDeadline is the floor under that).
        group.maximumGracefulShutdownDuration = .milliseconds(Int(settings.shutdownGraceSeconds * 1000))
        group.maximumCancellationDuration = .seconds(5)
        do {
            try await ServiceGroup(configuration: group).run()
        } catch {
            await transport.shutdown()
            throw error
        }
        await transport.shutdown()
    }

    private var poolConfiguration: DatabasePool.Configuration {
        var configuration = DatabasePool.Configuration()
        configuration.size = settings.poolSize
        configuration.limits = settings.databaseLimits
        configuration.applicationName = "docketd-\(instanceId.prefix(8))"
        return configuration
    }

    private var jobConfiguration: JobService.Configuration {
        var configuration = JobService.Configuration()
        configuration.cancelGraceSeconds = settings.cancelGraceSeconds
        configuration.instanceId = instanceId
        configuration.groupCommit = settings.groupCommit
        return configuration
    }

    /// The leader's sweeps, as configured.
    private func sweeps(jobs: JobService, tasks: TaskService, database: Database, notifications: NotificationHealth,
                        transport: HTTPCallbackTransport, recurrenceWake: WakeSignal?, intakeWake: WakeSignal?) -> [any MaintenanceSweep] {
        var recurrence = RecurrenceSweep.Configuration()
        recurrence.maximumRest = recurrenceWake == nil ? .milliseconds(250) : .seconds(2)
        var callbacks = CallbackSweep.Configuration()
        callbacks.attempts = settings.callbackAttempts
        callbacks.timeout = .milliseconds(Int(settings.callbackTimeoutSeconds * 1000))
        callbacks.degradedAfter = settings.callbackDegradedAfter
        callbacks.refusePrivateAddresses = settings.callbackRefusePrivate
        callbacks.userAgent = "docketd/\(Self.version)"
        var intake = IntakeSweep.Configuration()
        intake.interval = intakeWake == nil ? .milliseconds(250) : .seconds(1)
        var sweeps: [any MaintenanceSweep] = [
            TimeoutSweep(jobs: jobs, tasks: tasks, database: database),
            RetrySweep(jobs: jobs, database: database),
            RecurrenceSweep(jobs: jobs, database: database, configuration: recurrence, wake: recurrenceWake),
            CallbackSweep(database: database, transport: transport, health: notifications, configuration: callbacks),
            IntakeSweep(jobs: jobs, wake: intakeWake, configuration: intake),
        ]
        var retention = RetentionSweep.Configuration()
        retention.age = settings.retentionSeconds.map { .milliseconds(Int($0 * 1000)) }
        retention.jobAges = settings.jobRetentionSeconds.mapValues { .milliseconds(Int($0 * 1000)) }
        if retention.age != nil || !retention.jobAges.isEmpty {
            sweeps.append(RetentionSweep(database: database, configuration: retention))
        }
        return sweeps
    }

    /// `/readyz`: during an outage the pool's own probe knows at once; otherwise a query, answered within a second.
    static func readiness(pool: DatabasePool, database: Database, notifications: NotificationHealth,
                          logger: Logger) async -> (ready: Bool, detail: String) {
        if pool.health.isUnreachable() { return (false, "database unreachable") }
        do {
            try await Deadline.run(.milliseconds(800), "the readiness query") {
                try await database.read { try await SessionQueries($0, logger: logger).ping() }
            }
        } catch {
            return (false, "database unavailable: \(Database.classify(error).message)")
        }
        // Degraded notifications do not take the instance out of service: it still serves every request.
        guard notifications.isDegraded else { return (true, "ready") }
        return (true, "ready; notifications degraded: \(notifications.consecutiveFailures) callback attempts failed in a row")
    }
}
