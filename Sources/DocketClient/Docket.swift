import DocketCore
import DocketProtocol
import Foundation
import Synchronization

/// The typed client: one async method per operation (`docket.jobs`, `docket.tasks`, `docket.queues`, …), `Codable`
/// results, and a connection that comes back by itself.
///
/// A call that finds the connection gone reconnects first (with backoff, up to `Options.reconnectTimeout`) and
/// authenticates again with the same key. A call whose connection dropped while it was in flight fails with
/// `UNAVAILABLE` and is not resent: whether the server applied it is unknown, so the caller decides (an
/// `idempotency_key` makes a create safe to resend). Subscriptions (`subscribe`) resume by themselves.
public final class Docket: Sendable {
    /// How to reach docketd and how hard to try.
    public struct Options: Sendable {
        public var host: String
        public var port: Int
        /// The API key; nil for an unauthenticated connection (only `hello` and `ping` work).
        public var token: String?
        public var connectTimeout: Duration
        /// How long a call waits for the connection to come back before failing with `UNAVAILABLE`.
        public var reconnectTimeout: Duration
        /// The first and the longest pause between two connection attempts (doubling, with jitter).
        public var backoff: ClosedRange<Duration>

        public init(host: String = "127.0.0.1", port: Int = 7420, token: String? = nil, connectTimeout: Duration = .seconds(5),
                    reconnectTimeout: Duration = .seconds(30), backoff: ClosedRange<Duration> = .milliseconds(50)...(.seconds(2))) {
            self.host = host
            self.port = port
            self.token = token
            self.connectTimeout = connectTimeout
            self.reconnectTimeout = reconnectTimeout
            self.backoff = backoff
        }
    }

    public let options: Options
    private let state = Mutex(State())
    let subscriptions = SubscriptionRouter()

    private struct State {
        var connection: DocketClient?
        var closed = false
        /// How many connections were made (the first one included).
        var connects = 0
    }

    init(options: Options) { self.options = options }

    /// Connects (and authenticates when a token is given); fails at once when the first attempt does.
    public static func connect(_ options: Options) async throws -> Docket {
        let docket = Docket(options: options)
        _ = try await docket.connection(waiting: .zero)
        return docket
    }

    public static func connect(host: String = "127.0.0.1", port: Int, token: String? = nil) async throws -> Docket {
        try await connect(Options(host: host, port: port, token: token))
    }

    /// How many connections this client has made; more than one means it reconnected.
    public var connectionCount: Int { state.withLock { $0.connects } }

    /// Sends one request on the live connection (reconnecting first when there is none): the untyped form every typed
    /// method calls.
    @discardableResult
    public func call(_ op: ServiceOperation, _ args: [String: JSONValue] = [:]) async throws -> JSONValue {
        let connection = try await connection(waiting: options.reconnectTimeout)
        return try await connection.call(op.name, args)
    }

    /// Sends one request and decodes its answer as `T`.
    func call<T: Decodable>(_ op: ServiceOperation, _ args: [String: JSONValue] = [:], as type: T.Type) async throws -> T {
        try WireCoding.decode(T.self, from: try await call(op, args), op: op.name)
    }

    /// Sends one request and decodes the member `key` of its answer as `T`.
    func call<T: Decodable>(_ op: ServiceOperation, _ args: [String: JSONValue] = [:], member key: String, as type: T.Type) async throws -> T {
        let answer = try await call(op, args)
        return try WireCoding.decode(T.self, from: answer[key] ?? .null, op: op.name)
    }

    /// Ends the connection; later calls fail with `UNAVAILABLE` and subscriptions finish.
    public func close() async {
        let connection = state.withLock { state -> DocketClient? in
            state.closed = true
            defer { state.connection = nil }
            return state.connection
        }
        subscriptions.closeAll()
        await connection?.close()
    }

    var isClosed: Bool { state.withLock { $0.closed } }

    /// The live connection, made anew when the last one ended; tries until `waiting` has passed.
    func connection(waiting: Duration) async throws -> DocketClient {
        let deadline = ContinuousClock.now + waiting
        var pause = options.backoff.lowerBound
        while true {
            let current = state.withLock { state -> (DocketClient?, Bool) in (state.connection, state.closed) }
            if current.1 { throw DocketError(.unavailable, "the client is closed") }
            if let connection = current.0, !connection.isClosed { return connection }
            do {
                let fresh = try await DocketClient.connect(host: options.host, port: options.port, token: options.token,
                                                           connectTimeout: options.connectTimeout, routing: subscriptions)
                let installed = state.withLock { state -> DocketClient? in
                    if let other = state.connection, !other.isClosed { return other }  // another call won the race
                    guard !state.closed else { return nil }
                    state.connection = fresh
                    state.connects += 1
                    return fresh
                }
                if installed !== fresh { await fresh.close() }
                guard let installed else { throw DocketError(.unavailable, "the client is closed") }
                return installed
            } catch let error as DocketError where error.code == .unavailable {
                guard ContinuousClock.now + pause < deadline else { throw error }
                try await Task.sleep(for: pause.jittered)  // models time: the pause between connection attempts
                pause = min(pause * 2, options.backoff.upperBound)
            }
        }
    }
}

extension Duration {
    /// This pause, scaled by a random factor between 0.5 and 1.
    var jittered: Duration { self * Double.random(in: 0.5...1) }
}
