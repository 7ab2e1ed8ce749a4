import DocketCore
import DocketPostgres
import Foundation
import Logging
import ServiceLifecycle
import Synchronization

/// Registers this instance in `docket.instances`, heartbeats it, and on the leader marks silent instances gone (SPEC 4.1).
public final class InstanceRegistry: Service, Sendable {
    public struct Configuration: Sendable {
        public var heartbeatInterval: Duration = .seconds(1)
        /// An instance silent this long is marked gone (by the leader).
        public var instanceTTL: Double = 10

        public init() {}
    }

    let database: Database
    let instanceId: String
    let version: String
    let configuration: Configuration
    let elector: LeaderElector
    let addresses: @Sendable () async throws -> (protocol: String, http: String)
    private let stopping = Mutex(false)

    public init(database: Database, instanceId: String, version: String, elector: LeaderElector,
                configuration: Configuration = .init(), addresses: @escaping @Sendable () async throws -> (protocol: String, http: String)) {
        self.database = database
        self.instanceId = instanceId
        self.version = version
        self.elector = elector
        self.configuration = configuration
        self.addresses = addresses
    }

    var logger: Logger { database.logger }

    public func run() async throws {
        let (address, http) = try await addresses()
        try await database.transaction { connection in
            try await InstanceQueries(connection, logger: self.logger).register(
                id: self.instanceId, address: address, httpAddress: http, version: self.version,
                hostname: ProcessInfo.processInfo.hostName, pid: ProcessInfo.processInfo.processIdentifier)
            try await EventQueries(connection, logger: self.logger).append([self.event(.clusterInstanceJoined, data: [
                "address": .string(address), "version": .string(self.version)])])
        }
        await withGracefulShutdownHandler {
            // Cancelled (a shutdown past its grace): stop at once; a cancelled sleep returns immediately and every query
            // fails, so looping on would spin.
            while !self.stopping.withLock({ $0 }), !Task.isCancelled {
                try? await Task.sleep(for: self.configuration.heartbeatInterval)
                guard !Task.isCancelled else { break }
                do {
                    try await self.beat()
                } catch {
                    self.logger.warning("instance heartbeat failed", metadata: ["error": "\(DatabaseEndpoint.reason(error))"])
                }
            }
        } onGracefulShutdown: {
            self.stopping.withLock { $0 = true }
        }
        _ = try? await database.transaction { connection in
            try await InstanceQueries(connection, logger: self.logger).markStopped(id: self.instanceId)
            try await EventQueries(connection, logger: self.logger).append([self.event(.clusterInstanceLeft, data: ["reason": .string("stopped")])])
        }
    }

    private func beat() async throws {
        let epoch: Int64? = if case .leader(let epoch) = elector.currentRole { epoch } else { nil }
        try await database.transaction { connection in
            let queries = InstanceQueries(connection, logger: self.logger)
            if try await !queries.heartbeat(id: self.instanceId) {
                // Marked gone while we were silent (a pause, a partition): come back.
                try await queries.register(id: self.instanceId, address: nil, httpAddress: nil, version: self.version,
                                           hostname: ProcessInfo.processInfo.hostName, pid: ProcessInfo.processInfo.processIdentifier)
            }
            guard let epoch, try await LeadershipQueries(connection, logger: self.logger).holdsTerm(name: self.elector.configuration.name, instance: self.instanceId, epoch: epoch) else {
                return
            }
            let gone = try await queries.markSilentGone(ttl: self.configuration.instanceTTL)
            if !gone.isEmpty {
                try await EventQueries(connection, logger: self.logger).append(gone.map { id in
                    EventDraft(topic: .clusterInstanceLeft, tenantId: nil, entityType: .cluster, entityId: id,
                               actorId: self.instanceId, data: ["reason": .string("silent"), "epoch": .number(Double(epoch))])
                })
            }
        }
    }

    private func event(_ topic: Topic, data: [String: JSONValue]) -> EventDraft {
        EventDraft(topic: topic, tenantId: nil, entityType: .cluster, entityId: instanceId, actorId: instanceId, data: data)
    }
}
