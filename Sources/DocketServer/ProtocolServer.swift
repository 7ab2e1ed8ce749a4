import DocketCore
import DocketProtocol
import Logging
import NIOCore
import NIOPosix
import ServiceLifecycle

/// The TCP line server of SPEC 3, as a `Service`: accepts connections and serves each in its own child task.
///
/// On graceful shutdown it stops accepting and half-closes every connection's input, so each finishes the requests
/// it has in progress, writes their responses and closes; then `run()` returns.
public final class ProtocolServer: Service, Sendable {
    let context: ServerContext
    let roster: ConnectionRoster
    private let listener: Listener<NIOAsyncChannel<Frame, ByteBuffer>>

    public init(context: ServerContext) {
        self.context = context
        self.roster = ConnectionRoster(maxConnections: context.configuration.maxConnections,
                                       maxUnauthenticated: context.configuration.maxUnauthenticated)
        let configuration = context.configuration, logger = context.logger
        listener = Listener(endpoint: "\(configuration.host):\(configuration.port)") {
            try await Self.listen(configuration, logger: logger)
        }
    }

    /// Connections that have not authenticated now, and how many such were closed to make room for new ones.
    public var unauthenticatedConnections: (open: Int, evicted: Int) {
        let counts = roster.counts
        return (counts.unauthenticated, counts.evicted)
    }

    /// The address the server listens on, once bound (port 0 picks a free port); throws why when it cannot bind.
    public func boundAddress() async throws -> SocketAddress {
        guard let address = try await listener.wait() else {
            throw DocketError(.internal, "the protocol server's socket has no address")
        }
        return address
    }

    /// Binds the listening socket now, ahead of `run()` (which otherwise binds it); throws `UNAVAILABLE` naming the
    /// address when it cannot.
    public func bind() async throws { try await listener.bind() }

    /// Closes a socket `bind()` opened when `run()` will never serve it.
    public func closeUnserved() { listener.close() }

    public func run() async throws {
        let server = try await listener.take()
        context.logger.info("serving the protocol", metadata: ["address": "\(server.channel.localAddress.map { "\($0)" } ?? "?")"])
        try await withGracefulShutdownHandler {
            try await server.executeThenClose { inbound in
                try await withThrowingDiscardingTaskGroup { group in
                    for try await connection in inbound {
                        group.addTask { await self.serve(connection) }
                    }
                }
            }
        } onGracefulShutdown: {
            server.channel.close(promise: nil)
            for channel in self.roster.channels {
                channel.close(mode: .input, promise: nil)
            }
        }
    }

    private static func listen(
        _ configuration: ServerConfiguration, logger: Logger
    ) async throws -> NIOAsyncChannel<NIOAsyncChannel<Frame, ByteBuffer>, Never> {
        try await ServerBootstrap.docketListener(logger: logger)
            .serverChannelOption(.backlog, value: 256)
            .childChannelOption(.socketOption(.tcp_nodelay), value: 1)
            .childChannelOption(.allowRemoteHalfClosure, value: true)
            .bind(host: configuration.host, port: configuration.port) { channel in
                channel.eventLoop.makeCompletedFuture {
                    try channel.pipeline.syncOperations.addHandler(
                        ByteToMessageHandler(BoundedLineDecoder(maxLength: configuration.maxLineBytes)))
                    return try NIOAsyncChannel<Frame, ByteBuffer>(wrappingChannelSynchronously: channel)
                }
            }
    }

    private func serve(_ connection: NIOAsyncChannel<Frame, ByteBuffer>) async {
        guard case .admitted = roster.admit(connection.channel) else {
            context.metrics.countError(.rateLimited)
            let refusal = WireResponse.failure(id: .none, error: DocketError(.rateLimited,
                "the server has \(roster.maxConnections) connections, its maximum; try again later"))
            try? await connection.executeThenClose { _, outbound in
                try await outbound.write(ByteBuffer(bytes: refusal))
            }
            return
        }
        context.metrics.connectionOpened()
        defer {
            roster.remove(connection.channel)
            context.metrics.connectionClosed()
        }
        // When the connection closes under the session (a reset, a failed write), its queued and running requests are
        // cancelled: nobody is left to answer. A half-close (the client is done sending) lets them finish.
        let closed = connection.channel.closeFuture
        await withTaskGroup(of: Void.self) { group in
            group.addTask { await ClientSession(channel: connection, context: self.context, roster: self.roster).run() }
            group.addTask { try? await closed.get() }
            await group.next()
            group.cancelAll()
        }
    }
}
