import Foundation

/// How far apart two sweeps' frontiers lie: over the rates both cover, the mean of
/// D_A(R) − D_B(R) between their lower convex hulls (a Bjøntegaard-style average distortion
/// difference, in nats; negative when A reaches lower distortion at the same rate) and the area
/// between them, ∫|D_A − D_B| dR (nats²). Hulls are piecewise linear in R (not in log R, as
/// video coding's BD-rate: rates here start at 0), so both integrals are exact.
public struct FrontierComparison: Equatable, Sendable {
    public var nameA: String
    public var nameB: String
    /// The rates both hulls span; `nil` when they do not overlap.
    public var rates: ClosedRange<Double>?
    /// (1 / |range|) ∫ (D_A − D_B) dR.
    public var meanDistortionDifference: Double
    /// ∫ |D_A − D_B| dR.
    public var area: Double
    /// max over the range of D_B − D_A: how much better A is where it is best.
    public var largestAdvantage: Double

    public init(_ a: [RDPoint], _ b: [RDPoint], nameA: String, nameB: String) {
        self.nameA = nameA
        self.nameB = nameB
        let hullA = Frontier.lowerConvexHull(a).map { a[$0] }, hullB = Frontier.lowerConvexHull(b).map { b[$0] }
        meanDistortionDifference = 0
        area = 0
        largestAdvantage = 0
        guard let a0 = hullA.first, let a1 = hullA.last, let b0 = hullB.first, let b1 = hullB.last else { return }
        let low = max(a0.rate, b0.rate), high = min(a1.rate, b1.rate)
        guard high > low else { return }
        rates = low...high
        let breaks = Set((hullA + hullB).map(\.rate).filter { $0 > low && $0 < high } + [low, high]).sorted()
        func gap(_ r: Double) -> Double { Frontier.interpolate(hullA, at: r)! - Frontier.interpolate(hullB, at: r)! }
        var signed = 0.0
        largestAdvantage = -gap(low)
        for (r0, r1) in zip(breaks, breaks.dropFirst()) {
            let d0 = gap(r0), d1 = gap(r1), width = r1 - r0
            signed += (d0 + d1) / 2 * width
            if d0 * d1 >= 0 {
                area += (abs(d0) + abs(d1)) / 2 * width
            } else {
                let t = d0 / (d0 - d1)  // where the hulls cross
                area += (abs(d0) * t + abs(d1) * (1 - t)) / 2 * width
            }
            largestAdvantage = max(largestAdvantage, -d1)
        }
        meanDistortionDifference = signed / (high - low)
    }

    /// One sentence with the figures.
    public var summary: String {
        guard let rates else { return "\(nameA) and \(nameB): their frontiers share no rate range; nothing to compare" }
        let better = meanDistortionDifference <= 0 ? nameA : nameB
        let advantage = largestAdvantage > 0 ? String(format: "%@ up to %.3f nats better", nameA, largestAdvantage)
            : "\(nameA) nowhere better"
        return String(format: "%@ vs %@ over R ∈ [%.3f, %.3f] nats: mean D_A − D_B = %+.3f nats (%@ lower on average), area between the frontiers %.3f nats², %@",
            nameA, nameB, rates.lowerBound, rates.upperBound, meanDistortionDifference, better, area, advantage)
    }
}
