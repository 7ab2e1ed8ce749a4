import DocketCore

/// The deadlines every database call runs under (docs/configuration.md): no request waits on the database forever.
public struct DatabaseLimits: Sendable, Hashable {
    /// Longest wait for a pooled connection; past it the call answers `UNAVAILABLE`.
    public var acquireTimeout: Duration = .seconds(2)
    /// Longest a whole call may take, its wait for a connection included. Past it the connection is closed (the only
    /// way to abort a query in flight, or one stuck on a dead connection) and the call answers `UNAVAILABLE`.
    public var requestTimeout: Duration = .seconds(10)
    /// PostgreSQL's own `statement_timeout` on pooled connections, so the server stops work nobody waits for;
    /// zero leaves the server's setting alone.
    public var statementTimeout: Duration = .seconds(10)
    /// Longest a new connection may take to open (TCP, TLS and the startup handshake).
    public var connectTimeout: Duration = .seconds(3)

    public init() {}

    public func validate() throws(DocketError) {
        guard acquireTimeout > .zero else { throw .validation(field: "acquire_timeout", "must be positive") }
        guard requestTimeout >= acquireTimeout else {
            throw .validation(field: "request_timeout", "must be at least the acquire timeout (\(acquireTimeout.inSeconds) s)")
        }
        guard statementTimeout >= .zero else { throw .validation(field: "statement_timeout", "must not be negative") }
        guard connectTimeout > .zero else { throw .validation(field: "connect_timeout", "must be positive") }
    }
}
