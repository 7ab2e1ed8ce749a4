import Logging
import NIOCore
import NIOPosix

/// Keeps a listening channel's errors from ending its accept loop.
///
/// A client that resets before its connection is set up, or a full descriptor table (EMFILE), reaches the server
/// channel as an error; `NIOAsyncChannel` would end its stream of connections with it, and the server would stop.
/// Such errors concern one connection, never the listener: they are logged and dropped here, before the async handler.
final class AcceptErrorFilter: ChannelInboundHandler, Sendable {
    typealias InboundIn = Any

    let logger: Logger

    init(logger: Logger) { self.logger = logger }

    func errorCaught(context: ChannelHandlerContext, error: any Error) {
        logger.debug("a connection failed before it was served", metadata: ["error": "\(error)"])
    }
}

extension ServerBootstrap {
    /// A listener as both of docketd's servers open one: on NIO's shared event loops, its address reusable at once
    /// after a restart, and accept errors kept from ending it (`AcceptErrorFilter`).
    static func docketListener(logger: Logger) -> ServerBootstrap {
        ServerBootstrap(group: MultiThreadedEventLoopGroup.singleton)
            .serverChannelOption(.socketOption(.so_reuseaddr), value: 1)
            .serverChannelInitializer { channel in
                channel.eventLoop.makeCompletedFuture { try channel.pipeline.syncOperations.addHandler(AcceptErrorFilter(logger: logger)) }
            }
    }
}
