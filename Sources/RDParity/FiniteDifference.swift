/// The arithmetic of the gradient cases: the scalar loss ⟨r, y⟩ and its central differences.
enum FiniteDifference {
    /// ⟨r, y⟩ = Σᵢ rᵢ·yᵢ in Double: the loss whose gradient a backward op computes from gradOutput r.
    static func dot(_ r: [Float], _ y: [Float]) -> Double { zip(r, y).reduce(0) { $0 + Double($1.0) * Double($1.1) } }

    /// (L(v + h·eᵢ) − L(v − h·eᵢ)) / ((vᵢ + h) − (vᵢ − h)): the denominator is the step as
    /// rounded in fp32, not 2h.
    static func central(_ values: [Float], _ i: Int, h: Float, _ loss: ([Float]) throws -> Double) rethrows -> Double {
        var plus = values, minus = values
        plus[i] += h
        minus[i] -= h
        return (try loss(plus) - loss(minus)) / Double(plus[i] - minus[i])
    }

    /// Probes `label[i]` for each i of `coordinates`: `analytic[i]` against the central
    /// difference of `loss` in coordinate i of `values`.
    static func probes(_ label: String, analytic: [Float], values: [Float], at coordinates: some Sequence<Int>, h: Float,
        _ loss: ([Float]) throws -> Double) rethrows -> [GradientProbe] {
        try coordinates.map { i in
            GradientProbe("\(label)[\(i)]", analytic: analytic[i], numeric: try central(values, i, h: h, loss))
        }
    }

    /// Every `count / 12`-th coordinate (all of them below 24): about a dozen per gradient.
    static func sampled(_ count: Int) -> StrideTo<Int> { stride(from: 0, to: count, by: max(1, count / 12)) }
}
