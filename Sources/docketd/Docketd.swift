import ArgumentParser
import DocketBus
import DocketCluster
import DocketCore
import DocketPostgres
import DocketServer
import DocketServices
import Foundation
import Logging
import PostgresNIO
import ServiceLifecycle

/// docketd: serves the Docket protocol on a shared PostgreSQL (docs/configuration.md lists every setting).
@main
struct Docketd: AsyncParsableCommand {
    static let version = "0.1.0"
    static let configuration = CommandConfiguration(
        commandName: "docketd", abstract: "The Docket server.", version: version)

    @Option(help: "Config file of `setting = value` lines (env DOCKET_CONFIG).") var config: String?
    @Option(help: "Protocol address host:port (env DOCKET_LISTEN, default 127.0.0.1:7420).") var listen: String?
    @Option(help: "Health and metrics address host:port (env DOCKET_HTTP, default 127.0.0.1:7421).") var http: String?
    @Option(help: "PostgreSQL URL (env DOCKET_DATABASE_URL); without one, the embedded server.") var databaseURL: String?
    @Option(help: "Data folder (env DOCKET_DATA_DIR, default .docket).") var dataDir: String?
    @Option(help: "Longest request line in bytes (env DOCKET_MAX_LINE_BYTES).") var maxLineBytes: String?
    @Option(help: "Most open connections (env DOCKET_MAX_CONNECTIONS).") var maxConnections: String?
    @Option(help: "Requests in progress per connection (env DOCKET_MAX_IN_FLIGHT).") var maxInFlight: String?
    @Option(help: "Seconds to authenticate (env DOCKET_AUTH_DEADLINE).") var authDeadline: String?
    @Option(help: "Seconds before an idle connection closes (env DOCKET_IDLE_TIMEOUT).") var idleTimeout: String?
    @Option(help: "Failed auths before disconnect (env DOCKET_MAX_FAILED_AUTHS).") var maxFailedAuths: String?
    @Option(help: "Unauthenticated connections at most; past it the oldest is closed (env DOCKET_MAX_UNAUTHENTICATED).") var maxUnauthenticated: String?
    @Option(help: "Unsent response bytes per connection before it is no longer read (env DOCKET_MAX_OUTPUT_BYTES).") var maxOutputBytes: String?
    @Option(help: "Database connections at most (env DOCKET_POOL_SIZE).") var poolSize: String?
    @Option(help: "Seconds a request waits for a database connection (env DOCKET_ACQUIRE_TIMEOUT).") var acquireTimeout: String?
    @Option(help: "Seconds a request's database work may take (env DOCKET_REQUEST_TIMEOUT).") var requestTimeout: String?
    @Option(help: "PostgreSQL statement_timeout in seconds, 0 for the server's (env DOCKET_STATEMENT_TIMEOUT).") var statementTimeout: String?
    @Option(help: "Open HTTP connections at most (env DOCKET_HTTP_MAX_CONNECTIONS).") var httpMaxConnections: String?
    @Option(help: "Seconds a graceful cancel waits (env DOCKET_CANCEL_GRACE).") var cancelGrace: String?
    @Option(help: "Seconds to drain on SIGTERM (env DOCKET_SHUTDOWN_GRACE).") var shutdownGrace: String?
    @Option(help: "Event bus on or off (env DOCKET_BUS, default on).") var bus: String?
    @Option(help: "Events queued per subscriber before it is dropped (env DOCKET_SUBSCRIBER_BUFFER).") var subscriberBuffer: String?
    @Option(help: "Subscriptions per connection (env DOCKET_MAX_SUBSCRIPTIONS).") var maxSubscriptions: String?
    @Option(help: "Callback attempts before job.callback_failed (env DOCKET_CALLBACK_ATTEMPTS).") var callbackAttempts: String?
    @Option(help: "Seconds a callback request may take (env DOCKET_CALLBACK_TIMEOUT).") var callbackTimeout: String?
    @Option(help: "Failed callbacks in a row before /readyz reports degraded (env DOCKET_CALLBACK_DEGRADED_AFTER).") var callbackDegradedAfter: String?
    @Option(help: "Refuse callbacks to private addresses: true or false (env DOCKET_CALLBACK_REFUSE_PRIVATE).") var callbackRefusePrivate: String?
    @Option(help: "Age after which events and runs are deleted, e.g. 30d; off keeps them (env DOCKET_RETENTION).") var retention: String?
    @Option(help: "Log level (env DOCKET_LOG_LEVEL).") var logLevel: String?

    func run() async throws {
        let environment = ProcessInfo.processInfo.environment
        let settings: DaemonConfiguration
        do {
            settings = try loadConfiguration(environment: environment)
        } catch let error as DocketError {
            FileHandle.standardError.write(Data("docketd: invalid configuration: \(error.message)\n".utf8))
            throw ExitCode(2)
        }
        let level = Logger.Level(rawValue: settings.logLevel) ?? .info
        LoggingSystem.bootstrap { label in
            var handler = StreamLogHandler.standardError(label: label)
            handler.logLevel = level
            return handler
        }
        var logger = Logger(label: "docketd")
        let instanceId = UUID().uuidString.lowercased()
        logger[metadataKey: "instance"] = "\(instanceId.prefix(8))"
        do {
            try await serve(settings, instanceId: instanceId, logger: logger)
        } catch let error as DocketError {
            FileHandle.standardError.write(Data("docketd: \(error.code.rawValue): \(error.message)\n".utf8))
            throw ExitCode(1)
        }
    }

    private func loadConfiguration(environment: [String: String]) throws -> DaemonConfiguration {
        var flags: [String: String] = [:]
        let given: [(String, String?)] = [
            ("listen", listen), ("http", http), ("database-url", databaseURL), ("data-dir", dataDir),
            ("max-line-bytes", maxLineBytes), ("max-connections", maxConnections), ("max-in-flight", maxInFlight),
            ("auth-deadline", authDeadline), ("idle-timeout", idleTimeout), ("max-failed-auths", maxFailedAuths),
            ("max-unauthenticated", maxUnauthenticated), ("max-output-bytes", maxOutputBytes),
            ("acquire-timeout", acquireTimeout), ("request-timeout", requestTimeout), ("statement-timeout", statementTimeout),
            ("http-max-connections", httpMaxConnections),
            ("pool-size", poolSize), ("cancel-grace", cancelGrace), ("shutdown-grace", shutdownGrace), ("log-level", logLevel),
            ("bus", bus), ("subscriber-buffer", subscriberBuffer), ("max-subscriptions", maxSubscriptions),
            ("callback-attempts", callbackAttempts), ("callback-timeout", callbackTimeout),
            ("callback-degraded-after", callbackDegradedAfter), ("callback-refuse-private", callbackRefusePrivate),
            ("retention", retention),
        ]
        for case let (name, value?) in given { flags[name] = value }
        var file: [String: String] = [:]
        if let path = config ?? environment["DOCKET_CONFIG"] {
            guard let text = try? String(contentsOfFile: path, encoding: .utf8) else {
                throw DocketError.validation(field: "config", "cannot read \(path)")
            }
            file = try DaemonConfiguration.parseFile(text, path: path)
        }
        return try DaemonConfiguration.resolve(flags: flags, environment: environment, file: file)
    }

    private func serve(_ settings: DaemonConfiguration, instanceId: String, logger: Logger) async throws {
        let dataDirectory = URL(fileURLWithPath: settings.dataDirectory).standardizedFileURL.path
        let endpoint = try await DatabaseTarget.resolve(
            databaseURL: settings.databaseURL, dataDirectory: dataDirectory, logger: logger)
        try await endpoint.withConnection(logger: logger) { connection in
            let applied = try await MigrationRunner(logger: logger).migrate(on: connection)
            if !applied.isEmpty { logger.info("applied migrations", metadata: ["versions": "\(applied)"]) }
        }
        var poolConfiguration = DatabasePool.Configuration()
        poolConfiguration.size = settings.poolSize
        poolConfiguration.limits = settings.databaseLimits
        poolConfiguration.applicationName = "docketd-\(instanceId.prefix(8))"
        let pool = DatabasePool(endpoint: endpoint, configuration: poolConfiguration, logger: logger)
        let database = Database(pool: pool, logger: logger)
        var jobConfiguration = JobService.Configuration()
        jobConfiguration.cancelGraceSeconds = settings.cancelGraceSeconds
        jobConfiguration.instanceId = instanceId
        let keys = APIKeyService(database: database)
        let metrics = ServerMetrics()
        // The event bus (docs/cluster.md): a listener per instance, wake-ups after local commits, in-process fan-out.
        let hub = EventHub()
        var listenerConfiguration = EventListener.Configuration()
        listenerConfiguration.applicationName = "docket-listener-\(instanceId.prefix(8))"
        let listener = EventListener(endpoint: endpoint, hub: hub, configuration: listenerConfiguration, logger: logger)
        let notifier = WakeupNotifier(endpoint: endpoint, ownListener: listenerConfiguration.applicationName, logger: logger)
        let scheduleChanged = WakeSignal()
        if settings.busEnabled {
            database.eventCommits.observe {
                listener.wake.fire()
                notifier.committed()
            }
            hub.watch(scheduleChanged) { RecurrenceSweep.wakes(on: $0) }
        }
        let eventBus = settings.busEnabled ? EventBus(hub: hub, database: database, configuration: settings.bus) : nil
        let elector = LeaderElector(endpoint: endpoint, instanceId: instanceId, logger: logger) { database.eventCommits.fire() }
        let localRole: @Sendable () -> ClusterStatus.LocalRole? = {
            switch elector.currentRole {
            case .leader(let epoch): ClusterStatus.LocalRole(instanceId: instanceId, leaderEpoch: epoch)
            case .follower: ClusterStatus.LocalRole(instanceId: instanceId, leaderEpoch: nil)
            }
        }
        let jobService = JobService(database: database, configuration: jobConfiguration)
        let taskService = TaskService(database: database)
        let services = Services(jobs: jobService, tasks: taskService,
                                cluster: ClusterService(database: database, localRole: localRole), keys: keys)
        let context = ServerContext(services: services, configuration: settings.server, instanceId: instanceId,
                                    version: Self.version, metrics: metrics, logger: logger, bus: eventBus)
        let protocolServer = ProtocolServer(context: context)
        let poolSize = settings.poolSize
        let poolMetrics: HealthServer.ExtraMetrics = {
            let usage = pool.usage
            let (unauthenticated, evicted) = protocolServer.unauthenticatedConnections
            return [
                "# HELP docket_db_pool_in_use Requests holding a database connection (at most the pool size).",
                "# TYPE docket_db_pool_in_use gauge", "docket_db_pool_in_use \(usage.current)",
                "# HELP docket_db_pool_in_use_peak Most requests holding a database connection at once since start.",
                "# TYPE docket_db_pool_in_use_peak gauge", "docket_db_pool_in_use_peak \(usage.peak)",
                "# HELP docket_db_pool_waiting Requests waiting for a database connection.",
                "# TYPE docket_db_pool_waiting gauge", "docket_db_pool_waiting \(usage.waiting)",
                "# HELP docket_db_pool_waiting_peak Most requests waiting for a database connection at once since start.",
                "# TYPE docket_db_pool_waiting_peak gauge", "docket_db_pool_waiting_peak \(usage.peakWaiting)",
                "# HELP docket_db_pool_size Database connections at most.",
                "# TYPE docket_db_pool_size gauge", "docket_db_pool_size \(poolSize)",
                "# HELP docket_db_pool_resets_total Times the pool was replaced after an outage.",
                "# TYPE docket_db_pool_resets_total counter", "docket_db_pool_resets_total \(pool.resets)",
                "# HELP docket_connections_unauthenticated Client connections that have not authenticated yet.",
                "# TYPE docket_connections_unauthenticated gauge", "docket_connections_unauthenticated \(unauthenticated)",
                "# HELP docket_connections_evicted_total Unauthenticated connections closed to make room for new ones.",
                "# TYPE docket_connections_evicted_total counter", "docket_connections_evicted_total \(evicted)",
            ] + Self.leaderMetrics(elector.currentRole)
                + Self.busMetrics(listener.statistics, hub: hub, notifications: notifier.notificationsSent)
        }
        let notifications = NotificationHealth()
        let health = HealthServer(host: settings.httpHost, port: settings.httpPort, metrics: metrics, logger: logger,
                                  maxConnections: settings.httpMaxConnections, extra: poolMetrics) {
            // During an outage the pool's own probe knows at once; otherwise a query, answered within a second.
            if pool.health.isUnreachable() { return (false, "database unreachable") }
            do {
                try await Deadline.run(.milliseconds(800), "the readiness query") {
                    _ = try await database.read { connection in
                        try await SessionQueries(connection, logger: logger).ping()
                    }
                }
            } catch {
                return (false, "database unavailable: \(Database.classify(error).message)")
            }
            // Degraded notifications do not take the instance out of service: it still serves every request.
            guard notifications.isDegraded else { return (true, "ready") }
            return (true, "ready; notifications degraded: \(notifications.consecutiveFailures) callback attempts failed in a row")
        }
        let timeouts = SweepService(TimeoutSweep(jobs: jobService, tasks: taskService, database: database),
                                    elector: elector, database: database, logger: logger)
        let retries = SweepService(RetrySweep(jobs: jobService, database: database), elector: elector, database: database, logger: logger)
        let recurrence = SweepService(
            RecurrenceSweep(jobs: jobService, database: database,
                            maximumRest: settings.busEnabled ? .seconds(2) : .milliseconds(250)),
            elector: elector, database: database, wake: settings.busEnabled ? scheduleChanged : nil, logger: logger)
        var callbackConfiguration = CallbackSweep.Configuration()
        callbackConfiguration.attempts = settings.callbackAttempts
        callbackConfiguration.timeout = .milliseconds(Int(settings.callbackTimeoutSeconds * 1000))
        callbackConfiguration.degradedAfter = settings.callbackDegradedAfter
        callbackConfiguration.refusePrivateAddresses = settings.callbackRefusePrivate
        callbackConfiguration.userAgent = "docketd/\(Self.version)"
        let transport = HTTPCallbackTransport()
        let callbacks = SweepService(
            CallbackSweep(database: database, transport: transport, health: notifications, configuration: callbackConfiguration),
            elector: elector, database: database, logger: logger)
        let retentionSweep = settings.retentionSeconds.map { age in
            SweepService(RetentionSweep(database: database, age: .milliseconds(Int(age * 1000))), elector: elector,
                         database: database, logger: logger)
        }
        let registry = InstanceRegistry(database: database, instanceId: instanceId, version: Self.version, elector: elector) {
            let address = try await protocolServer.boundAddress()
            while health.boundAddress == nil { try await Task.sleep(for: .milliseconds(20)) }
            return (Announcer.text(address), Announcer.text(health.boundAddress))
        }
        let announcer = Announcer(server: protocolServer, health: health, database: database, keys: keys, endpoint: endpoint,
                                  dataDirectory: dataDirectory, logger: logger)
        var lifecycle: [ServiceGroupConfiguration.ServiceConfiguration] = [
            .init(service: pool),
            .init(service: ShutdownDeadline(limit: .milliseconds(Int(settings.shutdownGraceSeconds * 1000)) + ShutdownDeadline.hardLimit,
                                            logger: logger), successTerminationBehavior: .ignore),
        ]
        if settings.busEnabled { lifecycle += [.init(service: listener), .init(service: notifier)] }
        var groupConfiguration = ServiceGroupConfiguration(
            services: lifecycle + [
                .init(service: protocolServer, successTerminationBehavior: .gracefullyShutdownGroup),
                .init(service: health),
                .init(service: announcer),
                .init(service: registry),
                .init(service: timeouts),
                .init(service: retries),
                .init(service: recurrence),
                .init(service: callbacks),
            ] + (retentionSweep.map { [ServiceGroupConfiguration.ServiceConfiguration(service: $0)] } ?? []) + [
                // Last, so it is the first to hear of a graceful shutdown: the leader resigns before anything else stops.
                .init(service: elector),
            ],
            gracefulShutdownSignals: [.sigterm, .sigint],
            cancellationSignals: [],
            logger: logger)
        // A service stuck in its shutdown cannot keep the process alive: past the grace it is cancelled, and past a
        // few more seconds the group gives up on it.
        groupConfiguration.maximumGracefulShutdownDuration = .milliseconds(Int(settings.shutdownGraceSeconds * 1000))
        groupConfiguration.maximumCancellationDuration = .seconds(5)
        let group = ServiceGroup(configuration: groupConfiguration)
        do {
            try await group.run()
        } catch {
            await transport.shutdown()
            throw error
        }
        await transport.shutdown()
    }

    static func leaderMetrics(_ role: LeaderElector.Role) -> [String] {
        let epoch: Int64 = if case .leader(let epoch) = role { epoch } else { 0 }
        return [
            "# HELP docket_leader Whether this instance leads the cluster (runs the sweeps).",
            "# TYPE docket_leader gauge", "docket_leader \(epoch > 0 ? 1 : 0)",
            "# HELP docket_leader_epoch The term this instance leads in (0 while it follows).",
            "# TYPE docket_leader_epoch gauge", "docket_leader_epoch \(epoch)",
        ]
    }

    static func busMetrics(_ statistics: EventListener.Statistics, hub: EventHub, notifications: Int) -> [String] {
        [
            "# HELP docket_bus_connected Whether the event listener holds its database connection.",
            "# TYPE docket_bus_connected gauge", "docket_bus_connected \(statistics.connected ? 1 : 0)",
            "# HELP docket_bus_position Last event seq published to this instance's subscribers.",
            "# TYPE docket_bus_position gauge", "docket_bus_position \(hub.position ?? 0)",
            "# HELP docket_bus_events_total Events read by the listener.",
            "# TYPE docket_bus_events_total counter", "docket_bus_events_total \(statistics.delivered)",
            "# HELP docket_bus_catch_ups_total Catch-up passes (wake-ups, polls, reconnects).",
            "# TYPE docket_bus_catch_ups_total counter", "docket_bus_catch_ups_total \(statistics.catchUps)",
            "# HELP docket_bus_horizon_reads_total Catch-ups that read the horizon (pg_locks) to settle a gap in the seqs.",
            "# TYPE docket_bus_horizon_reads_total counter", "docket_bus_horizon_reads_total \(statistics.horizonReads)",
            "# HELP docket_bus_reconnects_total Times the listener connection was replaced.",
            "# TYPE docket_bus_reconnects_total counter", "docket_bus_reconnects_total \(statistics.reconnects)",
            "# HELP docket_bus_subscribers Subscriptions on this instance.",
            "# TYPE docket_bus_subscribers gauge", "docket_bus_subscribers \(hub.subscriberCount)",
            "# HELP docket_bus_dropped_subscribers_total Subscribers dropped for falling behind.",
            "# TYPE docket_bus_dropped_subscribers_total counter", "docket_bus_dropped_subscribers_total \(statistics.droppedSubscribers)",
            "# HELP docket_bus_notifications_total Wake-up NOTIFYs sent by this instance.",
            "# TYPE docket_bus_notifications_total counter", "docket_bus_notifications_total \(notifications)",
        ]
    }
}
