/// SplitMix64 (Steele, Lea & Flood 2014): a 64-bit generator whose stream is fixed by its
/// seed on every platform and Swift version, for the probes' seeded splits.
///
/// Each call adds the golden-ratio increment `0x9E3779B97F4A7C15` to the state and returns
/// the state through Stafford's "mix13" finaliser:
///
///     z = (s ⊕ (s ≫ 30)) · 0xBF58476D1CE4E5B9
///     z = (z ⊕ (z ≫ 27)) · 0x94D049BB133111EB
///     out = z ⊕ (z ≫ 31)
///
/// Not for cryptography; enough for shuffles.
public struct SplitMix64: RandomNumberGenerator, Sendable {
    private var state: UInt64

    public init(seed: UInt64) { state = seed }

    public mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }

    /// A uniform integer in `0 ..< bound` by Lemire's multiply-and-reject method: the high
    /// word of `next() · bound`, rejecting the `2⁶⁴ mod bound` low words that would bias it.
    /// Spelled out here, not `Int.random(in:using:)`, whose algorithm the standard library
    /// does not promise to keep. `bound = 0` (an empty range) gives 0 and draws once.
    public mutating func next(below bound: UInt64) -> UInt64 {
        var product = next().multipliedFullWidth(by: bound)
        if product.low < bound {
            let threshold = (0 &- bound) % bound
            while product.low < threshold { product = next().multipliedFullWidth(by: bound) }
        }
        return product.high
    }
}
