import Foundation
import RDCompute
@testable import RDLab
import RDTestSupport
import Testing

/// The independent δ-VAE channel (seed-spec §9.3, check C7): every dimension pays KL ≥ δ for
/// arbitrary head outputs, on every backend, with finite gradients.
@Suite("δ-VAE channel", .serialized)
struct DeltaChannelTests {
    static let deltas = [1e-4, 0.01, 0.08, 0.1, 0.5, 1, 3, 10]

    /// Head outputs `[rows, 16]`: uniform in [−50, 50], and a row each of the extremes,
    /// sigmoid's saturation points and zero.
    static func logits(seed: UInt64, rows: Int) -> [Float] {
        var data = TestData(seed: seed)
        let special: [Float] = [-1e4, -88, -50, -20, -17, -16, -1e-3, 0, 1e-3, 16, 17, 20, 50, 88, 1e4, 0]
        return special + special.reversed() + data.values((rows - 2) * special.count, in: -50...50)
    }

    /// KL_j ≥ δ for every (a_σ, a_μ): exactly (in Double, of the Float μ and σ the channel
    /// uses; the slack ε leaves a margin of about 4·10⁻⁶) and as the backend computes it (the
    /// rate per dimension and its sum per example, to Float rounding), and the gradients of the
    /// rate and the latent with respect to a_σ and a_μ are finite. Dropping the square root
    /// from μ fails it, and so does dropping ε (the exact KL a rounding step below δ; NaN
    /// gradients on PoCL).
    @Test(arguments: AvailableBackends.all)
    func everyDimensionPaysDelta(_ target: BackendUnderTest) throws {
        let rows = 40, columns = 16
        let scaleLogits = Self.logits(seed: 1, rows: rows), meanLogits = Self.logits(seed: 2, rows: rows)
        for delta in Self.deltas {
            let interval = try #require(DeltaInterval(delta: delta))
            let graph = Graph(backend: target.backend)
            let aSigma = Tensor(shape: [rows, columns], buffer: try graph.constant(scaleLogits, shape: [rows, columns]).buffer,
                requiresGradient: true)
            let aMu = Tensor(shape: [rows, columns], buffer: try graph.constant(meanLogits, shape: [rows, columns]).buffer,
                requiresGradient: true)
            let (mu, sigma) = try DeltaChannel.meanAndScale(scaleLogit: aSigma, meanExcess: aMu, interval: interval, in: graph)
            let out = try GaussianChannel.output(mean: mu, scale: sigma, in: graph, seed: 3, stream: 0)
            let means = try graph.values(mu), scales = try graph.values(sigma)
            let rateOfDimension = try #require(out.perDimensionRate)
            let perDimension = try graph.values(try rateOfDimension())
            let rates = try graph.values(out.rate)
            let tolerance = 1e-5 * max(1, delta)
            for i in means.indices {
                let m = Double(means[i]), s = Double(scales[i])
                let exact = 0.5 * (m * m + s * s - 1 - log(s * s))
                #expect(exact >= delta && Double(perDimension[i]) >= delta - tolerance, """
                    δ = \(delta), a_σ \(scaleLogits[i]), a_μ \(meanLogits[i]): μ \(m), σ \(s), \
                    KL \(exact) (backend \(perDimension[i]))
                    """)
            }
            for (row, rate) in rates.enumerated() {
                #expect(Double(rate) >= Double(columns) * (delta - tolerance), "δ = \(delta), row \(row): rate \(rate)")
            }
            let latentSum = try graph.sum(try graph.sum(out.latent, axes: [1]), axes: [0])
            try graph.backward(from: try graph.add(try graph.sum(out.rate, axes: [0]), latentSum))
            for (name, leaf) in [("a_σ", aSigma), ("a_μ", aMu)] {
                let gradient = try target.backend.download(try #require(graph.gradient(of: leaf)))
                #expect(gradient.allSatisfy { $0.isFinite }, "δ = \(delta): a non-finite gradient of \(name)")
            }
        }
    }

    /// The channel end to end on features far from the origin (saturating both heads): rates
    /// of at least D·δ, log e(z|x) for IWAE, the committed rate as the floor, draws from N(0, I).
    @Test(arguments: AvailableBackends.all)
    func channelCommitsItsRate(_ target: BackendUnderTest) throws {
        let backend = target.backend
        let channel = try DeltaChannel(latentDimension: 8, delta: 0.5, backend: backend, seed: 5)
        #expect(channel.rateFloor == 4)
        #expect(channel.parameters.map(\.name).contains("encoder.delta_scale.weight"))
        var data = TestData(seed: 9)
        for spread in [1.0, 1e3] {
            let graph = Graph(backend: backend)
            let features = try graph.constant(data.values(6 * 256, in: -spread...spread), shape: [6, 256])
            let out = try channel(features, in: graph, seed: 1, stream: 0)
            #expect(out.latent.shape == [6, 8] && out.logPosterior?.shape == [6])
            let rates = try graph.values(out.rate)
            #expect(rates.allSatisfy { Double($0) >= 4 - 1e-4 }, "spread \(spread): rates \(rates)")
            let logPosterior = try #require(out.logPosterior)
            #expect(try graph.values(logPosterior).allSatisfy { $0.isFinite })
        }
        let graph = Graph(backend: backend)
        let pool = try graph.filled(0, shape: [1, 256])
        let samples = try channel.marginalSamples(count: 3, pool: pool, in: graph, seed: 1, stream: 2)
        #expect(samples.shape == [3, 8])
    }

    /// Finite differences of the rate plus a loss on the latent, through both heads.
    @Test(arguments: AvailableBackends.all)
    func gradientsMatchFiniteDifferences(_ target: BackendUnderTest) throws {
        let backend = target.backend
        let channel = try DeltaChannel(latentDimension: 4, delta: 0.3, backend: backend, seed: 6)
        var data = TestData(seed: 11)
        let features = data.values(3 * 256, in: -1...1)
        try GraphGradientTests.check(backend, channel.parameters, samples: 4, h: 5e-3, tolerance: 3e-2) { g in
            let out = try channel(try g.constant(features, shape: [3, 256]), in: g, seed: 2, stream: 1)
            let miss = try g.sum(try g.unary(.square, try g.sub(out.latent, try g.scalar(1))), axes: [1])
            return try g.mean(try g.add(out.rate, try g.scale(miss, by: 0.5)))
        }
    }

    @Test func refusesADeltaWithoutInterval() {
        #expect(throws: ComputeError.self) {
            _ = try DeltaChannel(latentDimension: 2, delta: -1, backend: AvailableBackends.cpu.backend, seed: 0)
        }
    }
}
