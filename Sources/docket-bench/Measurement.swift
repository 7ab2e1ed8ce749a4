import Foundation

/// Latencies of one run, and what they add up to.
struct Measurement {
    var label: String
    var latencies: [Duration]
    var elapsed: Duration
    var errors: Int

    var opsPerSecond: Double { Double(latencies.count) / seconds(elapsed) }

    func percentile(_ p: Double) -> Double {
        guard !latencies.isEmpty else { return 0 }
        let sorted = latencies.sorted()
        let index = min(sorted.count - 1, Int((p / 100 * Double(sorted.count)).rounded(.up)) - 1)
        return seconds(sorted[max(0, index)]) * 1000
    }

    func seconds(_ duration: Duration) -> Double {
        Double(duration.components.seconds) + Double(duration.components.attoseconds) / 1e18
    }
}

/// Runs `workers` loops of `operation` for `duration`, recording each call's latency.
func measure(
    _ label: String, workers: Int, duration: Duration, _ operation: @escaping @Sendable (Int) async throws -> Void
) async -> Measurement {
    let clock = ContinuousClock()
    let start = clock.now
    let deadline = start + duration
    let results = await withTaskGroup(of: ([Duration], Int).self) { group in
        for worker in 0..<workers {
            group.addTask {
                var latencies: [Duration] = []
                var errors = 0
                var iteration = 0
                while clock.now < deadline {
                    let began = clock.now
                    do {
                        try await operation(worker * 1_000_000 + iteration)
                        latencies.append(clock.now - began)
                    } catch {
                        errors += 1
                        if errors > 1000 { break }
                    }
                    iteration += 1
                }
                return (latencies, errors)
            }
        }
        return await group.reduce(into: ([Duration](), 0)) { $0.0 += $1.0; $0.1 += $1.1 }
    }
    return Measurement(label: label, latencies: results.0, elapsed: clock.now - start, errors: results.1)
}
