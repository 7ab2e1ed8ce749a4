import DocketCore
import DocketPostgres
import Foundation
import Logging
import PostgresNIO

/// Every job operation of SPEC 2.2–2.3 over PostgreSQL, for the protocol, the CLI and the sweeps.
///
/// Each write locks its row (`FOR UPDATE`), checks permission, tenant, input and the status machine, bumps `version`
/// (refusing a stale `expected_version`), and writes the change, its runs and its events in one transaction. Nothing
/// here sends NOTIFY: the bus wakes listeners after commit.
public struct JobService: Sendable {
    public struct Configuration: Sendable {
        /// How long a graceful cancel waits for the worker before the timeout sweep cancels hard.
        public var cancelGraceSeconds: Double = 30
        /// Lease of a claim when the caller names none, and the most a caller may ask for.
        public var defaultLeaseSeconds: Int = 60
        public var maxLeaseSeconds: Int = 3600
        /// Recorded on the runs this instance opens.
        public var instanceId: String?
        /// Concurrent `job.create`s without an idempotency key share one statement and one commit, and so do the
        /// conditioned writes of complete, fail, heartbeat and checkpoint (`StatementGroup`).
        public var groupCommit = true
        /// One-statement claims in flight at once from this instance; the others wait their turn (`AsyncGate`).
        public var claimConcurrency = 4

        public init() {}
    }

    let database: Database
    let configuration: Configuration
    let clock: @Sendable () -> Date
    /// Starts refused by queue limits (shared by every copy of this service).
    public let refusals = QueueRefusals()
    /// How many claims took the one-statement path and how many the transactional one.
    public let claimPaths = ClaimPaths()
    /// Lets `configuration.claimConcurrency` one-statement claims run at once (shared by every copy of this service).
    let claimGate: AsyncGate
    /// The group commit of creates, when on (shared by every copy of this service).
    let createGroup: StatementGroup<GroupedCreate, Void>?
    /// The group commit of changes written without their row lock, when on.
    let changeGroup: StatementGroup<ConditionedChange, Bool>?
    /// Set on the copy a leader's sweep uses (`during(_:)`): every transaction is fenced by the term.
    private(set) var term: LeaderTerm?
    var logger: Logger { database.logger }

    public init(database: Database, configuration: Configuration = .init(), clock: @escaping @Sendable () -> Date = { Date().storedPrecision }) {
        self.database = database
        self.configuration = configuration
        self.clock = clock
        createGroup = configuration.groupCommit ? .creates(database) : nil
        changeGroup = configuration.groupCommit ? .changes(database) : nil
        claimGate = AsyncGate(width: max(configuration.claimConcurrency, 1))
    }

    /// How many group-commit statements have written how many created jobs (zeros when group commit is off).
    public var groupCommitFigures: (statements: Int, jobs: Int) {
        createGroup.map { ($0.figures.batches, $0.figures.requests) } ?? (0, 0)
    }

    /// How many group-commit statements have written how many unlocked changes (zeros when group commit is off).
    public var groupedChangeFigures: (statements: Int, changes: Int) {
        changeGroup.map { ($0.figures.batches, $0.figures.requests) } ?? (0, 0)
    }

    /// This service working for a leader's sweep: its transactions are fenced by `term`, its runs and events carry
    /// the term's epoch.
    public func during(_ term: LeaderTerm) -> JobService {
        var fenced = self
        fenced.term = term
        return fenced
    }

    var store: VersionedStore<Job> { VersionedStore(database: database, clock: clock, term: term) }
}
