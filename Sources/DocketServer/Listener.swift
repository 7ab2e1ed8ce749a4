import DocketCore
import NIOCore
import Synchronization

/// A server's listening socket, bound once and then served: bound ahead of `run()` by `bind()` (docketd binds both of
/// its listeners before any other part starts, so a taken port ends it at once, with nothing to cancel) or else by
/// the server's `run()` itself. Those who need the address (the announcer, the instance registry) wait for it, and
/// hear the failure too instead of waiting forever.
final class Listener<Child: Sendable>: Sendable {
    typealias Server = NIOAsyncChannel<Child, Never>
    private typealias Waiter = CheckedContinuation<SocketAddress?, any Error>

    private enum State {
        case unbound([Waiter])
        case binding([Waiter])
        /// Bound and not yet served.
        case bound(Server)
        case serving(SocketAddress?)
        case failed(any Error)
        case closed
    }

    /// "host:port", as the setting gave it: what a failure names.
    let endpoint: String
    private let open: @Sendable () async throws -> Server
    private let state = Mutex(State.unbound([]))

    init(endpoint: String, open: @escaping @Sendable () async throws -> Server) {
        self.endpoint = endpoint
        self.open = open
    }

    /// The address, nil until bound (or when the socket has none).
    var current: SocketAddress? {
        state.withLock { state in
            switch state {
            case .bound(let server): server.channel.localAddress
            case .serving(let address): address
            default: nil
            }
        }
    }

    /// The address once bound; throws why when binding failed.
    func wait() async throws -> SocketAddress? {
        try await withCheckedThrowingContinuation { (waiter: Waiter) in
            let outcome = state.withLock { state -> Result<SocketAddress?, any Error>? in
                switch state {
                case .unbound(let waiters):
                    state = .unbound(waiters + [waiter])
                    return nil
                case .binding(let waiters):
                    state = .binding(waiters + [waiter])
                    return nil
                case .bound(let server): return .success(server.channel.localAddress)
                case .serving(let address): return .success(address)
                case .failed(let error): return .failure(error)
                case .closed: return .failure(Self.closed(endpoint))
                }
            }
            if let outcome { waiter.resume(with: outcome) }
        }
    }

    /// Binds the socket unless it is already; a failure becomes `UNAVAILABLE` naming the endpoint and the reason
    /// (docketd prints it and exits 1), and every waiter hears it.
    func bind() async throws {
        let first = try state.withLock { state -> Bool in
            switch state {
            case .unbound(let waiters):
                state = .binding(waiters)
                return true
            case .binding, .bound, .serving: return false
            case .failed(let error): throw error
            case .closed: throw Self.closed(endpoint)
            }
        }
        guard first else {
            _ = try await wait()
            return
        }
        let outcome: Result<Server, any Error>
        do {
            outcome = .success(try await open())
        } catch let error as IOError {
            outcome = .failure(DocketError(.unavailable, "cannot listen on \(endpoint): \(error.description)"))
        } catch {
            outcome = .failure(DocketError(.unavailable, "cannot listen on \(endpoint): \(error)"))
        }
        let waiters = state.withLock { state -> [Waiter] in
            guard case .binding(let waiters) = state else { return [] }
            switch outcome {
            case .success(let server): state = .bound(server)
            case .failure(let error): state = .failed(error)
            }
            return waiters
        }
        let settled = outcome.map { $0.channel.localAddress }
        for waiter in waiters { waiter.resume(with: settled) }
        _ = try outcome.get()
    }

    /// The bound socket, for `run()` to serve (binding it first if `bind()` was not called); once.
    func take() async throws -> Server {
        try await bind()
        return try state.withLock { state in
            guard case .bound(let server) = state else { throw DocketError(.internal, "\(endpoint) is served once") }
            state = .serving(server.channel.localAddress)
            return server
        }
    }

    /// Closes a socket bound and never served (docketd ending before its parts ran).
    func close() {
        let unserved = state.withLock { state -> Server? in
            guard case .bound(let server) = state else { return nil }
            state = .closed
            return server
        }
        unserved?.channel.close(promise: nil)
    }

    private static func closed(_ endpoint: String) -> DocketError {
        DocketError(.unavailable, "\(endpoint) was closed before it served")
    }
}
