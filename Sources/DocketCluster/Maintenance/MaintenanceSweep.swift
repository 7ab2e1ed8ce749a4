import DocketBus
import DocketCore
import DocketPostgres

/// One of the leader's maintenance sweeps (SPEC 4.3): what one pass does, and how long to rest after it. The
/// `Maintainer` runs every sweep while this instance leads, and none otherwise.
public protocol MaintenanceSweep: Sendable {
    /// The name in logs, metrics and `docket.sweep_runs`.
    var kind: String { get }
    /// One pass over at most `pass.batch` due rows of each kind it handles; every write fenced by `pass.term`.
    func runOnce(_ pass: SweepPass) async throws -> SweepResult
    /// How long to rest after a pass that came to `result`.
    func rest(after result: SweepResult, _ pass: SweepPass) async -> Duration
    /// Ends a rest early when fired (the recurrence sweep's: a schedule changed somewhere); nil for a plain rest.
    var wake: WakeSignal? { get }
}

extension MaintenanceSweep {
    public var wake: WakeSignal? { nil }
}

/// What one pass works with: the leader's term (its fence and epoch), how much it may take on, and who it acts as.
public struct SweepPass: Sendable {
    public let term: LeaderTerm
    public let batch: Int
    /// The system actor sweeps act as (`leader:<instance>`, every scope).
    public let actor: Principal
}

/// What one pass did.
public struct SweepResult: Sendable, Hashable {
    /// Rows it changed.
    public var changed: Int
    /// Whether it took as much as its batch allowed (more may be due: rest little or not at all).
    public var tookFullBatch: Bool

    public init(changed: Int, tookFullBatch: Bool) {
        self.changed = changed
        self.tookFullBatch = tookFullBatch
    }

    public static let nothing = SweepResult(changed: 0, tookFullBatch: false)
}
