/// Brute-force change of variables for the flow tests: the Jacobian of a map R³ → R³ by
/// central differences, and its determinant.
enum FlowJacobian {
    static func determinant(of map: ([Double]) throws -> [Double], at point: [Double], h: Double = 1e-2) rethrows -> Double {
        precondition(point.count == 3, "3×3 only")
        var j = [[Double]](repeating: [Double](repeating: 0, count: 3), count: 3)
        for c in 0..<3 {
            var plus = point, minus = point
            plus[c] += h
            minus[c] -= h
            let (up, down) = (try map(plus), try map(minus))
            for r in 0..<3 { j[r][c] = (up[r] - down[r]) / (2 * h) }
        }
        return j[0][0] * (j[1][1] * j[2][2] - j[1][2] * j[2][1]) - j[0][1] * (j[1][0] * j[2][2] - j[1][2] * j[2][0])
            + j[0][2] * (j[1][0] * j[2][1] - j[1][1] * j[2][0])
    }
}
