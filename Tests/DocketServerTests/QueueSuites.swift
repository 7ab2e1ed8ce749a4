import Testing

/// The queue suites, run one after another: each starts a docketd and loads it (thousands of jobs, eight claimers),
/// and side by side with the rest of the run they would starve the timing-sensitive cluster tests of CPU.
@Suite(.serialized) enum QueueSuites {}
