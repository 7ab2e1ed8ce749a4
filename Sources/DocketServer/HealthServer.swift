import DocketCore
import Logging
import NIOCore
import NIOHTTP1
import NIOPosix
import ServiceLifecycle
import Synchronization

/// HTTP on a second port: `/healthz` (the process serves), `/readyz` (the database answers) and `/metrics`
/// (Prometheus text), as a `Service`.
public final class HealthServer: Service, Sendable {
    public typealias ReadinessCheck = @Sendable () async -> (ready: Bool, detail: String)
    /// More Prometheus lines to serve on /metrics (gauges owned by other parts).
    public typealias ExtraMetrics = @Sendable () -> [String]

    let host: String
    let port: Int
    let metrics: ServerMetrics
    let readiness: ReadinessCheck
    let extra: ExtraMetrics
    let logger: Logger
    private let bound = Mutex<SocketAddress?>(nil)

    public init(host: String, port: Int, metrics: ServerMetrics, logger: Logger,
                extra: @escaping ExtraMetrics = { [] }, readiness: @escaping ReadinessCheck) {
        self.host = host
        self.port = port
        self.metrics = metrics
        self.logger = logger
        self.extra = extra
        self.readiness = readiness
    }

    public var boundAddress: SocketAddress? { bound.withLock { $0 } }

    public func run() async throws {
        let server = try await ServerBootstrap(group: MultiThreadedEventLoopGroup.singleton)
            .serverChannelOption(.socketOption(.so_reuseaddr), value: 1)
            .bind(host: host, port: port) { channel in
                channel.eventLoop.makeCompletedFuture {
                    try channel.pipeline.syncOperations.configureHTTPServerPipeline()
                    return try NIOAsyncChannel<HTTPServerRequestPart, HTTPServerResponsePart>(wrappingChannelSynchronously: channel)
                }
            }
        bound.withLock { $0 = server.channel.localAddress }
        logger.info("serving health and metrics", metadata: ["address": "\(server.channel.localAddress.map { "\($0)" } ?? "?")"])
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
        }
    }

    private func serve(_ connection: NIOAsyncChannel<HTTPServerRequestPart, HTTPServerResponsePart>) async {
        try? await connection.executeThenClose { inbound, outbound in
            for try await part in inbound {
                guard case .head(let head) = part else { continue }
                let (status, body) = await respond(to: head.uri)
                var headers = HTTPHeaders()
                headers.add(name: "Content-Type", value: head.uri.hasPrefix("/metrics") ? "text/plain; version=0.0.4" : "text/plain")
                headers.add(name: "Content-Length", value: String(body.utf8.count))
                headers.add(name: "Connection", value: "close")
                try await outbound.write(.head(HTTPResponseHead(version: head.version, status: status, headers: headers)))
                try await outbound.write(.body(.byteBuffer(ByteBuffer(string: body))))
                try await outbound.write(.end(nil))
                return
            }
        }
    }

    private func respond(to uri: String) async -> (HTTPResponseStatus, String) {
        switch uri.split(separator: "?").first.map(String.init) ?? uri {
        case "/healthz":
            return (.ok, "ok\n")
        case "/readyz":
            let (ready, detail) = await readiness()
            return (ready ? .ok : .serviceUnavailable, detail + "\n")
        case "/metrics":
            return (.ok, metrics.render(extra: extra()))
        default:
            return (.notFound, "not found: try /healthz, /readyz or /metrics\n")
        }
    }
}
