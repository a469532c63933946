import Foundation
import RDLab

extension RatePlots {
    /// The probes against their bound (HIT): each layer's held-out logistic-probe accuracy α
    /// against its information budget I = Σ_{l′≥l} R_l′ (nats), posterior means and samples in
    /// their own colours and markers, and the curve α = g⁻¹(I) for each number of classes M,
    ///
    ///     g(α) = H(Y) − H_b(α) − (1 − α) ln(M − 1),   H(Y) = ln M,
    ///
    /// the most accuracy any classifier can reach from a variable carrying I nats about the
    /// label (``InformationBound``; ln M is the entropy of balanced labels: MNIST's test set has
    /// H(Y) = ln 10 − 0.0017 nats). The budget axis is logarithmic; a budget of 0 is left out.
    /// `nil` when no point has probes.
    public func probeBound(title: String) throws -> SVGChart? {
        let probes = try store.probes()
        guard !probes.isEmpty else { return nil }
        let labels = Dictionary(try store.finalPoints().map { ($0.pointId, $0.label) }, uniquingKeysWith: { a, _ in a })
        var chart = SVGChart(title: title, xLabel: "information budget Σ_{l′≥l} R_l′ (nats, log scale)", yLabel: "held-out accuracy")
        chart.logX = true  // budgets span 0.01 to 100s of nats; the curve rises between 0.1 and ln M
        let layers = Set(probes.map(\.layer)).sorted()
        let markers: [ProbeFeatures: SVGChart.Series.Marker] = [.mean: .circle, .sample: .triangle]
        let words: [ProbeFeatures: String] = [.mean: "means", .sample: "samples"]
        for features in ProbeFeatures.allCases {
            for (l, layer) in layers.enumerated() {
                let rows = probes.filter { $0.layer == layer && $0.features == features }
                guard !rows.isEmpty else { continue }
                // a layer keeps its hue; samples take the palette's second half
                let color = SVGChart.palette[(l + (features == .mean ? 0 : layers.count)) % SVGChart.palette.count]
                chart.series.append(.init(name: "\(layer) \(words[features]!), logistic",
                    points: rows.map { RDPoint(rate: $0.rateNats, distortion: $0.logisticAccuracy) }, style: .points, color: color,
                    titles: rows.map {
                        String(format: "%@ — %@ %@: budget %.3f nats, logistic %.3f, 5-NN %.3f, bound %.3f, chance %.3f",
                            labels[$0.pointId] ?? $0.pointId, layer, words[features]!, $0.rateNats, $0.logisticAccuracy,
                            $0.nearestNeighbourAccuracy, $0.boundAccuracy, $0.chanceAccuracy)
                    }, marker: markers[features]!))
            }
        }
        let budgets = probes.map(\.rateNats).filter { $0 > 0 }
        // from below the smallest budget (0.01 nats at most; near 1/M, g⁻¹(I) ≈ 1/M + √(2 I α(1 − α)),
        // 0.145 at 0.01 nats for M = 10) to past where it reaches 1 (I = ln M), or the largest budget
        let low = min(0.01, (budgets.min() ?? 1) / 2)
        for (i, m) in Set(probes.map(\.classes)).sorted().enumerated() {
            let bound = try InformationBound(classes: m, labelEntropy: log(Double(m)))
            let high = max(budgets.max() ?? 0, bound.labelEntropy * 1.5)
            let curve = try (0...240).map { k -> RDPoint in
                let information = low * pow(high / low, Double(k) / 240)
                return RDPoint(rate: information, distortion: try bound.maximumAccuracy(information: information))
            }
            chart.series.append(.init(name: "g⁻¹(I), M = \(m)", points: curve, style: .line, color: i == 0 ? "#444444" : "#999999"))
            chart.references.append(.init(from: RDPoint(rate: low, distortion: 1 / Double(m)), to: RDPoint(rate: high, distortion: 1 / Double(m)),
                label: String(format: "chance 1/M = %.3g", 1 / Double(m)), color: "#9e9e9e"))
        }
        return chart
    }
}
