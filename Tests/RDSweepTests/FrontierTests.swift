import RDSweep
import Testing

/// The Pareto frontier and the lower convex hull against point sets checked by hand.
@Suite("Frontier")
struct FrontierTests {
    static func points(_ pairs: [(Double, Double)]) -> [RDPoint] { pairs.map { RDPoint(rate: $0.0, distortion: $0.1) } }

    @Test func paretoDropsDominatedPointsAndKeepsTheFirstOfDuplicates() {
        let p = Self.points([(3, 1), (1, 3), (2, 2), (2, 2.5), (1, 3), (0, 5), (4, 1), (2.5, 2)])
        // (2, 2.5) is beaten by (2, 2); the second (1, 3) repeats the first; (4, 1) by (3, 1); (2.5, 2) by (2, 2)
        #expect(Frontier.pareto(p) == [5, 1, 2, 0])
    }

    @Test func hullDropsPointsAboveAndOnItsEdges() {
        // (1, 3.5) lies above the chord (0, 5)–(2, 1); (3, 0.5) lies on the chord (2, 1)–(4, 0)
        let p = Self.points([(0, 5), (1, 3.5), (2, 1), (3, 0.5), (4, 0)])
        #expect(Frontier.pareto(p) == [0, 1, 2, 3, 4])
        #expect(Frontier.lowerConvexHull(p) == [0, 2, 4])
        // a point below the chord is a corner
        let q = Self.points([(0, 5), (1, 2), (2, 1), (4, 0)])
        #expect(Frontier.lowerConvexHull(q) == [0, 1, 2, 3])
    }

    @Test func pointsOnALineGiveItsEnds() {
        let line = Self.points((0...12).map { (Double($0) * 0.25, 3.018393 - Double($0) * 0.25) })
        #expect(Frontier.pareto(line) == Array(0...12))
        #expect(Frontier.lowerConvexHull(line) == [0, 12])
    }

    @Test func tiesInRateAndDistortion() {
        // same rate: only the lower distortion; same distortion: only the lower rate
        let p = Self.points([(1, 2), (1, 1), (0.5, 3), (2, 1), (0.5, 3)])
        #expect(Frontier.pareto(p) == [2, 1])
        #expect(Frontier.lowerConvexHull(p) == [2, 1])
    }

    @Test func singleEmptyAndNonFinite() {
        #expect(Frontier.pareto(Self.points([(1, 1)])) == [0])
        #expect(Frontier.lowerConvexHull(Self.points([(1, 1)])) == [0])
        #expect(Frontier.pareto([]) == [] && Frontier.lowerConvexHull([]) == [])
        #expect(Frontier.pareto(Self.points([(.nan, 1), (1, .infinity), (2, 2)])) == [2])
    }

    @Test func interpolation() {
        let curve = Self.points([(0, 4), (2, 2), (4, 1)])
        #expect(Frontier.interpolate(curve, at: 1) == 3)
        #expect(Frontier.interpolate(curve, at: 3) == 1.5)
        #expect(Frontier.interpolate(curve, at: 4) == 1)
        #expect(Frontier.interpolate(curve, at: 4.5) == nil && Frontier.interpolate(curve, at: -1) == nil)
    }
}

/// The distance between two frontiers, against figures worked out by hand.
@Suite("Frontier comparison")
struct FrontierComparisonTests {
    static func points(_ pairs: [(Double, Double)]) -> [RDPoint] { pairs.map { RDPoint(rate: $0.0, distortion: $0.1) } }

    @Test func parallelFrontiersDifferByTheirGap() {
        let a = Self.points([(0, 3), (1, 2), (2, 1)]), b = Self.points([(0.5, 3), (1.5, 2), (3, 0.5)])
        // B is A shifted right by 0.5: D_B(R) = D_A(R) + 0.5 over [0.5, 2]
        let c = FrontierComparison(a, b, nameA: "A", nameB: "B")
        #expect(c.rates == 0.5...2)
        #expect(abs(c.meanDistortionDifference + 0.5) < 1e-12 && abs(c.area - 0.75) < 1e-12 && abs(c.largestAdvantage - 0.5) < 1e-12)
        #expect(c.summary.contains("mean D_A − D_B = -0.500 nats (A lower on average), area between the frontiers 0.750 nats²"))
        let same = FrontierComparison(a, a, nameA: "A", nameB: "A")
        #expect(same.meanDistortionDifference == 0 && same.area == 0)
    }

    /// Frontiers that cross: the signed mean cancels, the area does not.
    @Test func crossingFrontiers() {
        let a = Self.points([(0, 2), (2, 0)]), b = Self.points([(0, 1.5), (1, 1), (2, 0.5)])
        // D_A − D_B = 0.5 − 0.5R on [0, 2]: mean 0, area 2 · (½ · 1 · 0.5) = 0.5
        let c = FrontierComparison(a, b, nameA: "A", nameB: "B")
        #expect(abs(c.meanDistortionDifference) < 1e-12 && abs(c.area - 0.5) < 1e-12)
        #expect(abs(c.largestAdvantage - 0.5) < 1e-12)
    }

    @Test func disjointRatesCompareNothing() {
        let c = FrontierComparison(Self.points([(0, 2), (1, 1)]), Self.points([(2, 1), (3, 0)]), nameA: "A", nameB: "B")
        #expect(c.rates == nil && c.summary.contains("share no rate range"))
    }
}
