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
