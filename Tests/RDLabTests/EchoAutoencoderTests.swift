import Foundation
import RDCompute
import RDData
import RDLab
import RDTestSupport
import Testing

/// The Echo autoencoder: the same conv encoder/decoder with the Echo channel (seed-spec §2).
@Suite("Echo autoencoder", .serialized)
struct EchoAutoencoderTests {
    static func configuration(latent: Int = 8, terms: Int = 7, activation: Activation = .relu,
        sampling: EchoIndexTable.Sampling = .withoutReplacement) -> VAEConfiguration {
        VAEConfiguration(latentDimension: latent, activation: activation, channel: .echo, echoTerms: terms,
            echoReplacement: sampling)
    }

    /// Shapes, the exact rate −Σ log s against its floor −D log r, and a training step.
    @Test(arguments: AvailableBackends.all)
    func shapesRateFloorAndAStep(_ target: BackendUnderTest) throws {
        let backend = target.backend
        let model = try ConvAutoencoder(Self.configuration(), backend: backend, seed: 3)
        let echo = try #require(model.channel as? EchoChannel)
        #expect(abs(echo.clip - EchoClip.factor(terms: 7)) < 1e-12)
        #expect(model.parameters.contains { $0.name == "encoder.echo_f.weight" })
        let graph = Graph(backend: backend)
        let out = try model(try graph.constant(VAETests.images(8, seed: 1), shape: [8, 28, 28, 1]), in: graph, seed: 1,
            noiseStream: 0)
        #expect(out.latent.shape == [8, 8] && out.rate.shape == [8] && out.logits.shape == [8, 28, 28, 1])
        let rates = try graph.values(out.rate)
        #expect(rates.allSatisfy { Double($0) >= echo.rateFloor - 1e-4 }, "rates \(rates), floor \(echo.rateFloor)")
        let trainer = VAETrainer(model: model, optimizer: Adam(backend: backend), beta: BetaSchedule(beta: 1),
            learningRate: LearningRateSchedule(kind: .constant, learningRate: 1e-3, totalSteps: 2), seed: 3)
        let step = try trainer.train(VAETests.images(8, seed: 2), batch: 8)
        #expect(step.rate.isFinite && step.distortion > 100)
    }

    /// Finite differences of mean(D + β·R) through the Echo channel, which ties every example's
    /// latent to the others' encodings.
    @Test(arguments: [EchoIndexTable.Sampling.withoutReplacement, .withReplacement])
    func fullLossGradients(_ sampling: EchoIndexTable.Sampling) throws {
        let backend = AvailableBackends.cpu.backend
        let model = try ConvAutoencoder(Self.configuration(latent: 4, terms: 2, activation: .softplus, sampling: sampling),
            backend: backend, seed: 5)
        let x = VAETests.images(3, seed: 4)
        let chosen = Set(["encoder.conv1.weight", "encoder.conv5.bias", "encoder.echo_f.weight", "encoder.echo_scale.bias",
            "encoder.echo_scale.weight", "decoder.deconv1.weight", "decoder.logits.bias"])
        let parameters = model.parameters.filter { chosen.contains($0.name) }
        #expect(parameters.count == chosen.count)
        try GraphGradientTests.check(backend, parameters, samples: 3, h: 5e-3, tolerance: 3e-2) { g in
            let out = try model(try g.constant(x, shape: [3, 28, 28, 1]), in: g, seed: 5, noiseStream: 1)
            return try g.mean(try g.add(out.distortion, try g.scale(out.rate, by: 0.5)))
        }
    }

    /// Same seed: CPU twice bit-identical; CPU and OpenCL agree per step to 1e-4 relative.
    @Test func trajectoriesAgreeAcrossBackends() throws {
        func losses(_ backend: any Backend) throws -> [Double] {
            let model = try ConvAutoencoder(Self.configuration(), backend: backend, seed: 11)
            let trainer = VAETrainer(model: model, optimizer: Adam(backend: backend), beta: BetaSchedule(beta: 1),
                learningRate: LearningRateSchedule(kind: .constant, learningRate: 3e-4, totalSteps: 10), seed: 11)
            let train = try #require(VAETests.mnist).train
            return try (0..<10).map { step in
                try trainer.train(train.batch((step * 8)..<(step * 8 + 8), binarization: .none, seed: 0, epoch: 0), batch: 8)
                    .negativeELBO
            }
        }
        let cpu = try losses(AvailableBackends.cpu.backend)
        #expect(try losses(AvailableBackends.cpu.backend) == cpu, "two CPU runs with one seed differ")
        for target in AvailableBackends.all where target.family != "cpu" {
            let worst = zip(cpu, try losses(target.backend)).map { abs($0 - $1) / abs($0) }.max()!
            #expect(worst < 1e-4, "\(target.backend.displayName): largest relative difference \(worst)")
            print("echo trajectory: cpu vs \(target.backend.displayName): largest relative loss difference over 10 steps \(worst)")
        }
    }

    /// A few steps on 200 binarized-MNIST images bring the held-out −ELBO (D + exact R) down.
    @Test func learnsOnBinarizedMNIST() throws {
        let (all, test) = try #require(VAETests.mnist, "binarized MNIST not found in ../shared/datasets")
        let backend = AvailableBackends.cpu.backend
        let model = try ConvAutoencoder(Self.configuration(latent: 16, terms: 49), backend: backend, seed: 2)
        let trainer = VAETrainer(model: model, optimizer: Adam(backend: backend, hyperparameters: AdamParameters(learningRate: 1e-3)),
            beta: BetaSchedule(beta: 1), learningRate: LearningRateSchedule(kind: .constant, learningRate: 1e-3, totalSteps: 12),
            seed: 2)
        func heldOut() throws -> Double {
            try trainer.evaluate(test.batch(0..<100, binarization: .none, seed: 2, epoch: 0), batch: 100, index: 0).negativeELBO
        }
        let before = try heldOut()
        let sampler = BatchSampler(count: 200, batchSize: 50, seed: 2)
        for epoch in 0..<3 {
            for indices in sampler.batches(epoch: epoch) {
                _ = try trainer.train(all.batch(indices, binarization: .none, seed: 2, epoch: epoch), batch: indices.count)
            }
        }
        let after = try heldOut()
        print("echo learning: held-out −ELBO \(before) → \(after) nats after 12 steps")
        #expect(after < before - 100, "−ELBO \(before) → \(after)")
    }
}
