import DocketCore
import DocketProtocol

extension OperationTable {
    /// The session and event operations: answered in order, on the connection's own state.
    static let session: [ProtocolOperation] = [
        ProtocolOperation(.hello, Nothing.self, order: .inOrder) { _, call in
            JSONValue.object(["server": .string("docketd"), "version": .string(call.context.version), "protocol": .number(1),
                              "instance_id": .string(call.context.instanceId)])
        },
        ProtocolOperation(.ping, Nothing.self, order: .inOrder) { _, call in
            JSONValue.object(["pong": .bool(true), "instance_id": .string(call.context.instanceId)])
        },
        ProtocolOperation(.auth, AuthArguments.self, order: .inOrder) { input, call in
            let actor: Principal
            do {
                actor = try await call.services.keys.authenticate(input.token)
            } catch {
                call.session.authFailed()
                throw error
            }
            try call.session.authenticated(actor)
            return JSONValue.object(["actor": actor.wire])
        },
        ProtocolOperation(.subscribe, SubscribeArguments.self, order: .inOrder) { input, call in
            try await call.session.events.subscribe(input, actor: try call.actor, session: call.session)
        },
        ProtocolOperation(.unsubscribe, UnsubscribeArguments.self, order: .inOrder) { input, call in
            try call.session.events.unsubscribe(input)
        },
        ProtocolOperation(.eventsList, EventsListArguments.self) { input, call in
            try await call.session.events.list(input, actor: try call.actor)
        },
    ]

    /// Budgets and the cluster (`cluster:admin`, `cluster:read`).
    static let admin: [ProtocolOperation] = [
        ProtocolOperation(.budgetSet, BudgetSetting.self) { input, call in
            try await call.jobs.setBudget(limit: input.limit, period: input.period, tenant: input.tenantId, by: try call.actor)
        },
        ProtocolOperation(.budgetGet, NoArguments.self) { input, call in
            let (budget, spent) = try await call.jobs.budget(tenant: input.tenantId, by: try call.actor)
            guard case .object(var fields) = budget.wire else { return budget.wire }
            fields["spent"] = .string(spent.description)
            return JSONValue.object(fields)
        },
        ProtocolOperation(.clusterStatus, NoArguments.self) { _, call in
            try await call.services.cluster.status(by: try call.actor)
        },
    ]
}
