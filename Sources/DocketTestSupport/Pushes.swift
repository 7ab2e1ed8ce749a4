import DocketClient
import DocketCore


/// The next `count` events pushed to `client` (a subscriber); fails after `timeout`.
public func pushedEvents(_ client: DocketClient, count: Int, timeout: Duration = .seconds(10)) async throws -> [JSONValue] {
    try await withThrowingTaskGroup(of: [JSONValue].self) { group in
        group.addTask {
            var events: [JSONValue] = []
            for await push in client.pushes {
                if case .event(_, let event) = push { events.append(event) }
                if events.count == count { break }
            }
            return events
        }
        group.addTask {
            try await Task.sleep(for: timeout)  // models time: the deadline for the events
            throw DocketError(.unavailable, "fewer than \(count) events within \(timeout)")
        }
        defer { group.cancelAll() }
        return try await group.next()!
    }
}
