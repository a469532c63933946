/// Deterministic test data (a 64-bit LCG; independent of the Philox code under test).
public struct TestData {
    private var state: UInt64

    public init(seed: UInt64) { state = seed &* 0x9E37_79B9_7F4A_7C15 | 1 }

    public mutating func next() -> Double {
        state = state &* 6_364_136_223_846_793_005 &+ 1_442_695_040_888_963_407
        return Double(state >> 11) * 0x1p-53
    }

    /// `count` values uniform in `range`.
    public mutating func values(_ count: Int, in range: ClosedRange<Double> = -1...1) -> [Float] {
        (0..<count).map { _ in Float(range.lowerBound + (range.upperBound - range.lowerBound) * next()) }
    }
}

/// Normalised mean squared error: Σ(y − ref)² / max(Σ ref², tiny); infinity when the counts
/// differ or a value is not finite, so a wrong result (from a backend, or a candidate tile of
/// `rdlab tune`) is a large error, never a trap.
public func nmse(_ values: [Float], _ reference: [Double]) -> Double {
    guard values.count == reference.count else { return .infinity }
    var error = 0.0, power = 0.0
    for (v, r) in zip(values, reference) {
        guard v.isFinite else { return .infinity }
        error += (Double(v) - r) * (Double(v) - r)
        power += r * r
    }
    return error / max(power, 1e-30)
}
