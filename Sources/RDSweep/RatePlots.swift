import Foundation
import RDCompute
import RDLab

/// The plots of a sweep, from its results store: the R–D plane (Alemi Fig. 1/4), −ELBO
/// against R, and each run's path through the plane.
public struct RatePlots {
    public let store: ResultsStore

    public init(store: ResultsStore) {
        self.store = store
    }

    /// H(x) where the data's entropy is known exactly (the toy model), else `nil`.
    static func knownEntropy(_ points: [FinalPoint]) -> Double? {
        points.allSatisfy({ $0.model == ModelSpec.Kind.toy.rawValue }) && !points.isEmpty ? ToyDistribution().entropy : nil
    }

    /// Points grouped for the legend: by family where models have one, else by model.
    static func groups(_ points: [FinalPoint]) -> [(name: String, points: [FinalPoint])] {
        var order: [String] = []
        var groups: [String: [FinalPoint]] = [:]
        for point in points {
            let name = point.family.map { "family \($0)" } ?? point.model ?? "points"
            if groups[name] == nil { order.append(name) }
            groups[name, default: []].append(point)
        }
        return order.map { ($0, groups[$0]!) }
    }

    /// The R–D plane: every point (test split, last epoch), its Pareto frontier and lower convex
    /// hull, iso-ELBO lines D + R = c, and D = H − R (H exact for the toy model; else the
    /// smallest −ELBO, an upper bound on H).
    public func plane(title: String) throws -> SVGChart {
        let points = try store.finalPoints()
        var chart = SVGChart(title: title, xLabel: "rate R (nats)", yLabel: "distortion D (nats)")
        for (i, group) in Self.groups(points).enumerated() {
            chart.series.append(.init(name: group.name, points: group.points.map { RDPoint(rate: $0.rate, distortion: $0.distortion) },
                style: .points, color: SVGChart.palette[i % SVGChart.palette.count], titles: group.points.map(\.tooltip)))
        }
        let all = points.map { RDPoint(rate: $0.rate, distortion: $0.distortion) }
        guard !all.isEmpty else { return chart }
        chart.series.append(.init(name: "Pareto frontier", points: Frontier.pareto(all).map { all[$0] }, style: .line, color: "#444444"))
        chart.series.append(.init(name: "lower convex hull", points: Frontier.lowerConvexHull(all).map { all[$0] }, style: .dashedLine,
            color: "#999999"))
        let (xr, yr) = chart.ranges()
        let known = Self.knownEntropy(points)
        let entropy = known ?? points.map(\.negElbo).min()!
        chart.references.append(.init(from: RDPoint(rate: xr.lowerBound, distortion: entropy - xr.lowerBound),
            to: RDPoint(rate: xr.upperBound, distortion: entropy - xr.upperBound),
            label: known != nil ? String(format: "D = H − R, H = %.4f", entropy) : String(format: "D = %.2f − R (min −ELBO)", entropy),
            color: "#B00020"))
        let low = xr.lowerBound + yr.lowerBound, high = xr.upperBound + yr.upperBound
        let levels = SVGChart.ticks(low...high, count: 6).filter { abs($0 - entropy) > (high - low) * 0.02 }
        for (n, c) in levels.enumerated() {
            chart.references.append(.init(from: RDPoint(rate: xr.lowerBound, distortion: c - xr.lowerBound),
                to: RDPoint(rate: xr.upperBound, distortion: c - xr.upperBound), label: n == 0 ? "D + R = c (iso-ELBO)" : "",
                color: "#9e9e9e"))
        }
        return chart
    }

    /// −ELBO = D + R against R.
    public func elbo(title: String) throws -> SVGChart {
        let points = try store.finalPoints()
        var chart = SVGChart(title: title, xLabel: "rate R (nats)", yLabel: "−ELBO = D + R (nats)")
        for (i, group) in Self.groups(points).enumerated() {
            chart.series.append(.init(name: group.name, points: group.points.map { RDPoint(rate: $0.rate, distortion: $0.negElbo) },
                style: .points, color: SVGChart.palette[i % SVGChart.palette.count], titles: group.points.map(\.tooltip)))
        }
        return chart
    }

    /// Each run's test (R, D) epoch by epoch, the last epoch marked.
    public func trajectories(title: String) throws -> SVGChart {
        let points = try store.finalPoints()
        var chart = SVGChart(title: title, xLabel: "rate R (nats)", yLabel: "distortion D (nats)")
        for (i, point) in points.enumerated() {
            let rows = try store.trajectory(of: point.pointId)
            chart.series.append(.init(name: points.count <= 12 ? point.label : "", points: rows.map { RDPoint(rate: $0.rate, distortion: $0.distortion) },
                style: .pointsAndLine, color: SVGChart.palette[i % SVGChart.palette.count],
                titles: rows.map { "\(point.label), epoch \($0.epoch)" }))
        }
        return chart
    }

    /// R₁ against R₂ (the first two latent layers, by name) coloured by D, where the models
    /// have two or more layers.
    public func layerPlane(title: String) throws -> SVGChart? {
        let points = try store.finalPoints()
        let layers = try store.finalLayerRates()
        // the layers of the first point that has two or more (sweeps may mix models)
        guard let names = points.lazy.compactMap({ layers[$0.pointId].map { $0.keys.sorted() } }).first(where: { $0.count >= 2 }) else {
            return nil
        }
        let (first, second) = (names[0], names[1])
        let shown = points.filter { layers[$0.pointId]?[first] != nil && layers[$0.pointId]?[second] != nil }
        let scale = ColorScale(shown.map(\.distortion))
        var chart = SVGChart(title: title, xLabel: "rate of \(first), R₁ (nats)", yLabel: "rate of \(second), R₂ (nats)")
        chart.series = [.init(name: "", points: shown.map { RDPoint(rate: layers[$0.pointId]![first]!, distortion: layers[$0.pointId]![second]!) },
            style: .points, color: "#000000", titles: shown.map(\.tooltip), colors: shown.map { scale.color($0.distortion) })]
        chart.colorBar = (scale, "D (nats)")
        return chart
    }

    /// Heatmaps over a grid of two numeric axes (HIT Fig. 3's (β₁, β₂)): D, and the rate of each
    /// layer (or R, for one layer). Empty unless the plan is a product of exactly two numeric axes.
    public func heatmaps(plan: SweepDirectory.Plan) throws -> [(name: String, chart: SVGHeatmap)] {
        let axisNames = plan.points.first?.axes.map(\.axis) ?? []
        guard plan.combine == .product, axisNames.count == 2 else { return [] }
        func values(_ axis: Int) -> [String]? {
            let labels = Set(plan.points.map { $0.axes[axis].value })
            let numbers = labels.compactMap(Double.init)
            // numeric, and no two labels for one number (`1` and `1.0` would be two columns)
            guard labels.count >= 2, numbers.count == labels.count, Set(numbers).count == labels.count else { return nil }
            return labels.sorted { Double($0)! < Double($1)! }
        }
        guard let xs = values(0), let ys = values(1) else { return [] }
        let final = Dictionary(uniqueKeysWithValues: try store.finalPoints().map { ($0.pointId, $0) })
        let layers = try store.finalLayerRates()
        var byCell: [String: String] = [:]
        for point in plan.points { byCell["\(point.axes[0].value) \(point.axes[1].value)"] = point.id }
        func grid(_ value: (String) -> Double?) -> [[Double?]] {
            ys.map { y in xs.map { x in byCell["\(x) \(y)"].flatMap(value) } }
        }
        let layerNames = Set(layers.values.flatMap(\.keys)).sorted()
        var maps = [("heatmap-distortion", SVGHeatmap(title: "D over the \(axisNames[0]) × \(axisNames[1]) grid", xLabel: axisNames[0],
            yLabel: axisNames[1], valueLabel: "D (nats)", xValues: xs, yValues: ys, cells: grid { final[$0]?.distortion }))]
        if layerNames.count >= 2 {
            for layer in layerNames {
                maps.append(("heatmap-rate-\(layer)", SVGHeatmap(title: "rate of \(layer) over the \(axisNames[0]) × \(axisNames[1]) grid",
                    xLabel: axisNames[0], yLabel: axisNames[1], valueLabel: "R \(layer) (nats)", xValues: xs, yValues: ys,
                    cells: grid { layers[$0]?[layer] })))
            }
        } else {
            maps.append(("heatmap-rate", SVGHeatmap(title: "R over the \(axisNames[0]) × \(axisNames[1]) grid", xLabel: axisNames[0],
                yLabel: axisNames[1], valueLabel: "R (nats)", xValues: xs, yValues: ys, cells: grid { final[$0]?.rate })))
        }
        return maps
    }

    /// Every plot the sweep's results support, as (file name without extension, SVG).
    public func all(plan: SweepDirectory.Plan) throws -> [(name: String, svg: String)] {
        var plots = [("rd-plane", try plane(title: "\(plan.name): rate–distortion plane").svg()),
            ("elbo-rate", try elbo(title: "\(plan.name): −ELBO against rate").svg()),
            ("trajectories", try trajectories(title: "\(plan.name): test R and D by epoch").svg())]
        if let layers = try layerPlane(title: "\(plan.name): rates of the two layers, coloured by D") {
            plots.append(("layer-rates", layers.svg()))
        }
        plots += try heatmaps(plan: plan).map { ($0.name, $0.chart.svg()) }
        return plots
    }

    /// Writes every plot as SVG into `folder`, and a PNG of each where `rsvg-convert` is
    /// installed. Returns the files written and, if PNGs were not, why.
    public func write(to folder: URL, plan: SweepDirectory.Plan) throws -> (files: [URL], pngProblem: String?) {
        var files: [URL] = []
        var problem: String?
        for (name, svgText) in try all(plan: plan) {
            let svg = folder.appendingPathComponent("\(name).svg")
            try AtomicFile.write(Data(svgText.utf8), to: svg)
            files.append(svg)
            if problem == nil {
                do {
                    files.append(try SVGRasterizer.png(of: svg))
                } catch let error as SVGRasterizer.Failure {
                    problem = error.description
                }
            }
        }
        return (files, problem)
    }
}

extension FinalPoint {
    var tooltip: String {
        String(format: "%@ (point %d): R %.3f, D %.3f, −ELBO %.3f, β %.4g", label, idx, rate, distortion, negElbo, beta)
    }
}
