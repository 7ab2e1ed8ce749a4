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
/// or fails `auth` too often is closed. Nothing a client sends can end the server.
struct ClientSession {
    let channel: NIOAsyncChannel<Frame, ByteBuffer>
    let context: ServerContext

    func run() async {
        let configuration = context.configuration
        try? await channel.executeThenClose { inbound, outbound in
            let responses = ResponseQueue()
            let slots = InFlightSlots(configuration.maxInFlightPerConnection)
            let activity = Activity()
            let events = EventSession(bus: context.bus)
            await withTaskGroup(of: Void.self) { group in
                group.addTask {
                    while let batch = await responses.next() {
                        var buffer = ByteBuffer()
                        buffer.reserveCapacity(batch.reduce(0) { $0 + $1.count })
                        for line in batch { buffer.writeBytes(line) }
                        do { try await outbound.write(buffer) } catch { break }
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
        var actor: Principal?
        var failedAuths = 0
        // Discarding: a long-lived connection serves millions of requests, and a plain task group would keep every
        // finished child until it was awaited.
        await withDiscardingTaskGroup { requests in
            // Subscriptions end with the reading (however it ends), so the group does not wait on their deliveries.
            defer { events.closeAll() }
            do {
                for try await frame in inbound {
                    activity.touch()
                    guard case .line(let line) = frame else {
                        responses.push(WireResponse.failure(id: .null, error: DocketError(.lineTooLong,
                            "the line is longer than \(context.configuration.maxLineBytes) bytes and was skipped")))
                        context.metrics.countError(.lineTooLong)
                        continue
                    }
                    let request: WireRequest
                    switch WireRequest.parse(line.readableBytesView) {
                    case .failure(let refusal):
                        responses.push(WireResponse.failure(id: refusal.id, error: refusal.error))
                        context.metrics.countError(refusal.error.code)
                        continue
                    case .success(let parsed):
                        request = parsed
                    }
                    switch request.op {
                    case "hello":
                        responses.push(WireResponse.success(id: request.id, data: .object([
                            "server": .string("docketd"), "version": .string(context.version), "protocol": .number(1),
                            "instance_id": .string(context.instanceId)])))
                    case "ping":
                        responses.push(WireResponse.success(id: request.id, data: .object([
                            "pong": .bool(true), "instance_id": .string(context.instanceId)])))
                    case "auth":
                        do {
                            let token = try request.args.string("token", maxLength: 200)
                            let established = try await context.keys.authenticate(token)
                            actor = established
                            activity.authenticated()
                            responses.push(WireResponse.success(id: request.id, data: .object(["actor": established.json])))
                        } catch {
                            failedAuths += 1
                            let refusal = (error as? DocketError) ?? DocketError(.unavailable, "cannot check the key now")
                            responses.push(WireResponse.failure(id: request.id, error: refusal))
                            context.metrics.countError(refusal.code)
                            if failedAuths >= context.configuration.maxFailedAuths {
                                context.logger.notice("closing a connection after repeated failed auths")
                                return
                            }
                        }
                    default:
                        guard let actor else {
                            responses.push(WireResponse.failure(id: request.id, error: DocketError(.unauthenticated,
                                "authenticate first: send {\"op\": \"auth\", \"args\": {\"token\": \"dk_…\"}}")))
                            context.metrics.countError(.unauthenticated)
                            continue
                        }
                        if request.op == "subscribe" {
                            do throws(DocketError) {
                                let delivery = try await events.subscribe(request, actor: actor, responses: responses)
                                requests.addTask { await delivery() }
                            } catch {
                                responses.push(WireResponse.failure(id: request.id, error: error))
                                context.metrics.countError(error.code)
                            }
                            continue
                        }
                        if request.op == "unsubscribe" {
                            do throws(DocketError) {
                                responses.push(WireResponse.success(id: request.id, data: try events.unsubscribe(request)))
                            } catch {
                                responses.push(WireResponse.failure(id: request.id, error: error))
                                context.metrics.countError(error.code)
                            }
                            continue
                        }
                        if request.op == "events.list" {
                            await slots.acquire()
                            requests.addTask {
                                responses.push(await serve(request) { try await events.list(request, actor: actor) })
                                slots.release()
                            }
                            continue
                        }
                        guard Dispatcher.knows(request.op) else {
                            responses.push(WireResponse.failure(id: request.id, error: DocketError(.unknownOp,
                                "unknown op \"\(request.op)\"", details: ["op": .string(request.op)])))
                            context.metrics.countError(.unknownOp)
                            continue
                        }
                        await slots.acquire()
                        requests.addTask {
                            responses.push(await serve(request, actor: actor))
                            slots.release()
                        }
                    }
                }
            } catch {
                // The connection ended with an error (reset, half-close on shutdown): finish what is in progress.
            }
        }
    }

    /// Runs one request through the dispatcher and renders its response line.
    private func serve(_ request: WireRequest, actor: Principal) async -> [UInt8] {
        await serve(request) { try await context.dispatcher.handle(request, actor: actor) }
    }

    /// Runs `body` for `request`, counting it in the metrics, and renders its response line.
    private func serve(_ request: WireRequest, _ body: () async throws -> JSONValue) async -> [UInt8] {
        let clock = ContinuousClock()
        let started = clock.now
        do {
            let data = try await body()
            context.metrics.record(op: request.op, duration: clock.now - started, error: nil)
            return WireResponse.success(id: request.id, data: data)
        } catch {
            let refusal = (error as? DocketError) ?? DocketError(.internal, "unexpected error: \(String(describing: error))")
            if refusal.code == .internal { context.logger.error("request failed", metadata: ["op": "\(request.op)", "error": "\(refusal.message)"]) }
            context.metrics.record(op: request.op, duration: clock.now - started, error: refusal.code)
            return WireResponse.failure(id: request.id, error: refusal)
        }
    }

    /// Closes the connection when it has not authenticated in time or has been idle too long.
    private func watch(_ activity: Activity, _ slots: InFlightSlots, _ events: EventSession) async {
        let configuration = context.configuration
        while !activity.isFinished {
            try? await Task.sleep(for: .milliseconds(250))
            let (since, last, authenticated) = activity.times
            let now = ContinuousClock.now
            if !authenticated, now - since > .seconds(configuration.authDeadlineSeconds) {
                channel.channel.close(promise: nil)
                return
            }
            if !slots.inUse, !events.hasSubscriptions, now - last > .seconds(configuration.idleTimeoutSeconds) {
                channel.channel.close(promise: nil)
                return
            }
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
    }

    private let state = Mutex(State())

    func touch() { state.withLock { $0.last = .now } }
    func authenticated() { state.withLock { $0.authenticated = true } }
    func finish() { state.withLock { $0.finished = true } }
    var isFinished: Bool { state.withLock { $0.finished } }
    var times: (ContinuousClock.Instant, ContinuousClock.Instant, Bool) {
        state.withLock { ($0.since, $0.last, $0.authenticated) }
    }
}

extension Principal {
    var json: JSONValue {
        .object(["id": .string(id), "type": .string(type.rawValue), "tenant_id": .string(tenantId),
                 "scopes": .array(scopes.map(\.rawValue).sorted().map(JSONValue.string))])
    }
}
