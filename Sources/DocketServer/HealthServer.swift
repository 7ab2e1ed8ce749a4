import DocketCore
import Logging
import NIOCore
import NIOHTTP1
import NIOPosix
import ServiceLifecycle
import Synchronization

/// HTTP on a second port: `/healthz` (the process serves), `/readyz` (the database answers) and `/metrics`
/// (Prometheus text), as a `Service`.
///
/// One request per connection, answered only once it has fully arrived (a malformed one gets the 400 of NIO's error
/// handler and nothing else); `GET` and `HEAD` only; at most `maxConnections` open, each closed `requestTimeout` after
/// it opened.
public final class HealthServer: Service, Sendable {
    public typealias ReadinessCheck = @Sendable () async -> (ready: Bool, detail: String)
    /// Brings the sampled gauges of /metrics up to date (those owned by other parts), just before a scrape.
    public typealias MetricsSampler = @Sendable () async -> Void

    let host: String
    let port: Int
    let metrics: ServerMetrics
    let readiness: ReadinessCheck
    let sample: MetricsSampler
    let logger: Logger
    let maxConnections: Int
    let requestTimeout: TimeAmount = .seconds(10)
    private let listener: Listener<NIOAsyncChannel<HTTPServerRequestPart, HTTPServerResponsePart>>
    private let open = Mutex(0)

    public init(host: String, port: Int, metrics: ServerMetrics, logger: Logger, maxConnections: Int = 64,
                sample: @escaping MetricsSampler = {}, readiness: @escaping ReadinessCheck) {
        self.maxConnections = maxConnections
        self.host = host
        self.port = port
        self.metrics = metrics
        self.logger = logger
        self.sample = sample
        self.readiness = readiness
        listener = Listener(endpoint: "\(host):\(port)") { try await Self.listen(host: host, port: port, logger: logger) }
    }

    public var boundAddress: SocketAddress? { listener.current }

    /// The address once the server has bound it; throws why when it cannot bind.
    public func waitUntilBound() async throws -> SocketAddress? {
        try await listener.wait()
    }

    /// Binds the listening socket now, ahead of `run()` (which otherwise binds it); throws `UNAVAILABLE` naming the
    /// address when it cannot.
    public func bind() async throws { try await listener.bind() }

    /// Closes a socket `bind()` opened when `run()` will never serve it.
    public func closeUnserved() { listener.close() }

    public func run() async throws {
        let server = try await listener.take()
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

    private static func listen(
        host: String, port: Int, logger: Logger
    ) async throws -> NIOAsyncChannel<NIOAsyncChannel<HTTPServerRequestPart, HTTPServerResponsePart>, Never> {
        try await ServerBootstrap.docketListener(logger: logger)
            .bind(host: host, port: port) { channel in
                channel.eventLoop.makeCompletedFuture {
                    try channel.pipeline.syncOperations.configureHTTPServerPipeline()
                    return try NIOAsyncChannel<HTTPServerRequestPart, HTTPServerResponsePart>(wrappingChannelSynchronously: channel)
                }
            }
    }

    private func serve(_ connection: NIOAsyncChannel<HTTPServerRequestPart, HTTPServerResponsePart>) async {
        let admitted = open.withLock { count -> Bool in
            guard count < maxConnections else { return false }
            count += 1
            return true
        }
        defer { if admitted { open.withLock { $0 -= 1 } } }
        let channel = connection.channel
        let timeout = channel.eventLoop.scheduleTask(in: requestTimeout) { channel.close(promise: nil) }
        defer { timeout.cancel() }
        try? await connection.executeThenClose { inbound, outbound in
            var request: HTTPRequestHead?
            for try await part in inbound {
                switch part {
                case .head(let head): request = head
                case .body: continue
                case .end:
                    guard let head = request else { return }
                    // Answered only once a request has arrived: NIO's HTTP pipeline traps on a response before one.
                    guard admitted else {
                        try await Self.write(.serviceUnavailable, "too many connections\n", head: head, to: outbound)
                        return
                    }
                    guard head.method == .GET || head.method == .HEAD else {
                        try await Self.write(.methodNotAllowed, "only GET and HEAD\n", head: head, to: outbound,
                                             extraHeaders: [("Allow", "GET, HEAD")])
                        return
                    }
                    let (status, body) = await respond(to: head.uri)
                    try await Self.write(status, body, head: head, to: outbound)
                    return
                }
            }
        }
    }

    private static func write(
        _ status: HTTPResponseStatus, _ body: String, head: HTTPRequestHead?,
        to outbound: NIOAsyncChannelOutboundWriter<HTTPServerResponsePart>, extraHeaders: [(String, String)] = []
    ) async throws {
        var headers = HTTPHeaders()
        headers.add(name: "Content-Type", value: head?.uri.hasPrefix("/metrics") == true ? "text/plain; version=0.0.4" : "text/plain")
        headers.add(name: "Content-Length", value: String(body.utf8.count))
        headers.add(name: "Connection", value: "close")
        for (name, value) in extraHeaders { headers.add(name: name, value: value) }
        try await outbound.write(.head(HTTPResponseHead(version: head?.version ?? .http1_1, status: status, headers: headers)))
        if head?.method != .HEAD { try await outbound.write(.body(.byteBuffer(ByteBuffer(string: body)))) }
        try await outbound.write(.end(nil))
    }

    private func respond(to uri: String) async -> (HTTPResponseStatus, String) {
        switch uri.split(separator: "?").first.map(String.init) ?? uri {
        case "/healthz":
            return (.ok, "ok\n")
        case "/readyz":
            let (ready, detail) = await readiness()
            return (ready ? .ok : .serviceUnavailable, detail + "\n")
        case "/metrics":
            return (.ok, await metrics.render(sampling: sample))
        default:
            return (.notFound, "not found: try /healthz, /readyz or /metrics\n")
        }
    }
}
