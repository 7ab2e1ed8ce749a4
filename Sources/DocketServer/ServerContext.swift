import DocketBus
import DocketCore
import DocketServices
import Logging

/// What every connection needs: the services, limits, identity and counters.
public struct ServerContext: Sendable {
    public let services: Services
    public let configuration: ServerConfiguration
    public let instanceId: String
    public let version: String
    public let metrics: ServerMetrics
    public let logger: Logger
    /// Subscriptions and `events.list`; nil when the bus is off on this instance.
    public let bus: EventBus?

    public init(services: Services, configuration: ServerConfiguration, instanceId: String,
                version: String, metrics: ServerMetrics, logger: Logger, bus: EventBus? = nil) {
        self.bus = bus
        self.services = services
        self.configuration = configuration
        self.instanceId = instanceId
        self.version = version
        self.metrics = metrics
        self.logger = logger
    }
}
