import Foundation

extension RatePlots {
    /// The grid of a plan that is a product of exactly two numeric axes (HIT's β₁ × β₂): the
    /// axes' names, their values in numeric order (columns, then rows bottom to top), and the
    /// point at each cell. `nil` for any other plan.
    struct Grid {
        var xName: String
        var yName: String
        var xs: [String]
        var ys: [String]
        var cell: [String: String]

        init?(_ plan: SweepDirectory.Plan) {
            let names = plan.points.first?.axes.map(\.axis) ?? []
            guard plan.combine == .product, names.count == 2 else { return nil }
            func values(_ axis: Int) -> [String]? {
                let labels = Set(plan.points.map { $0.axes[axis].value })
                let numbers = labels.compactMap(Double.init)
                // numeric, and no two labels for one number (`1` and `1.0` would be two columns)
                guard labels.count >= 2, numbers.count == labels.count, Set(numbers).count == labels.count else { return nil }
                return labels.sorted { Double($0)! < Double($1)! }
            }
            guard let xs = values(0), let ys = values(1) else { return nil }
            (xName, yName, self.xs, self.ys) = (names[0], names[1], xs, ys)
            cell = Dictionary(plan.points.map { ("\($0.axes[0].value) \($0.axes[1].value)", $0.id) }, uniquingKeysWith: { first, _ in first })
        }

        /// `value(point id)` at every cell, rows bottom to top.
        func cells(_ value: (String) -> Double?) -> [[Double?]] {
            ys.map { y in xs.map { x in cell["\(x) \(y)"].flatMap(value) } }
        }

        func map(name: String, quantity: String, unit: String, caption: String, _ value: (String) -> Double?) -> SweepPlot {
            let chart = SVGHeatmap(title: "\(quantity) over the \(xName) × \(yName) grid", xLabel: xName, yLabel: yName,
                valueLabel: unit, xValues: xs, yValues: ys, cells: cells(value))
            return SweepPlot(name: name, caption: caption + " Grey: no result yet.", svg: chart.svg())
        }
    }

    /// Heatmaps over a grid of two numeric axes (HIT Fig. 3's (β₁, β₂)), test split, last epoch:
    /// D; the rate of each layer (or R, for one layer); with probes, the PSNR and each layer's
    /// logistic-probe accuracy on its posterior means. Empty unless the plan is a product of
    /// exactly two numeric axes.
    public func heatmaps(plan: SweepDirectory.Plan) throws -> [SweepPlot] {
        guard let grid = Grid(plan) else { return [] }
        let final = Dictionary(uniqueKeysWithValues: try store.finalPoints().map { ($0.pointId, $0) })
        let layers = try store.finalLayerRates()
        let layerNames = Set(layers.values.flatMap(\.keys)).sorted()
        let place = "at each (\(grid.xName), \(grid.yName)), test split, last epoch"
        var maps = [grid.map(name: "heatmap-distortion", quantity: "D", unit: "D (nats)",
            caption: "Distortion D (nats) \(place) (HIT Fig. 3).") { final[$0]?.distortion }]
        if layerNames.count >= 2 {
            for layer in layerNames {
                maps.append(grid.map(name: "heatmap-rate-\(layer)", quantity: "rate of \(layer)", unit: "R \(layer) (nats)",
                    caption: "Rate of layer \(layer) (its KL term, nats) \(place).") { layers[$0]?[layer] })
            }
        } else {
            maps.append(grid.map(name: "heatmap-rate", quantity: "R", unit: "R (nats)", caption: "Rate R (nats) \(place).") {
                final[$0]?.rate
            })
        }
        if final.values.contains(where: { $0.psnrDb != nil }) {
            maps.append(grid.map(name: "heatmap-psnr", quantity: "PSNR", unit: "PSNR (dB)",
                caption: "PSNR of the mean-path reconstructions (dB, higher is better) \(place).") { final[$0]?.psnrDb })
        }
        let means = try store.probes().filter { $0.features == .mean }
        for layer in Set(means.map(\.layer)).sorted() {
            let accuracy = Dictionary(means.filter { $0.layer == layer }.map { ($0.pointId, $0.logisticAccuracy) }, uniquingKeysWith: { a, _ in a })
            maps.append(grid.map(name: "heatmap-probe-\(layer)", quantity: "logistic probe on \(layer)", unit: "accuracy",
                caption: "Held-out accuracy of a logistic probe of the labels on the posterior means of \(layer), \(place).") {
                accuracy[$0]
            })
        }
        return maps
    }
}
