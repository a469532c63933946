/// A point of the rate–distortion plane, in nats.
public struct RDPoint: Equatable, Sendable {
    public var rate: Double
    public var distortion: Double

    public init(rate: Double, distortion: Double) {
        self.rate = rate
        self.distortion = distortion
    }
}

/// The frontiers of a set of points in the R–D plane (both axes to be minimised).
public enum Frontier {
    /// The Pareto frontier: the indices of the points no other point beats on both R and D
    /// (R' ≤ R and D' ≤ D, one of them strictly), ordered by increasing R (so by decreasing D).
    /// Of points at the same place, the first is kept. Non-finite points are ignored.
    public static func pareto(_ points: [RDPoint]) -> [Int] {
        let order = points.indices.filter { points[$0].rate.isFinite && points[$0].distortion.isFinite }
            .sorted { (points[$0].rate, points[$0].distortion, $0) < (points[$1].rate, points[$1].distortion, $1) }
        var kept: [Int] = []
        var best = Double.infinity
        for i in order where points[i].distortion < best {
            kept.append(i)
            best = points[i].distortion
        }
        return kept
    }

    /// The lower convex hull of the Pareto frontier: the corners of the largest convex,
    /// non-increasing function D(R) that lies on or below every point (the operational
    /// rate–distortion function mixing two codes achieves), ordered by increasing R. Points on
    /// a straight edge between two corners are not corners.
    public static func lowerConvexHull(_ points: [RDPoint]) -> [Int] {
        var hull: [Int] = []
        for i in pareto(points) {
            while hull.count >= 2 {
                let a = points[hull[hull.count - 2]], b = points[hull[hull.count - 1]], c = points[i]
                // b is not a corner when it lies on or above the segment a–c (on it to rounding)
                let cross = (b.rate - a.rate) * (c.distortion - a.distortion) - (b.distortion - a.distortion) * (c.rate - a.rate)
                let scale = (c.rate - a.rate) * (a.distortion - c.distortion)
                guard cross <= 1e-12 * scale else { break }
                hull.removeLast()
            }
            hull.append(i)
        }
        return hull
    }

    /// D at rate `r` on the piecewise-linear curve through `curve` (ordered by R), or `nil`
    /// outside its rate range.
    public static func interpolate(_ curve: [RDPoint], at r: Double) -> Double? {
        guard let first = curve.first, let last = curve.last, r >= first.rate, r <= last.rate else { return nil }
        if curve.count == 1 { return first.distortion }
        for (a, b) in zip(curve, curve.dropFirst()) where r <= b.rate {
            return b.rate == a.rate ? min(a.distortion, b.distortion)
                : a.distortion + (b.distortion - a.distortion) * (r - a.rate) / (b.rate - a.rate)
        }
        return last.distortion
    }
}
