/// How one claim that may take from several queues shares its slots (docs/protocol.md, "Queues"): in proportion to
/// the queues' weights, among the queues that have due work only (work-conserving).
public enum FairShare {
    /// Splits `slots` over queues of `weights` (each ≥ 1): everyone gets the whole part of its share, and the slots
    /// left over go one by one to a queue drawn at random by weight, without repeats. Over many claims each queue
    /// gets its weight's share, even one slot at a time.
    public static func allocate(_ slots: Int, weights: [Int], using random: inout some RandomNumberGenerator) -> [Int] {
        guard slots > 0, !weights.isEmpty else { return weights.map { _ in 0 } }
        let total = weights.reduce(0, +)
        var shares = weights.map { slots * $0 / total }
        var left = slots - shares.reduce(0, +)
        var open = Array(weights.indices)
        while left > 0, !open.isEmpty {
            let openTotal = open.reduce(0) { $0 + weights[$1] }
            var draw = Int.random(in: 0..<openTotal, using: &random)
            let pick = open.firstIndex { index in
                if draw < weights[index] { return true }
                draw -= weights[index]
                return false
            }!
            shares[open[pick]] += 1
            open.remove(at: pick)
            left -= 1
        }
        return shares
    }
}
