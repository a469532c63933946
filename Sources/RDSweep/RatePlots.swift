import Foundation
import RDCompute
import RDFiles
import RDLab

/// The plots of a sweep, from its results store: the R–D plane (Alemi Fig. 1/4), −ELBO
/// against R, each run's path through the plane; for two-layer models R₁ against R₂, heatmaps
/// over a two-axis grid (HIT Fig. 3, in `RatePlots+Heatmaps`) and the probes against their
/// information bound (`RatePlots+Probes`).
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

    /// Every plot the sweep's results support, each with its caption.
    public func all(plan: SweepDirectory.Plan) throws -> [SweepPlot] {
        var plots = [
            SweepPlot(name: "rd-plane", caption: "Each point's test rate R and distortion D at its last epoch, with the Pareto "
                + "frontier, its lower convex hull, iso-ELBO lines D + R = c and the line D = H − R below which no model can go "
                + "(Alemi et al., Fig. 1).", svg: try plane(title: "\(plan.name): rate–distortion plane").svg()),
            SweepPlot(name: "elbo-rate", caption: "−ELBO = D + R against R: points of one −ELBO can sit anywhere on a line of slope −1 "
                + "in the plane above.", svg: try elbo(title: "\(plan.name): −ELBO against rate").svg()),
            SweepPlot(name: "trajectories", caption: "Each run's test (R, D) epoch by epoch: how training moved it through the plane.",
                svg: try trajectories(title: "\(plan.name): test R and D by epoch").svg()),
        ]
        if let layers = try layerPlane(title: "\(plan.name): rates of the two layers, coloured by D") {
            plots.append(SweepPlot(name: "layer-rates", caption: "R₁ against R₂, the rates of the first two latent layers, "
                + "coloured by D: where each point spends its bits (HIT's R₁ vs R₂).", svg: layers.svg()))
        }
        plots += try heatmaps(plan: plan)
        if let bound = try probeBound(title: "\(plan.name): probe accuracy against the information budget") {
            plots.append(SweepPlot(name: "probe-bound", caption: "Held-out accuracy of the logistic probe on each layer against that "
                + "layer's information budget Σ_{l′≥l} R_l′ ≥ I(z_l; Y), for posterior means (circles) and one sample (triangles); "
                + "the curve g⁻¹ is the most accuracy any classifier can reach with that much information, "
                + "g(α) = H(Y) − H_b(α) − (1 − α) ln(M − 1) with H(Y) = ln M (Meyen; HIT). Samples stay under it; means are "
                + "functions of x and may pass it.", svg: bound.svg()))
        }
        return plots
    }

    /// Writes every plot as SVG into `folder`, and a PNG of each where `rsvg-convert` is
    /// installed. Returns the files written and, if PNGs were not, why.
    public func write(to folder: URL, plan: SweepDirectory.Plan) throws -> (files: [URL], pngProblem: String?) {
        var files: [URL] = []
        var problem: String?
        for plot in try all(plan: plan) {
            let svg = folder.appendingPathComponent("\(plot.name).svg")
            try AtomicFile.write(Data(plot.svg.utf8), to: svg)
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
