import DocketCore
import DocketProtocol

extension OperationTable {
    /// The queue operations: settings and flow control (docs/protocol.md, "Queues").
    static let queues: [ProtocolOperation] = [
        ProtocolOperation(.queueList, NoArguments.self) { input, call in
            JSONValue.object(["queues": try await call.jobs.queues(tenant: input.tenantId, by: try call.actor).wire])
        },
        ProtocolOperation(.queueGet, QueueRef.self) { input, call in
            try await call.jobs.queue(input.name, tenant: input.tenantId, by: try call.actor)
        },
        ProtocolOperation(.queueUpdate, QueueUpdate.self) { input, call in try await call.jobs.updateQueue(input, by: try call.actor) },
        ProtocolOperation(.queuePause, QueueRef.self) { input, call in
            try await call.jobs.setQueuePaused(input, paused: true, by: try call.actor)
        },
        ProtocolOperation(.queueResume, QueueRef.self) { input, call in
            try await call.jobs.setQueuePaused(input, paused: false, by: try call.actor)
        },
    ]
}
