import Foundation

/// Latencies of one run, and what they add up to.
struct Measurement {
    var label: String
    var latencies: [Duration]
    var elapsed: Duration
    var errors: Int
    /// What the requests did, counted (jobs, for scenarios that handle several a request); one per request otherwise.
    var units: Int

    var opsPerSecond: Double { Double(latencies.count) / seconds(elapsed) }
    var unitsPerSecond: Double { Double(units) / seconds(elapsed) }

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
    await measureUnits(label, workers: workers, duration: duration) { try await operation($0); return 1 }
}

/// Like `measure`, for operations that return how many units (jobs) they handled.
func measureUnits(
    _ label: String, workers: Int, duration: Duration, _ operation: @escaping @Sendable (Int) async throws -> Int
) async -> Measurement {
    let clock = ContinuousClock()
    let start = clock.now
    let deadline = start + duration
    let results = await withTaskGroup(of: ([Duration], Int, Int).self) { group in
        for worker in 0..<workers {
            group.addTask {
                var latencies: [Duration] = []
                var errors = 0
                var units = 0
                var iteration = 0
                while clock.now < deadline {
                    let began = clock.now
                    do {
                        units += try await operation(worker * 1_000_000 + iteration)
                        latencies.append(clock.now - began)
                    } catch {
                        errors += 1
                        if errors > 1000 { break }
                    }
                    iteration += 1
                }
                return (latencies, errors, units)
            }
        }
        return await group.reduce(into: ([Duration](), 0, 0)) { $0.0 += $1.0; $0.1 += $1.1; $0.2 += $1.2 }
    }
    return Measurement(label: label, latencies: results.0, elapsed: clock.now - start, errors: results.1, units: results.2)
}
