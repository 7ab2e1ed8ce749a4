import DocketCore

/// Limits and addresses of the protocol server (SPEC 7), with safe defaults; `validate()` names a bad setting.
public struct ServerConfiguration: Sendable {
    public var host = "127.0.0.1"
    public var port = 7420
    /// Longest request line, in bytes; longer lines get `LINE_TOO_LONG` and are skipped up to their newline.
    public var maxLineBytes = 1 << 20
    public var maxConnections = 1024
    /// Requests a connection may have in progress before the server stops reading from it.
    public var maxInFlightPerConnection = 64
    /// Seconds a new connection has to authenticate.
    public var authDeadlineSeconds: Double = 10
    /// Seconds of silence after which a connection with nothing in progress is closed.
    public var idleTimeoutSeconds: Double = 300
    /// Failed `auth` attempts after which the connection is closed.
    public var maxFailedAuths = 5
    /// Connections that have not authenticated yet, at most; a new one past it closes the oldest of them, so a flood
    /// of idle connections cannot lock real clients out.
    public var maxUnauthenticated = 128
    /// Response bytes a connection may have waiting to be sent before docketd stops reading its requests.
    public var maxOutputBytes = 4 << 20

    public init() {}

    public func validate() throws(DocketError) {
        guard (0...65_535).contains(port) else { throw .validation(field: "listen", "port must be 0–65535, got \(port)") }
        guard maxLineBytes >= 1024 else { throw .validation(field: "max_line_bytes", "must be at least 1024, got \(maxLineBytes)") }
        guard maxConnections >= 1 else { throw .validation(field: "max_connections", "must be at least 1") }
        guard (1...10_000).contains(maxInFlightPerConnection) else {
            throw .validation(field: "max_in_flight", "must be 1–10000, got \(maxInFlightPerConnection)")
        }
        guard authDeadlineSeconds > 0 else { throw .validation(field: "auth_deadline", "must be positive") }
        guard idleTimeoutSeconds > 0 else { throw .validation(field: "idle_timeout", "must be positive") }
        guard maxFailedAuths >= 1 else { throw .validation(field: "max_failed_auths", "must be at least 1") }
        guard maxUnauthenticated >= 1 else { throw .validation(field: "max_unauthenticated", "must be at least 1") }
        guard maxOutputBytes >= 65_536 else {
            throw .validation(field: "max_output_bytes", "must be at least 65536, got \(maxOutputBytes)")
        }
    }
}
