import Foundation

/// The durable delivery state of one completion callback (SPEC 4.3), kept in `jobs.callback` beside
/// `jobs.callback_due_at` (when the leader should look at it next).
///
/// One terminal state gets one delivery (`deliveryId`, sent as `Docket-Delivery-Id` so a receiver can drop a repeat);
/// it moves pending → delivering (attempt leased until its deadline) → delivered, or back to pending after a failed
/// attempt with backoff, or → failed when the attempts are spent or the URL is refused.
public struct CallbackDelivery: Sendable, Hashable {
    public enum State: String, Sendable, Hashable {
        case pending, delivering, delivered, failed
    }

    public var state: State
    public var deliveryId: UUID
    /// `{job_id, status, completed_at, metadata}`: what is POSTed.
    public var payload: JSONValue
    public var attempts: Int
    public var sentAt: Date?
    public var statusCode: Int?
    public var error: String?

    public init(state: State, deliveryId: UUID, payload: JSONValue, attempts: Int = 0, sentAt: Date? = nil,
                statusCode: Int? = nil, error: String? = nil) {
        self.state = state
        self.deliveryId = deliveryId
        self.payload = payload
        self.attempts = attempts
        self.sentAt = sentAt
        self.statusCode = statusCode
        self.error = error
    }

    /// A new delivery for the terminal state `job` has just reached.
    public static func pending(for job: Job, now: Date) -> CallbackDelivery {
        CallbackDelivery(state: .pending, deliveryId: .random(), payload: .object([
            "job_id": .string(job.idText), "status": .string(job.status.rawValue),
            "completed_at": .string(Timestamp.format(job.finishedAt ?? now)), "metadata": .object(job.metadata),
        ]))
    }

    /// Takes an attempt: delivering, leased until `leaseUntil` (after which another leader may try again).
    public mutating func begin() {
        state = .delivering
        attempts += 1
    }

    /// A 2xx answer: delivered.
    public mutating func succeed(statusCode: Int, at now: Date) {
        state = .delivered
        self.statusCode = statusCode
        sentAt = now
        error = nil
    }

    /// A failed attempt: the time of the next one, or nil when it has given up (`failed`). A refused URL (`final`)
    /// gives up at once.
    public mutating func fail(statusCode: Int?, error: String, at now: Date, policy: RetryPolicy, final: Bool = false,
                              using random: inout some RandomNumberGenerator) -> Date? {
        self.statusCode = statusCode
        self.error = String(error.prefix(500))
        sentAt = now
        guard !final, policy.allowsRetry(afterAttempt: attempts) else {
            state = .failed
            return nil
        }
        state = .pending
        return now.addingTimeInterval(policy.backoff(afterAttempt: attempts, using: &random))
    }

    /// Whether a status code counts as delivered.
    public static func isSuccess(_ statusCode: Int) -> Bool { (200..<300).contains(statusCode) }

    public var json: JSONValue {
        .object([
            "state": .string(state.rawValue), "delivery_id": .string(deliveryId.uuidString.lowercased()),
            "payload": payload, "attempts": .number(Double(attempts)),
            "sent_at": sentAt.map { .string(Timestamp.format($0)) } ?? .null,
            "status_code": statusCode.map { .number(Double($0)) } ?? .null, "error": error.map(JSONValue.string) ?? .null,
        ])
    }

    public init?(json: JSONValue?) {
        guard case .object(let fields)? = json, case .string(let stateName)? = fields["state"],
              let state = State(rawValue: stateName), case .string(let id)? = fields["delivery_id"], let deliveryId = UUID(uuidString: id)
        else { return nil }
        self.state = state
        self.deliveryId = deliveryId
        payload = fields["payload"] ?? .null
        if case .number(let count)? = fields["attempts"] { attempts = Int(count) } else { attempts = 0 }
        if case .string(let text)? = fields["sent_at"] { sentAt = Timestamp.parse(text) } else { sentAt = nil }
        if case .number(let code)? = fields["status_code"] { statusCode = Int(code) } else { statusCode = nil }
        if case .string(let text)? = fields["error"] { error = text } else { error = nil }
    }
}
