import DocketTestSupport
import Foundation
import NIOCore
import NIOHTTP1
import NIOPosix
import Synchronization

/// A real HTTP server for callback tests: answers each request as `behaviour(index)` says, records what came.
final class CallbackReceiver: Sendable {
    enum Behaviour: Sendable {
        case status(Int)
        /// Never answers (the request times out on the sender's side).
        case hang
        /// Answers after a delay (if the connection is still there).
        case delayed(Duration, Int)
    }

    struct Received: Sendable {
        var headers: [String: String]
        var body: [UInt8]
        var at: Date
    }

    let port: Int
    let channel: any Channel
    private let received = Mutex<[Received]>([])
    /// Responses written to a connection that was still open.
    private let acknowledged = Mutex(0)
    let behaviour: @Sendable (Int) -> Behaviour

    private init(port: Int, channel: any Channel, behaviour: @escaping @Sendable (Int) -> Behaviour) {
        self.port = port
        self.channel = channel
        self.behaviour = behaviour
    }

    static func start(_ behaviour: @escaping @Sendable (Int) -> Behaviour) async throws -> CallbackReceiver {
        let box = Mutex<CallbackReceiver?>(nil)
        let holder = ReceiverHolder()
        let channel = try await ServerBootstrap(group: MultiThreadedEventLoopGroup.singleton)
            .serverChannelOption(.socketOption(.so_reuseaddr), value: 1)
            .childChannelInitializer { channel in
                channel.eventLoop.makeCompletedFuture {
                    try channel.pipeline.syncOperations.configureHTTPServerPipeline()
                    try channel.pipeline.syncOperations.addHandler(ReceiverHandler(holder: holder))
                }
            }
            .bind(host: "127.0.0.1", port: 0).get()
        let receiver = CallbackReceiver(port: channel.localAddress?.port ?? 0, channel: channel, behaviour: behaviour)
        holder.receiver.withLock { $0 = receiver }
        box.withLock { $0 = receiver }
        return receiver
    }

    var url: String { "http://127.0.0.1:\(port)/hook" }
    var requests: [Received] { received.withLock { $0 } }
    var acknowledgedCount: Int { acknowledged.withLock { $0 } }

    func record(_ request: Received) -> Int {
        received.withLock { list in
            list.append(request)
            return list.count - 1
        }
    }

    func acknowledge() { acknowledged.withLock { $0 += 1 } }

    func stop() async { try? await channel.close() }

    /// Waits until `condition` holds for the requests so far (false after `timeout`).
    func wait(timeout: Duration = .seconds(30), _ condition: ([Received]) -> Bool) async -> Bool {
        (try? await eventually(timeout) { condition(requests) ? true : nil }) ?? false
    }
}

final class ReceiverHolder: Sendable {
    let receiver = Mutex<CallbackReceiver?>(nil)
}

final class ReceiverHandler: ChannelInboundHandler, @unchecked Sendable {
    // Confined to its channel's event loop.
    typealias InboundIn = HTTPServerRequestPart
    typealias OutboundOut = HTTPServerResponsePart

    let holder: ReceiverHolder
    private var head: HTTPRequestHead?
    private var body: [UInt8] = []

    init(holder: ReceiverHolder) { self.holder = holder }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        switch unwrapInboundIn(data) {
        case .head(let head):
            self.head = head
            body = []
        case .body(let buffer):
            body += buffer.readableBytesView
        case .end:
            guard let receiver = holder.receiver.withLock({ $0 }), let head else { return }
            var headers: [String: String] = [:]
            for (name, value) in head.headers { headers[name.lowercased()] = value }
            let index = receiver.record(.init(headers: headers, body: body, at: Date()))
            let loopBound = NIOLoopBound((self, context), eventLoop: context.eventLoop)
            switch receiver.behaviour(index) {
            case .status(let code):
                respond(context, code, receiver)
            case .hang:
                break
            case .delayed(let delay, let code):
                let nanoseconds = Int64(delay.components.seconds) * 1_000_000_000 + delay.components.attoseconds / 1_000_000_000
                context.eventLoop.scheduleTask(in: .nanoseconds(nanoseconds)) {
                    let (handler, context) = loopBound.value
                    guard context.channel.isActive else { return }
                    handler.respond(context, code, receiver)
                }
            }
        }
    }

    func respond(_ context: ChannelHandlerContext, _ code: Int, _ receiver: CallbackReceiver) {
        var headers = HTTPHeaders()
        headers.add(name: "Content-Length", value: "2")
        context.write(wrapOutboundOut(.head(HTTPResponseHead(version: .http1_1, status: .init(statusCode: code), headers: headers))), promise: nil)
        context.write(wrapOutboundOut(.body(.byteBuffer(ByteBuffer(string: "ok")))), promise: nil)
        let promise = context.eventLoop.makePromise(of: Void.self)
        promise.futureResult.whenSuccess { receiver.acknowledge() }
        context.writeAndFlush(wrapOutboundOut(.end(nil)), promise: promise)
    }
}
