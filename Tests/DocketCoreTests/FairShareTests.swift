import DocketCore
import Testing

/// The fair-share split of a claim's slots, without a database.
struct FairShareTests {
    /// A fixed sequence, so the draws are reproducible.
    struct Seeded: RandomNumberGenerator {
        var state: UInt64
        mutating func next() -> UInt64 {
            state = state &* 6364136223846793005 &+ 1442695040888963407
            return state
        }
    }

    @Test func wholeSharesFirstThenTheRestByWeight() {
        var random = Seeded(state: 1)
        #expect(FairShare.allocate(8, weights: [3, 1], using: &random) == [6, 2])
        #expect(FairShare.allocate(4, weights: [1, 1, 1, 1], using: &random) == [1, 1, 1, 1])
        let split = FairShare.allocate(5, weights: [3, 1], using: &random)
        #expect(split.reduce(0, +) == 5 && split[0] >= 3 && split[1] >= 1, "\(split)")
        #expect(FairShare.allocate(0, weights: [3, 1], using: &random) == [0, 0])
        #expect(FairShare.allocate(3, weights: [], using: &random) == [])
    }

    @Test func oneSlotAtATimeConvergesToTheWeights() {
        var random = Seeded(state: 42)
        var counts = [0, 0]
        for _ in 0..<10_000 {
            let split = FairShare.allocate(1, weights: [3, 1], using: &random)
            #expect(split.reduce(0, +) == 1)
            counts[0] += split[0]
            counts[1] += split[1]
        }
        let heavy = Double(counts[0]) / 10_000
        #expect(abs(heavy - 0.75) < 0.02, "75/25 by weight: got \(heavy)")
    }

    @Test func neverMoreSlotsThanAsked() {
        var random = Seeded(state: 7)
        for slots in 1...20 {
            for weights in [[1], [5, 1], [2, 3, 7], [1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1]] {
                let split = FairShare.allocate(slots, weights: weights, using: &random)
                #expect(split.reduce(0, +) == slots && split.allSatisfy { $0 >= 0 })
            }
        }
    }
}
