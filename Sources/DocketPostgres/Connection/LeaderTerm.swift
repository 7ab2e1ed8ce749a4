import PostgresNIO

/// A leader's term as its maintenance work carries it: the epoch stamped on the runs and events it writes, and the
/// fence run first in every transaction it opens, so its writes commit only while the term is still its own
/// (docs/cluster.md, "Fencing").
public struct LeaderTerm: Sendable {
    public typealias Fence = @Sendable (PostgresConnection) async throws -> Void

    public let epoch: Int64
    public let fence: Fence

    public init(epoch: Int64, fence: @escaping Fence) {
        self.epoch = epoch
        self.fence = fence
    }
}
