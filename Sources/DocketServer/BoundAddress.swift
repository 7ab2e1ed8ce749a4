import DocketCore
import NIOCore
import Synchronization

/// Where a listening server ended up, for those who wait on it: the address once bound, or the reason it never will
/// be (the port is taken, the host does not resolve). Waiters that arrive before either are resumed by it, so a part
/// that needs the address (the announcer, the instance registry) fails with the server instead of waiting forever.
final class BoundAddress: Sendable {
    private enum State {
        case waiting([CheckedContinuation<SocketAddress?, any Error>])
        case bound(SocketAddress?)
        case failed(any Error)
    }

    private let state = Mutex(State.waiting([]))

    /// The address, nil until bound (or when the socket has none).
    var current: SocketAddress? {
        state.withLock { if case .bound(let address) = $0 { address } else { nil } }
    }

    /// The address once bound; throws the server's error when binding failed.
    func wait() async throws -> SocketAddress? {
        try await withCheckedThrowingContinuation { continuation in
            let outcome = state.withLock { state -> Result<SocketAddress?, any Error>? in
                switch state {
                case .waiting(let waiters):
                    state = .waiting(waiters + [continuation])
                    return nil
                case .bound(let address): return .success(address)
                case .failed(let error): return .failure(error)
                }
            }
            if let outcome { continuation.resume(with: outcome) }
        }
    }

    /// Binds `endpoint` ("host:port", for the error) with `bind` and settles every waiter with its outcome; a failure
    /// becomes `UNAVAILABLE` naming the endpoint and the reason (docketd prints it and exits 1).
    func settle<Server>(
        _ endpoint: String, _ bind: () async throws -> Server, address: (Server) -> SocketAddress?
    ) async throws -> Server {
        let outcome: Result<Server, any Error>
        do {
            outcome = .success(try await bind())
        } catch let error as IOError {
            outcome = .failure(DocketError(.unavailable, "cannot listen on \(endpoint): \(error.description)"))
        } catch {
            outcome = .failure(DocketError(.unavailable, "cannot listen on \(endpoint): \(error)"))
        }
        let settled: Result<SocketAddress?, any Error> = outcome.map(address)
        let waiters = state.withLock { state -> [CheckedContinuation<SocketAddress?, any Error>] in
            guard case .waiting(let waiters) = state else { return [] }
            switch settled {
            case .success(let address): state = .bound(address)
            case .failure(let error): state = .failed(error)
            }
            return waiters
        }
        for waiter in waiters { waiter.resume(with: settled) }
        return try outcome.get()
    }
}
