/// A seeded split of N labelled examples into a part that fits the probes and a held-out part
/// that measures them, as HIT does with the labelled test set (80/20, fixed seed).
///
/// The examples are permuted by a Fisher–Yates shuffle driven by ``SplitMix64``:
///
///     for i = N − 1 down to 1:  j ← uniform in 0 … i;  swap(π[i], π[j])
///
/// and the last `h = ⌊f · N⌋` entries of π are held out (`test_size = int(N · 0.2)` in HIT's
/// `simple_clf_acc`), the first `N − h` fit. The same (N, f, seed) gives the same split on
/// every machine; the two parts are disjoint and together hold every index exactly once. The
/// permutation differs from NumPy's `RandomState(42)`, so the examples in each part differ
/// from HIT's, not their sizes.
public struct ProbeSplit: Sendable, Equatable, Codable {
    /// Indices of the examples that fit the probes, in shuffled order.
    public let fitting: [Int]
    /// Indices of the held-out examples, in shuffled order.
    public let heldOut: [Int]
    public let seed: UInt64

    /// HIT's seed (`np.random.RandomState(seed=42)`), kept as the default for familiarity.
    public static let defaultSeed: UInt64 = 42

    /// Splits `0 ..< count`, holding out `⌊heldOutFraction · count⌋` examples.
    ///
    /// Throws for a negative count or a fraction outside (0, 1). A split of fewer than
    /// `1 / heldOutFraction` examples holds none out; the probes then refuse the empty part.
    public init(count: Int, heldOutFraction: Double = 0.2, seed: UInt64 = ProbeSplit.defaultSeed) throws {
        guard count >= 0 else { throw ProbeError.invalidSetting("the number of examples to split", reason: "must not be negative (got \(count))") }
        guard heldOutFraction > 0, heldOutFraction < 1 else {
            throw ProbeError.invalidSetting("the held-out fraction", reason: "must be in (0, 1) (got \(heldOutFraction))")
        }
        var permutation = Array(0..<count)
        var generator = SplitMix64(seed: seed)
        if count > 1 {
            for i in stride(from: count - 1, through: 1, by: -1) {
                let j = Int(generator.next(below: UInt64(i + 1)))
                permutation.swapAt(i, j)
            }
        }
        let held = Int((heldOutFraction * Double(count)).rounded(.down))
        fitting = Array(permutation[..<(count - held)])
        heldOut = Array(permutation[(count - held)...])
        self.seed = seed
    }

    /// The fitting and held-out parts of `data`, which must have the `count` examples the
    /// split was made for.
    public func parts(of data: LabelledFeatures) throws -> (fitting: LabelledFeatures, heldOut: LabelledFeatures) {
        guard data.count == fitting.count + heldOut.count else {
            throw ProbeError.sizeMismatch("the data set to split", expected: fitting.count + heldOut.count, found: data.count)
        }
        return (try data.subset(fitting), try data.subset(heldOut))
    }
}
