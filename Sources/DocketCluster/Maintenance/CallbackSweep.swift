import AsyncHTTPClient
import Crypto
import DocketCore
import DocketPostgres
import Foundation
import Logging
import NIOCore
import NIOHTTP1
import Synchronization

/// Callbacks (SPEC 4.3): terminal jobs with a `callback_url` get one signed HTTP POST of
/// `{job_id, status, completed_at, metadata}`, retried with backoff, its outcome recorded on the job.
///
/// Durability: the delivery state lives in `jobs.callback` (docs/operations.md). A pass (fenced, like every sweep
/// write) takes due deliveries with SKIP LOCKED and leases each attempt — `delivering`, due again after the request
/// timeout plus a margin — then POSTs outside any transaction, then records the outcome (fenced again). A leader that
/// dies mid-request leaves a leased attempt that the next leader takes once the lease passes, so nothing is lost;
/// a delivery is recorded delivered once, and the window in which a receiver's 2xx can be lost (between its answer
/// and our commit) is covered by the `Docket-Delivery-Id` header, the same for every attempt of one terminal state.
public struct CallbackSweep: MaintenanceSweep {
    public struct Configuration: Sendable {
        /// Attempts in all before `job.callback_failed`.
        public var attempts = 5
        public var timeout: Duration = .seconds(5)
        public var initialBackoffSeconds: Double = 1
        public var maxBackoffSeconds: Double = 30
        /// Refuse URLs whose host resolves to a loopback, private or link-local address.
        public var refusePrivateAddresses = false
        /// Consecutive failed attempts after which notifications count as degraded (`/readyz`).
        public var degradedAfter = 3
        /// Requests in flight at once.
        public var concurrency = 16
        public var userAgent = "docketd"

        public init() {}

        public var policy: RetryPolicy {
            RetryPolicy(maxAttempts: attempts, initialBackoffSeconds: initialBackoffSeconds,
                        maxBackoffSeconds: maxBackoffSeconds, jitter: 0.25)
        }

        public func validate() throws(DocketError) {
            guard (1...100).contains(attempts) else { throw .validation(field: "callback-attempts", "must be 1–100, got \(attempts)") }
            guard timeout > .zero, timeout <= .seconds(300) else { throw .validation(field: "callback-timeout", "must be 0–300 seconds") }
            guard degradedAfter >= 1 else { throw .validation(field: "callback-degraded-after", "must be at least 1") }
        }
    }

    public let kind = "callbacks"
    let database: Database
    let transport: any CallbackTransport
    let configuration: Configuration
    public let health: NotificationHealth

    let now: @Sendable () -> Date

    public init(database: Database, transport: any CallbackTransport, health: NotificationHealth, configuration: Configuration = .init(),
                now: @escaping @Sendable () -> Date = { Date() }) {
        self.now = now
        self.database = database
        self.transport = transport
        self.health = health
        self.configuration = configuration
    }

    public func runOnce(_ pass: SweepPass) async throws -> SweepResult {
        let leaseSeconds = configuration.timeout.inSeconds + 5
        let batch = pass.batch, clock = self.now
        let taken: [(CallbackQueries.Due, CallbackDelivery)] = try await database.transaction(fencedBy: pass.term) { connection in
            let queries = CallbackQueries(connection, logger: database.logger)
            let now = clock()
            var taken: [(CallbackQueries.Due, CallbackDelivery)] = []
            for due in try await queries.due(now: now, limit: min(batch, configuration.concurrency)) {
                guard var delivery = due.delivery, delivery.state == .pending || delivery.state == .delivering else {
                    try await queries.clear(job: due.jobId)
                    continue
                }
                delivery.begin()
                try await queries.save(job: due.jobId, delivery, dueAt: now.addingTimeInterval(leaseSeconds))
                taken.append((due, delivery))
            }
            return taken
        }
        guard !taken.isEmpty else { return .nothing }
        let outcomes = await withTaskGroup(of: (CallbackQueries.Due, CallbackDelivery, CallbackOutcome).self) { group in
            for (due, delivery) in taken {
                group.addTask { (due, delivery, await self.attempt(due, delivery)) }
            }
            return await group.reduce(into: []) { $0.append($1) }
        }
        try await database.transaction(fencedBy: pass.term) { connection in
            var random = SystemRandomNumberGenerator()
            let queries = CallbackQueries(connection, logger: database.logger)
            let events = EventQueries(connection, logger: database.logger, epoch: pass.term.epoch)
            let now = clock()
            for (due, var delivery, outcome) in outcomes {
                switch outcome {
                case .delivered(let code):
                    delivery.succeed(statusCode: code, at: now)
                    try await queries.save(job: due.jobId, delivery, dueAt: nil)
                case .failed(let code, let error, let final):
                    let next = delivery.fail(statusCode: code, error: error, at: now, policy: configuration.policy,
                                             final: final, using: &random)
                    guard try await queries.save(job: due.jobId, delivery, dueAt: next) else { continue }
                    if next == nil {
                        try await events.append([EventDraft(
                            topic: .jobCallbackFailed, tenantId: due.tenantId, entityType: .job,
                            entityId: due.jobId.uuidString.lowercased(), actorId: pass.actor.id, data: [
                                "callback_url": .string(due.url), "attempts": .number(Double(delivery.attempts)),
                                "status_code": code.map { .number(Double($0)) } ?? .null, "error": .string(delivery.error ?? error),
                                "delivery_id": .string(delivery.deliveryId.uuidString.lowercased()),
                            ])])
                    }
                }
            }
        }
        for (_, _, outcome) in outcomes {
            if case .delivered = outcome { health.succeeded() } else { health.failed(threshold: configuration.degradedAfter) }
        }
        return SweepResult(changed: outcomes.count, tookFullBatch: outcomes.count >= min(batch, configuration.concurrency))
    }

    /// One POST: signed body, timeout, the outcome (never throws).
    func attempt(_ due: CallbackQueries.Due, _ delivery: CallbackDelivery) async -> CallbackOutcome {
        let body = Self.body(delivery.payload)
        let secret: [UInt8]
        do {
            var candidate = [UInt8](repeating: 0, count: 32)
            var generator = SystemRandomNumberGenerator()
            for index in candidate.indices { candidate[index] = UInt8.random(in: 0...255, using: &generator) }
            let fresh = candidate
            secret = try await database.read { try await CallbackQueries($0, logger: database.logger).secret(tenant: due.tenantId, candidate: fresh) }
        } catch {
            return .failed(statusCode: nil, error: "cannot read the tenant's signing secret: \(Database.classify(error).message)", final: false)
        }
        let timestamp = Int(now().timeIntervalSince1970)
        let headers = [
            ("Content-Type", "application/json"), ("User-Agent", configuration.userAgent),
            ("Docket-Delivery-Id", delivery.deliveryId.uuidString.lowercased()), ("Docket-Attempt", String(delivery.attempts)),
            ("Docket-Signature", Self.signature(body: body, secret: secret, timestamp: timestamp)),
        ]
        return await transport.post(url: due.url, headers: headers, body: body, timeout: configuration.timeout,
                                    refusePrivate: configuration.refusePrivateAddresses)
    }

    /// `t=<unix seconds>,v1=<hex HMAC-SHA256 over "<t>." + body>` with the tenant's secret.
    public static func signature(body: [UInt8], secret: [UInt8], timestamp: Int) -> String {
        var message = Array("\(timestamp).".utf8)
        message += body
        let mac = HMAC<SHA256>.authenticationCode(for: message, using: SymmetricKey(data: secret))
        return "t=\(timestamp),v1=" + mac.map { String(format: "%02x", $0) }.joined()
    }

    static func body(_ payload: JSONValue) -> [UInt8] {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
        return Array((try? encoder.encode(payload)) ?? Data("{}".utf8))
    }

    public func rest(after result: SweepResult, _ pass: SweepPass) async -> Duration {
        if result.tookFullBatch { return .zero }
        guard let next = try? await database.read({ try await CallbackQueries($0, logger: database.logger).nextDue() }) else {
            return .seconds(1)
        }
        let wait = next.timeIntervalSince(now())
        if wait <= 0 { return .milliseconds(10) }
        return min(.seconds(1), .microseconds(Int(wait * 1_000_000)))
    }
}

/// How one attempt ended.
public enum CallbackOutcome: Sendable, Equatable {
    case delivered(statusCode: Int)
    /// `final`: do not try again (the URL is refused).
    case failed(statusCode: Int?, error: String, final: Bool)
}

/// Sends a callback request.
public protocol CallbackTransport: Sendable {
    func post(url: String, headers: [(String, String)], body: [UInt8], timeout: Duration, refusePrivate: Bool) async -> CallbackOutcome
}
