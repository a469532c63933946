import Foundation
import RDLab
import RDSweep
import Testing

/// The plots from a store: the R–D plane's layers, a two-layer sweep's R₁/R₂ chart and its
/// heatmaps over a grid of two numeric axes, and the tick and colour helpers.
@Suite("Plots")
struct PlotTests {
    /// A 2 × 2 grid (`beta1` × `beta2`) of two-layer results, written by hand.
    static func grid() throws -> (SweepDirectory, ResultsStore, SweepDirectory.Plan) {
        let root = FileManager.default.temporaryDirectory.appendingPathComponent("rdsweep-plot-\(UUID().uuidString)")
        let yaml = "name: grid\ntrain: {model: toy}\naxes: {beta1: [0.1, 10], beta2: [1, 0.5]}\n"
        let sweep = SweepDirectory(url: root)
        try sweep.create(yaml: yaml, spec: try SweepSpec.parse(yaml: yaml, file: "grid.yaml"))
        let plan = try sweep.readPlan()
        for point in plan.points {
            let b1 = point.value(of: "beta1")!.number!, b2 = point.value(of: "beta2")!.number!
            let r1 = 10 / (1 + b1), r2 = 5 / (1 + b2)
            try sweep.run(point).append([RunDirectory.Metrics(epoch: 1, step: 10, split: .test, rateNats: r1 + r2,
                ratesNats: ["z1": r1, "z2": r2], distortionNats: 100 - r1 - 2 * r2, negElboNats: 100 - r2, beta: Float(b1),
                seconds: 1, examplesPerSecond: 1, rateFloorNats: nil, family: nil)])
        }
        let store = try ResultsStore(url: sweep.results)
        _ = try SweepCollector(sweep: sweep, store: store).collect()
        return (sweep, store, plan)
    }

    static func count(_ text: String, _ needle: String) -> Int { text.components(separatedBy: needle).count - 1 }

    @Test func twoLayerGridGivesLayerChartAndHeatmaps() throws {
        let (sweep, store, plan) = try Self.grid()
        defer { try? FileManager.default.removeItem(at: sweep.url) }
        let plots = try RatePlots(store: store).all(plan: plan)
        #expect(plots.map(\.name) == ["rd-plane", "elbo-rate", "trajectories", "layer-rates", "heatmap-distortion", "heatmap-rate-z1",
            "heatmap-rate-z2"])
        let layers = try #require(plots.first { $0.name == "layer-rates" }?.svg)
        #expect(Self.count(layers, "class=\"point\"") == 4 && layers.contains("class=\"colorbar\"") && layers.contains("rate of z1"))
        let fills = Set(layers.components(separatedBy: "class=\"point\"").dropFirst().map { $0.components(separatedBy: "fill=\"")[1].prefix(7) })
        #expect(fills.count == 4, "one colour per distortion: \(fills)")
        let heatmap = try #require(plots.first { $0.name == "heatmap-distortion" }?.svg)
        #expect(Self.count(heatmap, "class=\"cell\"") == 4)
        // rows bottom to top by beta2 (0.5, then 1), columns by beta1 (0.1, then 10): the first cell is (0.1, 0.5)
        let first = try #require(heatmap.components(separatedBy: "class=\"cell\"").dropFirst().first)
        #expect(first.contains("beta1 0.1, beta2 0.5: 84.24"), "\(first.prefix(200))")
    }

    /// A 3 × 3 grid (β ∈ {0.1, 1, 10}) of two-layer results with `eval --probes` results:
    /// R₁ = 10/(1 + β₁), R₂ = 5/(1 + β₂), probes on means above those on samples.
    static func probedGrid() throws -> (SweepDirectory, ResultsStore, SweepDirectory.Plan) {
        let root = FileManager.default.temporaryDirectory.appendingPathComponent("rdsweep-probes-\(UUID().uuidString)")
        let yaml = "name: hit\ntrain: {model: hierarchical}\naxes: {beta1: [0.1, 1, 10], beta2: [0.1, 1, 10]}\nevaluate: {probes: true}\n"
        let sweep = SweepDirectory(url: root)
        try sweep.create(yaml: yaml, spec: try SweepSpec.parse(yaml: yaml, file: "hit.yaml"))
        let plan = try sweep.readPlan()
        try FileManager.default.createDirectory(at: root.appendingPathComponent("evaluations"), withIntermediateDirectories: true)
        for point in plan.points {
            let b1 = point.value(of: "beta1")!.number!, b2 = point.value(of: "beta2")!.number!
            let r1 = 10 / (1 + b1), r2 = 5 / (1 + b2)
            try sweep.run(point).append([RunDirectory.Metrics(epoch: 3, step: 30, split: .test, rateNats: r1 + r2,
                ratesNats: ["z1": r1, "z2": r2], distortionNats: 100 - r1 - 2 * r2, negElboNats: 100 - r2, beta: 1,
                seconds: 1, examplesPerSecond: 1, rateFloorNats: nil, family: nil)])
            func layer(_ name: String, _ budget: Double, _ accuracy: Double) throws -> LayerProbeReport {
                LayerProbeReport(layer: name, dimension: name == "z1" ? 784 : 20, logisticAccuracy: accuracy,
                    nearestNeighbourAccuracy: accuracy - 0.05, rateNats: budget,
                    boundAccuracy: try InformationBound(classes: 10, labelEntropy: log(10)).maximumAccuracy(information: budget),
                    chanceAccuracy: 0.11)
            }
            let report = ProbeReport(psnrDecibels: 10 + r1, classes: 10, fittingExamples: 1600, heldOutExamples: 400, splitSeed: 1,
                layers: [try layer("z1", r1 + r2, 0.9), try layer("z2", r2, 0.5 + r2 / 20)],
                sampledLayers: [try layer("z1", r1 + r2, 0.6), try layer("z2", r2, 0.2 + r2 / 20)])
            let evaluation = Evaluation(step: 30, examples: 2000, rateNats: r1 + r2, ratesNats: ["z1": r1, "z2": r2],
                distortionNats: 100 - r1 - 2 * r2, negElboNats: 100 - r2, negIwaeNats: nil, iwaeSamples: nil, probes: report, seconds: 1)
            try JSONEncoder.rdlab(pretty: false).encode(evaluation).write(to: sweep.evaluation(point))
        }
        let store = try ResultsStore(url: sweep.results)
        let summary = try SweepCollector(sweep: sweep, store: store).collect()
        #expect(summary.skipped.isEmpty, "\(summary.skipped)")
        return (sweep, store, plan)
    }

    /// HIT's grid: heatmaps of D, R₁, R₂, PSNR and each layer's probe accuracy, R₁ against R₂,
    /// and the probes against the bound g⁻¹ with a marker and colour per layer and features.
    @Test func probedGridGivesHITPlots() throws {
        let (sweep, store, plan) = try Self.probedGrid()
        defer { try? FileManager.default.removeItem(at: sweep.url) }
        let plots = try RatePlots(store: store).all(plan: plan)
        #expect(plots.map(\.name) == ["rd-plane", "elbo-rate", "trajectories", "layer-rates", "heatmap-distortion", "heatmap-rate-z1",
            "heatmap-rate-z2", "heatmap-psnr", "heatmap-probe-z1", "heatmap-probe-z2", "probe-bound"])
        #expect(plots.allSatisfy { !$0.caption.isEmpty && $0.svg.hasPrefix("<svg") })
        for name in ["heatmap-psnr", "heatmap-probe-z1", "heatmap-probe-z2"] {
            let map = try #require(plots.first { $0.name == name }?.svg)
            #expect(Self.count(map, "class=\"cell\"") == 9 && !map.contains("missing"), "\(name)")
        }
        // PSNR = 10 + R₁ = 10 + 10/1.1 at β₁ = 0.1 (any β₂): the bottom-left cell
        let psnr = try #require(plots.first { $0.name == "heatmap-psnr" }?.svg)
        #expect(psnr.contains("beta1 0.1, beta2 0.1: 19.09"), "\(psnr.prefix(1200))")
        let probe = try #require(plots.first { $0.name == "heatmap-probe-z2" }?.svg)
        #expect(probe.contains("beta1 10, beta2 0.1: 0.7273"), "z2 means: 0.5 + R₂/20 with R₂ = 5/1.1")

        let bound = try #require(try RatePlots(store: store).probeBound(title: "bound"))
        let markers = bound.series.filter { $0.style == .points }
        #expect(markers.map(\.name) == ["z1 means, logistic", "z2 means, logistic", "z1 samples, logistic", "z2 samples, logistic"])
        #expect(markers.allSatisfy { $0.points.count == 9 } && Set(markers.map(\.color)).count == 4)
        #expect(markers.map(\.marker) == [.circle, .circle, .triangle, .triangle])
        let curve = try #require(bound.series.first { $0.name == "g⁻¹(I), M = 10" })
        #expect(curve.style == .line && curve.points.last?.distortion == 1 && bound.logX)
        #expect(abs(curve.points[0].rate - 0.01) < 1e-15 && (0.14...0.15).contains(curve.points[0].distortion), "\(curve.points[0])")
        let information = InformationBound.self
        for p in curve.points where p.distortion < 1 {
            // on the curve g(α) = I, with H(Y) = ln 10
            let g = log(10) - information.binaryEntropy(p.distortion) - (1 - p.distortion) * log(9)
            #expect(abs(g - p.rate) < 1e-9, "g(\(p.distortion)) = \(g), I = \(p.rate)")
        }
        let svg = bound.svg()
        #expect(Self.count(svg, "class=\"point\"") == 36 && Self.count(svg, "<polygon") >= 18 && svg.contains("chance 1/M = 0.1"))
        #expect(Self.count(svg, "class=\"legend\"") == 6)

        let html = try SweepReport(sweep: sweep, store: store).html()
        #expect(Self.count(html, "<figcaption>") == plots.count && html.contains("<th>PSNR (dB)</th>") && html.contains("<th>probe z2</th>"))
        #expect(html.contains("<th>R z1</th>") && html.contains(">19.09</td>"))
    }

    /// The paper's 21 × 21 grid: axis labels to three digits, every other column's, so they do
    /// not overlap; the cells' tooltips keep the whole value.
    @Test func denseGridLabelsDoNotOverlap() throws {
        let values = (0..<21).map { String(format: "%g", (pow(10, -1 + 2 * Double($0) / 20) * 1e6).rounded() / 1e6) }
        let map = SVGHeatmap(title: "t", xLabel: "beta1", yLabel: "beta2", valueLabel: "v", xValues: values, yValues: values,
            cells: values.map { _ in values.map { _ in 1 } }).svg()
        #expect(values[1] == "0.125893" && Self.count(map, ">0.126</text>") == 1 && !map.contains(">0.125893</text>"))
        #expect(map.contains("beta1 0.125893, beta2 0.1: 1"))
        let xLabels = map.components(separatedBy: "\n").filter { $0.contains("text-anchor=\"middle\">") && !$0.contains("font-size") }
        #expect(xLabels.count == 11, "\(xLabels)")
        #expect(Self.count(map, "text-anchor=\"end\"") == 21)
    }

    @Test func ticksAndColours() {
        #expect(SVGChart.ticks(0...1) == [0, 0.2, 0.4, 0.6, 0.8, 1])
        #expect(SVGChart.ticks(0.5...3.2) == [0.5, 1, 1.5, 2, 2.5, 3])
        #expect(SVGChart.ticks(-12...37) == [-10, 0, 10, 20, 30])
        #expect(SVGChart.ticks(5...5) == [5])
        let scale = ColorScale([0, 10])
        #expect(scale.color(0) == "#440154" && scale.color(10) == "#fde725" && scale.color(nil) == "#d9d9d9")
        #expect(scale.color(-5) == scale.color(0) && scale.color(.nan) == "#d9d9d9")
    }
}
