import Foundation

/// The pure state changes of a job's lifecycle; the service adds locking, gates, runs and events around them.
extension Job {
    public var idText: String { id.uuidString.lowercased() }

    /// Moves to `status` if the machine allows it for `operation`.
    public mutating func move(to status: JobStatus, via operation: String, now: Date) throws(DocketError) {
        try JobStatus.machine.check(id: idText, from: self.status, to: status, via: operation)
        self.status = status
        self.updatedAt = now
    }

    /// Marks the start of running: deadline from `timeout_seconds`, earlier outcome and requests cleared.
    public mutating func beginRunning(now: Date) {
        startedAt = now
        finishedAt = nil
        deadlineAt = timeoutSeconds.map { now.addingTimeInterval(Double($0)) }
        retryAt = nil
        errorCode = nil
        errorMessage = nil
        cancelRequested = nil
        cancelDeadlineAt = nil
        pauseRequested = false
    }

    /// Marks the end of running in a terminal status; a failed job with retries left gets its `retry_at`.
    public mutating func endRunning(now: Date, retryDelay: Double?) {
        finishedAt = now
        deadlineAt = nil
        leaseExpiresAt = nil
        claimedBy = nil
        cancelDeadlineAt = nil
        pauseRequested = false
        retryAt = (status == .failed) ? retryDelay.map { now.addingTimeInterval($0) } : nil
        armCallback(now: now)
    }

    /// Arms the completion callback for the terminal state just reached (SPEC 4.3): a new delivery, due now. A failed
    /// attempt that will be retried is not an end yet, so it gets none.
    public mutating func armCallback(now: Date) {
        guard callbackUrl != nil, status.isTerminal, !(status == .failed && retryAt != nil) else { return }
        callback = CallbackDelivery.pending(for: self, now: now).json
        callbackDueAt = now
    }

    /// The delay before an automatic retry of this failed attempt, or nil when the policy allows none.
    public func retryDelay(using random: inout some RandomNumberGenerator) -> Double? {
        guard let policy = parsedRetryPolicy, policy.allowsRetry(afterAttempt: attempt) else { return nil }
        return policy.backoff(afterAttempt: attempt, using: &random)
    }

    /// Adds a cost to the job's actual cost (exactly).
    public mutating func addCost(_ cost: Money?) {
        guard let cost else { return }
        actualCost = (actualCost ?? .zero) + cost
    }

    /// Appends a hand-over to the delegation chain and assigns the new agent.
    public mutating func assign(agent: String, reason: String?, now: Date) {
        delegationChain.append(.object([
            "from": assignedAgent.json, "to": .string(agent), "at": .string(Timestamp.format(now)),
            "reason": reason.json,
        ]))
        assignedAgent = agent
        updatedAt = now
    }
}

/// How a cancel or pause is carried out (SPEC 2.2).
public enum StopMode: String, Sendable, Hashable, CaseIterable {
    /// Ask the worker: it finishes the stop at its next heartbeat or checkpoint.
    case graceful
    /// Stop now.
    case hard
}
