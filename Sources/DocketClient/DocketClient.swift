import DocketCore
import DocketProtocol
import NIOCore
import NIOPosix
import Synchronization

/// An async client for the Docket protocol: one TCP connection, any number of calls in flight at once (pipelined and
/// matched by id), typed errors with the protocol's codes, and a lost connection surfaced as `UNAVAILABLE`.
public final class DocketClient: Sendable {
    let channel: any Channel
    let calls: PendingCalls
    private let nextID = Mutex(0)

    /// The identity `PushRouting` is told of: the connection's pending-call table.
    var identity: ObjectIdentifier { ObjectIdentifier(calls) }

    init(channel: any Channel, calls: PendingCalls) {
        self.channel = channel
        self.calls = calls
    }

    /// Connects, and authenticates when a token is given.
    public static func connect(host: String, port: Int, token: String? = nil,
                               connectTimeout: Duration = .seconds(5)) async throws -> DocketClient {
        try await connect(host: host, port: port, token: token, connectTimeout: connectTimeout, routing: nil)
    }

    /// Connects with `routing` receiving every push and the connection's end (instead of `pushes`).
    static func connect(host: String, port: Int, token: String?, connectTimeout: Duration,
                        routing: (any PushRouting)?) async throws -> DocketClient {
        let calls = PendingCalls(routing: routing)
        let channel: any Channel
        do {
            channel = try await ClientBootstrap(group: MultiThreadedEventLoopGroup.singleton)
                .connectTimeout(.nanoseconds(Int64(connectTimeout.components.seconds) * 1_000_000_000
                    + connectTimeout.components.attoseconds / 1_000_000_000))
                .channelOption(.socketOption(.tcp_nodelay), value: 1)
                .channelInitializer { channel in
                    channel.eventLoop.makeCompletedFuture {
                        try channel.pipeline.syncOperations.addHandler(
                            ByteToMessageHandler(BoundedLineDecoder(maxLength: 64 << 20)))
                        try channel.pipeline.syncOperations.addHandler(ResponseHandler(calls: calls))
                    }
                }
                .connect(host: host, port: port).get()
        } catch {
            throw DocketError(.unavailable, "cannot connect to docketd at \(host):\(port): \(error)")
        }
        let client = DocketClient(channel: channel, calls: calls)
        if let token {
            do {
                _ = try await client.call("auth", ["token": .string(token)])
            } catch {
                await client.close()
                throw error
            }
        }
        return client
    }

    /// The longest request line sent (docketd's default `max-line-bytes`).
    public static let maxLineBytes = 1 << 20

    /// Sends one request and waits for its response: the `data` on success, the server's `DocketError` otherwise.
    @discardableResult
    public func call(_ op: String, _ args: [String: JSONValue] = [:]) async throws -> JSONValue {
        let id = nextID.withLock { value -> Int in
            value += 1
            return value
        }
        let line = WireRequest(id: RequestID(id), op: op, args: Arguments(args)).line
        // The server answers a line past its limit without an id (it cannot read one), so that answer could never be
        // matched to this call: refuse it here instead.
        guard line.count <= Self.maxLineBytes + 1 else {
            throw DocketError(.lineTooLong, "the request is \(line.count) bytes; docketd reads lines of at most \(Self.maxLineBytes)")
        }
        return try await withCheckedThrowingContinuation { continuation in
            guard calls.register(id, continuation) else {
                continuation.resume(throwing: DocketError(.unavailable, "the connection to docketd is closed"))
                return
            }
            channel.writeAndFlush(ByteBuffer(bytes: line)).whenFailure { error in
                self.calls.fail(id, DocketError(.unavailable, "cannot send to docketd: \(error)"))
            }
        }
    }

    /// What the server pushes after `subscribe`, in arrival order: events, and the end of a subscription it dropped.
    public var pushes: AsyncStream<Push> { calls.pushes }

    /// Whether the connection has ended (every call on it now fails with `UNAVAILABLE`).
    public var isClosed: Bool { calls.isClosed }

    public func close() async {
        try? await channel.close()
    }
}

/// Where a connection's pushes go when its owner routes them itself (`Docket`'s subscriptions).
protocol PushRouting: Sendable {
    func received(_ push: Push, on connection: ObjectIdentifier)
    func ended(_ connection: ObjectIdentifier, _ error: DocketError)
}

/// A line the server sent without being asked.
public enum Push: Sendable {
    /// An event envelope (SPEC 2.7) for one subscription.
    case event(subscription: String, event: JSONValue)
    /// The server ended the subscription (it fell behind: `RATE_LIMITED` with `details.last_seq` to resume from).
    case dropped(subscription: String, error: DocketError)
}

/// The calls waiting for their responses, by id; failed all at once when the connection ends.
final class PendingCalls: Sendable {
    private struct State {
        var waiting: [Int: CheckedContinuation<JSONValue, any Error>] = [:]
        var closed: DocketError?
    }

    private let state = Mutex(State())
    let pushes: AsyncStream<Push>
    let pushSink: AsyncStream<Push>.Continuation
    let routing: (any PushRouting)?

    init(routing: (any PushRouting)? = nil) {
        self.routing = routing
        // Unbounded on purpose: the server bounds what it sends (it drops a subscriber that falls behind), and a client
        // that buffers rather than silently losing events keeps the no-gap promise.
        (pushes, pushSink) = AsyncStream.makeStream(of: Push.self)
    }

    var isClosed: Bool { state.withLock { $0.closed != nil } }

    /// Hands a push to the router, or to `pushes`.
    func push(_ push: Push) {
        if let routing { routing.received(push, on: ObjectIdentifier(self)) } else { pushSink.yield(push) }
    }

    func register(_ id: Int, _ continuation: CheckedContinuation<JSONValue, any Error>) -> Bool {
        state.withLock { state in
            guard state.closed == nil else { return false }
            state.waiting[id] = continuation
            return true
        }
    }

    func resolve(_ id: Int, _ result: Result<JSONValue, DocketError>) {
        let continuation = state.withLock { $0.waiting.removeValue(forKey: id) }
        continuation?.resume(with: result.mapError { $0 as any Error })
    }

    func fail(_ id: Int, _ error: DocketError) { resolve(id, .failure(error)) }

    func closeAll(_ error: DocketError) {
        let (waiting, first) = state.withLock { state -> ([CheckedContinuation<JSONValue, any Error>], Bool) in
            let first = state.closed == nil
            state.closed = state.closed ?? error
            defer { state.waiting = [:] }
            return (Array(state.waiting.values), first)
        }
        for continuation in waiting { continuation.resume(throwing: error) }
        pushSink.finish()
        if first { routing?.ended(ObjectIdentifier(self), error) }
    }
}

/// Reads response lines and hands each to the call with its id.
final class ResponseHandler: ChannelInboundHandler, Sendable {
    typealias InboundIn = Frame

    let calls: PendingCalls

    init(calls: PendingCalls) { self.calls = calls }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        guard case .line(let line) = unwrapInboundIn(data) else { return }
        guard let parsed = try? WireResponse.parse(line.readableBytesView) else { return }
        if let event = parsed.event {
            calls.push(.event(subscription: parsed.subscription ?? "", event: event))
            return
        }
        if parsed.dropped, let subscription = parsed.subscription, case .failure(let error) = parsed.result {
            calls.push(.dropped(subscription: subscription, error: error))
            return
        }
        guard let id = parsed.id.integer else { return }
        calls.resolve(id, parsed.result)
    }

    func channelInactive(context: ChannelHandlerContext) {
        calls.closeAll(DocketError(.unavailable, "the connection to docketd closed"))
        context.fireChannelInactive()
    }

    func errorCaught(context: ChannelHandlerContext, error: any Error) {
        calls.closeAll(DocketError(.unavailable, "the connection to docketd failed: \(error)"))
        context.close(promise: nil)
    }
}
