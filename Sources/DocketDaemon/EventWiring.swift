import DocketBus
import DocketCore
import DocketCluster
import DocketPostgres
import Logging
import ServiceLifecycle

/// The event bus of one instance (docs/cluster.md, "The event bus"): a listener, wake-ups after local commits, the
/// in-process hub, and the recurrence sweep's wake-up on schedule changes; all absent with `--bus off`.
struct EventWiring: Sendable {
    let hub = EventHub()
    let listener: EventListener
    let notifier: WakeupNotifier
    /// Fired when the bus sees a schedule change (the recurrence sweep rests on it); nil with the bus off.
    let scheduleChanged: WakeSignal?
    let eventBus: EventBus?

    init(settings: DaemonConfiguration, endpoint: DatabaseEndpoint, database: Database, instanceId: String, logger: Logger) {
        var configuration = EventListener.Configuration()
        configuration.applicationName = "docket-listener-\(instanceId.prefix(8))"
        let listener = EventListener(endpoint: endpoint, hub: hub, configuration: configuration, logger: logger)
        let notifier = WakeupNotifier(endpoint: endpoint, ownListener: configuration.applicationName, logger: logger)
        self.listener = listener
        self.notifier = notifier
        guard settings.busEnabled else {
            scheduleChanged = nil
            eventBus = nil
            return
        }
        let scheduleChanged = WakeSignal()
        database.eventCommits.observe {
            listener.wake.fire()
            notifier.committed()
        }
        hub.watch(scheduleChanged) { RecurrenceSweep.wakes(on: $0) }
        self.scheduleChanged = scheduleChanged
        eventBus = EventBus(hub: hub, database: database, configuration: settings.bus)
    }

    var services: [ServiceGroupConfiguration.ServiceConfiguration] {
        eventBus == nil ? [] : [.init(service: listener), .init(service: notifier)]
    }
}
