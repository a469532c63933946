import Foundation
import RDCompute
import RDData
@testable import RDLab
import RDTestSupport
import Testing

/// The δ-VAE's sequence model (seed-spec §9): causality of encoder and decoder in rows, the
/// committed rate as a floor of every rate, the auxiliary prior's separation from the model,
/// and a short run on static binarized MNIST beside Alemi's `-+-`.
@Suite("δ-VAE sequence model")
struct DeltaVAETests {
    /// d = 2 per row, a 4-feature PixelCNN with one resnet per block.
    static let small = DeltaSpec(rowDimension: 2, alphaLower: 0.5, alphaUpper: 0.9, pixelcnnFeatures: 4, pixelcnnResnets: 1,
        auxiliaryHidden: 8)

    static func images(_ count: Int, seed: UInt64) -> [Float] {
        var data = TestData(seed: seed)
        return data.values(count * 784, in: 0...1).map { $0 > 0.6 ? 1 : 0 }
    }

    /// ∂logit(row t)/∂z_s is exactly zero for every s > t, and z_t itself reaches row t (so the
    /// check can fail both ways), for random weights, on every backend.
    @Test(arguments: AvailableBackends.all)
    func decoderRowsReadEarlierLatentsOnly(_ target: BackendUnderTest) throws {
        let backend = target.backend
        let model = try DeltaVAE(Self.small, backend: backend, seed: 5)
        let d = Self.small.rowDimension
        var data = TestData(seed: 6)
        let latent = data.values(28 * d)
        let image = Self.images(1, seed: 7)
        for row in 0..<28 {
            let graph = Graph(backend: backend)
            let z = Tensor(shape: [1, 28 * d], buffer: try backend.makeBuffer(latent), requiresGradient: true)
            let logits = try model.decoder.logits(z, images: try graph.constant(image, shape: [1, 28, 28, 1]), in: graph)
            let mask = (0..<784).map { $0 / 28 == row ? Float(1) : 0 }
            try graph.backward(from: try graph.sum(try graph.mul(logits, try graph.constant(mask, shape: [1, 28, 28, 1])),
                axes: [0, 1, 2, 3]))
            let gradient = try backend.download(try #require(graph.gradient(of: z)))
            let leaks = ((row + 1) * d..<(28 * d)).filter { gradient[$0] != 0 }.map { $0 / d }
            #expect(leaks.isEmpty, "\(backend.displayName): logits of row \(row) depend on latents of rows \(Set(leaks).sorted())")
            #expect((row * d..<(row + 1) * d).contains { gradient[$0] != 0 }, "row \(row) ignores its own latent")
        }
    }

    /// ∂μ_t/∂x and ∂σ_t/∂x are exactly zero for pixels above row t (the encoder is
    /// anti-causal), and row t's pixels and the last row reach every latent.
    @Test func encoderRowsReadLaterRowsOnly() throws {
        let backend = AvailableBackends.cpu.backend
        let model = try DeltaVAE(Self.small, backend: backend, seed: 8)
        let d = Self.small.rowDimension
        let image = Self.images(1, seed: 9)
        for row in [0, 1, 13, 27] {
            for head in [\DiagonalGaussian.mean, \DiagonalGaussian.scale] {
                let graph = Graph(backend: backend)
                let x = Tensor(shape: [1, 28, 28, 1], buffer: try backend.makeBuffer(image), requiresGradient: true)
                let q = try model.posterior(x, in: graph)
                let mask = (0..<(28 * d)).map { $0 / d == row ? Float(1) : 0 }
                try graph.backward(from: try graph.sum(try graph.mul(q[keyPath: head], try graph.constant(mask, shape: [1, 28, d])),
                    axes: [0, 1, 2]))
                let gradient = try backend.download(try #require(graph.gradient(of: x)))
                let leaks = (0..<(row * 28)).filter { gradient[$0] != 0 }.map { $0 / 28 }
                #expect(leaks.isEmpty, "latent \(row) depends on image rows \(Set(leaks).sorted())")
                #expect((row * 28..<(row + 1) * 28).contains { gradient[$0] != 0 }, "latent \(row) ignores its own row")
                #expect((27 * 28..<784).contains { gradient[$0] != 0 }, "latent \(row) ignores the last row")
            }
        }
    }

    /// Whatever the weights, the rate of every example is at least the committed rate δ.
    @Test func ratesNeverFallBelowTheCommittedRate() throws {
        let backend = AvailableBackends.cpu.backend
        for seed: UInt64 in [1, 2, 3] {
            let model = try DeltaVAE(Self.small, backend: backend, seed: seed)
            let graph = Graph(backend: backend)
            let out = try model(try graph.constant(Self.images(6, seed: seed), shape: [6, 28, 28, 1]), in: graph, seed: seed,
                noiseStream: 0)
            let rates = try graph.values(out.rates[0].rate)
            let delta = Self.small.committedRate
            #expect(rates.allSatisfy { Double($0) >= delta * (1 - 1e-5) }, "rates \(rates) below δ = \(delta)")
            #expect(try #require(model.rateFloor) == delta)
        }
    }

    /// The auxiliary prior's loss reaches its own parameters only, and a model without one has none.
    @Test func auxiliaryPriorLearnsWithoutTouchingTheModel() throws {
        let backend = AvailableBackends.cpu.backend
        let model = try DeltaVAE(Self.small, backend: backend, seed: 4)
        let graph = Graph(backend: backend)
        let out = try model(try graph.constant(Self.images(3, seed: 4), shape: [3, 28, 28, 1]), in: graph, seed: 4, noiseStream: 1)
        let auxiliary = try #require(out.auxiliaryPrior)
        try graph.backward(from: try graph.mean(auxiliary.loss))
        let own = Set(try #require(model.auxiliary).parameters.map(\.name))
        for parameter in model.parameters {
            let gradient = try graph.gradient(of: parameter.tensor).map { try backend.download($0) } ?? []
            let moved = gradient.contains { $0 != 0 }
            #expect(moved == own.contains(parameter.name), "\(parameter.name): gradient \(moved ? "non-zero" : "zero")")
        }
        let noAuxiliary = try DeltaVAE(DeltaSpec(rowDimension: 2, pixelcnnFeatures: 4, pixelcnnResnets: 1, auxiliaryHidden: 0),
            backend: backend, seed: 4)
        #expect(noAuxiliary.auxiliary == nil)
    }

    /// The AR(1) log-density on the graph equals the Double sum of the conditionals.
    @Test func priorLogDensity() throws {
        let backend = AvailableBackends.cpu.backend
        let prior = AR1Prior.linearlySpaced(from: 0.3, to: 0.8, count: 3)
        var data = TestData(seed: 12)
        let n = 5, z = data.values(2 * n * 3)
        let graph = Graph(backend: backend)
        let values = try graph.values(try prior.logDensity(try graph.constant(z, shape: [2, n * 3]), steps: n, in: graph))
        for b in 0..<2 {
            var expected = 0.0
            for t in 0..<n {
                for k in 0..<3 {
                    let a = prior.alphas[k], x = Double(z[b * n * 3 + t * 3 + k])
                    let (mean, variance) = t == 0 ? (0.0, 1.0) : (a * Double(z[b * n * 3 + (t - 1) * 3 + k]), 1 - a * a)
                    expected += -0.5 * (x - mean) * (x - mean) / variance - 0.5 * Foundation.log(2 * Double.pi * variance)
                }
            }
            #expect(abs(Double(values[b]) - expected) < 1e-4 * abs(expected), "example \(b): \(values[b]) vs \(expected)")
        }
    }

    static let binarized: Dataset? = {
        let locator = DataLocator(dataDirectory: TestDatasets.fixtures, environment: ["RDLAB_OFFLINE": "1"])
        return try? locator.load("binarized-mnist", split: "train")
    }()

    /// A short run on static binarized MNIST (CPU): the δ-VAE's batch rate never falls below δ
    /// at any step, while Alemi's `-+-` (the same PixelCNN, a Gaussian channel) at β = 1 on the
    /// same budget ends with a smaller rate; the rate under the trained auxiliary prior ends
    /// below the AR(1) rate. Both trajectories are printed.
    @Test func committedRateHoldsWhereThePixelCNNVAECollapses() throws {
        let train = try #require(Self.binarized, "binarized MNIST fixtures not found in Tests/Fixtures/datasets")
        let backend = AvailableBackends.cpu.backend
        let spec = DeltaSpec(rowDimension: 4, alphaLower: 0.5, alphaUpper: 0.95, pixelcnnFeatures: 8, pixelcnnResnets: 1,
            auxiliaryHidden: 32)
        let delta = try DeltaVAE(spec, backend: backend, seed: 3)
        let alemi = try ConvAutoencoder(AlemiSpec(decoder: .pixelcnn, pixelcnnFeatures: 8, pixelcnnResnets: 1), backend: backend,
            seed: 3)
        let sampler = BatchSampler(count: 200, batchSize: 20, seed: 3)
        func run(_ model: any RateDistortionModel) throws -> [RateDistortion] {
            let trainer = ModelTrainer.plain(model, lr: 2e-3, steps: 30, seed: 3)
            return try (0..<3).flatMap { epoch in
                try sampler.batches(epoch: epoch).map { indices in
                    try trainer.train(train.batch(indices, binarization: .none, seed: 3, epoch: epoch), batch: indices.count)
                }
            }
        }
        let deltaSteps = try run(delta), alemiSteps = try run(alemi)
        let floor = spec.committedRate
        func trajectory(_ steps: [RateDistortion]) -> String {
            steps.map { String(format: "%.2f/%.1f", $0.rate, $0.distortion) }.joined(separator: " ")
        }
        print("δ-VAE (δ = \(floor) nats) R/D per step: \(trajectory(deltaSteps))")
        print("-+- at β = 1 R/D per step: \(trajectory(alemiSteps))")
        let smallest = deltaSteps.map(\.rate).min()!
        print("δ-VAE smallest batch rate \(smallest); auxiliary-prior rate per step: "
            + deltaSteps.compactMap(\.auxiliaryRate).map { String(format: "%.2f", $0) }.joined(separator: " "))
        #expect(smallest >= floor * (1 - 1e-5), "a batch rate \(smallest) fell below δ = \(floor)")
        #expect(alemiSteps.last!.rate < deltaSteps.last!.rate, "-+- ends at \(alemiSteps.last!.rate), δ-VAE at \(deltaSteps.last!.rate)")
        // the PixelCNN VAE's rate stays under δ and keeps falling after its first steps: the decoder takes over
        #expect(alemiSteps.last!.rate < floor && alemiSteps.last!.rate < alemiSteps[5].rate, "-+-: \(trajectory(alemiSteps))")
        let last = deltaSteps.suffix(5)
        let auxiliary = last.compactMap(\.auxiliaryRate).reduce(0, +) / Double(last.count)
        let ar1 = last.map(\.rate).reduce(0, +) / Double(last.count)
        #expect(auxiliary < ar1, "the auxiliary prior's rate \(auxiliary) is not below the AR(1) rate \(ar1)")
    }
}
