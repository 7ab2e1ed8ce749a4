import DocketCore
import DocketProtocol
import Foundation
import Logging
import NIOCore
import Synchronization

/// Serves one client connection: reads request lines, answers session operations in order, runs the others
/// concurrently (at most `maxInFlightPerConnection`), and writes every response that is ready in one flush.
///
/// A bad line is answered and the connection stays usable; a connection that does not authenticate in time, stays idle,
/// or fails `auth` too often is closed. While more than `maxOutputBytes` of answers wait to be sent (a client that
/// does not read), the connection is not read either. Nothing a client sends can end the server.
struct ClientSession {
    let channel: NIOAsyncChannel<Frame, ByteBuffer>
    let context: ServerContext
    let roster: ConnectionRoster

    func run() async {
        let configuration = context.configuration
        try? await channel.executeThenClose { inbound, outbound in
            let responses = ResponseQueue(limit: configuration.maxOutputBytes)
            let slots = InFlightSlots(configuration.maxInFlightPerConnection)
            let activity = Activity()
            let events = EventSession(bus: context.bus)
            await withTaskGroup(of: Void.self) { group in
                group.addTask {
                    while let batch = await responses.next() {
                        var buffer = ByteBuffer()
                        let count = batch.reduce(0) { $0 + $1.count }
                        buffer.reserveCapacity(count)
                        for line in batch { buffer.writeBytes(line) }
                        do {
                            try await outbound.write(buffer)
                        } catch {
                            responses.abandon()
                            break
                        }
                        responses.written(count)
                    }
                }
                group.addTask { await watch(activity, slots, events) }
                await read(inbound, responses, slots, activity, events)
                responses.finish()
                activity.finish()
            }
        }
    }

    private func read(
        _ inbound: NIOAsyncChannelInboundStream<Frame>, _ responses: ResponseQueue, _ slots: InFlightSlots, _ activity: Activity,
        _ events: EventSession
    ) async {
        let session = SessionState(events: events, responses: responses, channel: channel.channel, roster: roster,
                                   maxFailedAuths: context.configuration.maxFailedAuths)
        // Discarding: a long-lived connection serves millions of requests, and a plain task group would keep every
        // finished child until it was awaited.
        await withDiscardingTaskGroup { requests in
            // Subscriptions end with the reading (however it ends), so the group does not wait on their deliveries.
            defer { events.closeAll() }
            do {
                for try await frame in inbound {
                    activity.touch()
                    guard case .line(let line) = frame else {
                        refuse(.none, DocketError(.lineTooLong,
                            "the line is longer than \(context.configuration.maxLineBytes) bytes and was skipped"), responses)
                        continue
                    }
                    // Back-pressure in bytes: a client that does not read its answers is not read either.
                    await responses.room()
                    let request: WireRequest
                    switch WireRequest.parse(line.readableBytesView) {
                    case .failure(let refusal):
                        refuse(refusal.id, refusal.error, responses)
                        continue
                    case .success(let parsed):
                        request = parsed
                    }
                    guard let operation = OperationTable.operation(named: request.op) else {
                        refuse(request.id, DocketError(.unknownOp, "unknown op \"\(request.op.prefix(100))\"",
                                                       details: ["op": .string(request.op)]), responses)
                        continue
                    }
                    let actor = session.actor
                    if operation.needsActor, actor == nil {
                        refuse(request.id, DocketError(.unauthenticated,
                            "authenticate first: send {\"op\": \"auth\", \"args\": {\"token\": \"dk_…\"}}"), responses)
                        continue
                    }
                    let call = OperationCall(services: context.services, session: session, context: context, caller: actor)
                    switch operation.order {
                    case .inOrder:
                        responses.push(await serve(request, operation, call))
                        if operation.descriptor == .auth, actor == nil, session.actor != nil { activity.authenticated() }
                        for work in session.takeAfterAnswer() { requests.addTask { await work() } }
                        if session.isClosing {
                            context.logger.notice("closing a connection", metadata: ["after": "\(operation.name)"])
                            return
                        }
                    case .concurrent:
                        await slots.acquire()
                        requests.addTask {
                            responses.push(await serve(request, operation, call))
                            slots.release()
                        }
                    }
                }
            } catch {
                // The connection ended with an error (reset, half-close on shutdown): finish what is in progress.
            }
        }
    }

    /// Answers a line that never reached an operation, and counts the refusal.
    private func refuse(_ id: RequestID, _ error: DocketError, _ responses: ResponseQueue) {
        responses.push(WireResponse.failure(id: id, error: error))
        context.metrics.countError(error.code)
    }

    /// Runs one request's operation, counting it in the metrics, and renders its response line.
    private func serve(_ request: WireRequest, _ operation: ProtocolOperation, _ call: OperationCall) async -> [UInt8] {
        let clock = ContinuousClock()
        let started = clock.now
        do {
            let data = try await operation.run(request.args, call)
            context.metrics.record(op: operation.name, duration: clock.now - started, error: nil)
            return WireResponse.success(id: request.id) { data.writeWire(into: &$0) }
        } catch {
            let refusal = (error as? DocketError) ?? DocketError(.internal, "unexpected error: \(String(describing: error))")
            if refusal.code == .internal {
                context.logger.error("request failed", metadata: ["op": "\(operation.name)", "error": "\(refusal.message)"])
            }
            context.metrics.record(op: operation.name, duration: clock.now - started, error: refusal.code)
            return WireResponse.failure(id: request.id, error: refusal)
        }
    }

    /// Closes the connection when it has not authenticated in time or has been idle too long; sleeps until the next
    /// moment one of those could happen, not on a fixed tick (thousands of idle connections cost no wake-ups).
    private func watch(_ activity: Activity, _ slots: InFlightSlots, _ events: EventSession) async {
        let configuration = context.configuration
        let authDeadline = Duration.milliseconds(Int(configuration.authDeadlineSeconds * 1000))
        let idleTimeout = Duration.milliseconds(Int(configuration.idleTimeoutSeconds * 1000))
        while !activity.isFinished, !Task.isCancelled {
            let (since, last, authenticated) = activity.times
            let now = ContinuousClock.now
            if !authenticated, now - since > authDeadline {
                channel.channel.close(promise: nil)
                return
            }
            let busy = slots.inUse || events.hasSubscriptions
            if !busy, now - last > idleTimeout {
                channel.channel.close(promise: nil)
                return
            }
            var next = busy ? now + .seconds(1) : last + idleTimeout
            if !authenticated { next = min(next, since + authDeadline) }
            await activity.rest(until: max(next, now + .milliseconds(10)))
        }
    }
}

/// When a connection began, when it last sent something, and whether it has authenticated.
final class Activity: Sendable {
    private struct State {
        var since = ContinuousClock.now
        var last = ContinuousClock.now
        var authenticated = false
        var finished = false
        var sleeper: CheckedContinuation<Void, Never>?
        /// A wake-up that came before the sleeper was stored.
        var woken = false
    }

    private let state = Mutex(State())

    func touch() { state.withLock { $0.last = .now } }
    func authenticated() { state.withLock { $0.authenticated = true } }

    func finish() {
        let sleeper = state.withLock { state -> CheckedContinuation<Void, Never>? in
            state.finished = true
            defer { state.sleeper = nil }
            return state.sleeper
        }
        sleeper?.resume()
    }

    var isFinished: Bool { state.withLock { $0.finished } }
    var times: (ContinuousClock.Instant, ContinuousClock.Instant, Bool) {
        state.withLock { ($0.since, $0.last, $0.authenticated) }
    }

    /// Sleeps until `deadline`, or until `finish()`.
    func rest(until deadline: ContinuousClock.Instant) async {
        let timer = Task {
            try? await Task.sleep(until: deadline, clock: .continuous)
            guard !Task.isCancelled else { return }
            self.wake()
        }
        await withTaskCancellationHandler {
            await withCheckedContinuation { continuation in
                let done = state.withLock { state -> Bool in
                    if state.finished || state.woken {
                        state.woken = false
                        return true
                    }
                    state.sleeper = continuation
                    return false
                }
                if done { continuation.resume() }
            }
        } onCancel: {
            self.wake()
        }
        timer.cancel()
    }

    private func wake() {
        let sleeper = state.withLock { state -> CheckedContinuation<Void, Never>? in
            guard let sleeper = state.sleeper else {
                state.woken = true
                return nil
            }
            state.sleeper = nil
            return sleeper
        }
        sleeper?.resume()
    }
}
