/// How a failed job is retried automatically: exponential backoff, capped, with ± jitter (SPEC 4.3).
public struct RetryPolicy: Sendable, Hashable, Codable {
    /// Attempts in all, the first included.
    public var maxAttempts: Int
    public var initialBackoffSeconds: Double
    public var maxBackoffSeconds: Double
    /// Relative jitter: 0.25 spreads each delay uniformly over ±25 %.
    public var jitter: Double

    public static let defaults = RetryPolicy(maxAttempts: 5, initialBackoffSeconds: 1, maxBackoffSeconds: 30, jitter: 0.25)

    public init(maxAttempts: Int, initialBackoffSeconds: Double, maxBackoffSeconds: Double, jitter: Double) {
        self.maxAttempts = maxAttempts
        self.initialBackoffSeconds = initialBackoffSeconds
        self.maxBackoffSeconds = maxBackoffSeconds
        self.jitter = jitter
    }

    enum CodingKeys: String, CodingKey {
        case maxAttempts = "max_attempts", initialBackoffSeconds = "initial_backoff_seconds"
        case maxBackoffSeconds = "max_backoff_seconds", jitter
    }

    /// A policy from its wire object; fields left out take the defaults; `VALIDATION_ERROR` names a bad field.
    public init(json: JSONValue) throws(DocketError) {
        guard case .object(let fields) = json else {
            throw .validation(field: "retry_policy", "must be an object")
        }
        if let unknown = fields.keys.first(where: { CodingKeys(rawValue: $0) == nil }) {
            throw .validation(field: "retry_policy.\(unknown)", "unknown field")
        }
        func number(_ key: CodingKeys, _ fallback: Double) throws(DocketError) -> Double {
            guard let value = fields[key.rawValue] else { return fallback }
            guard case .number(let number) = value, number.isFinite else {
                throw .validation(field: "retry_policy.\(key.rawValue)", "must be a number")
            }
            return number
        }
        let defaults = RetryPolicy.defaults
        let attempts = try number(.maxAttempts, Double(defaults.maxAttempts))
        guard attempts.rounded() == attempts, (1...1000).contains(attempts) else {
            throw .validation(field: "retry_policy.max_attempts", "must be a whole number 1–1000, got \(attempts)")
        }
        self.init(
            maxAttempts: Int(attempts),
            initialBackoffSeconds: try number(.initialBackoffSeconds, defaults.initialBackoffSeconds),
            maxBackoffSeconds: try number(.maxBackoffSeconds, defaults.maxBackoffSeconds),
            jitter: try number(.jitter, defaults.jitter)
        )
        try validate()
    }

    /// Checks the bounds of every field.
    public func validate() throws(DocketError) {
        guard initialBackoffSeconds > 0 else {
            throw .validation(field: "retry_policy.initial_backoff_seconds", "must be > 0, got \(initialBackoffSeconds)")
        }
        guard maxBackoffSeconds >= initialBackoffSeconds else {
            throw .validation(field: "retry_policy.max_backoff_seconds",
                              "must be ≥ initial_backoff_seconds (\(initialBackoffSeconds)), got \(maxBackoffSeconds)")
        }
        guard (0...1).contains(jitter) else {
            throw .validation(field: "retry_policy.jitter", "must be between 0 and 1, got \(jitter)")
        }
    }

    /// Whether a job that has made `attempt` attempts may make another.
    public func allowsRetry(afterAttempt attempt: Int) -> Bool { attempt < maxAttempts }

    /// The delay before the attempt after `attempt` (1-based): initial · 2^(attempt−1), capped, then jittered.
    public func backoff(afterAttempt attempt: Int, using random: inout some RandomNumberGenerator) -> Double {
        let exponent = Double(max(0, attempt - 1))
        let base = min(maxBackoffSeconds, initialBackoffSeconds * pow2(exponent))
        guard jitter > 0 else { return base }
        let factor = 1 + Double.random(in: -jitter...jitter, using: &random)
        return base * factor
    }

    private func pow2(_ exponent: Double) -> Double {
        exponent >= 1023 ? .greatestFiniteMagnitude : Double(sign: .plus, exponent: Int(exponent), significand: 1)
    }
}
