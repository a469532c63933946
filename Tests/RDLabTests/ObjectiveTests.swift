import Foundation
import RDCompute
import RDData
import RDLab
import RDTestSupport
import Testing

/// The objectives of seed-spec §1.2 — constant and annealed β, target rate by dual ascent,
/// GECO, free bits — on their own and on the conv VAE.
@Suite("Objectives", .serialized)
struct ObjectiveTests {
    @Test func targetRateAndGECOMultipliersMove() {
        var equal = Objective(ObjectiveSpec(weight: .targetRate(TargetRate(rate: 10, learningRate: 0.1, initialMultiplier: 1))))
        #expect(equal.beta(of: "z", at: 0) == 1)
        equal.update(rates: ["z": 12], distortion: 80)  // above the target: λ grows
        #expect(abs(equal.state.multipliers["z"]! - 1.2) < 1e-12)
        for _ in 0..<30 { equal.update(rates: ["z": 5], distortion: 80) }  // below: λ falls, past 0 for equality
        #expect(equal.state.multipliers["z"]! < 0 && equal.beta(of: "z", at: 31) < 0)
        var atMost = Objective(ObjectiveSpec(weight: .targetRate(TargetRate(rate: 10, learningRate: 0.1, bound: .atMost))))
        for _ in 0..<30 { atMost.update(rates: ["z": 5], distortion: 80) }
        #expect(atMost.state.multipliers["z"] == 0)
        var geco = Objective(ObjectiveSpec(weight: .geco(GECO(distortion: 70, learningRate: 0.01, smoothing: 0.5))))
        geco.update(rates: ["z": 5], distortion: 80)  // D above κ: λ grows, β = 1/λ falls
        #expect(geco.state.constraintAverage == 10 && abs(geco.state.multipliers["z"]! - exp(0.1)) < 1e-12)
        geco.update(rates: ["z": 5], distortion: 60)
        #expect(geco.state.constraintAverage == 0 && abs(geco.state.multipliers["z"]! - exp(0.1)) < 1e-12)
        #expect(abs(Double(geco.beta(of: "z", at: 2)) - exp(-0.1)) < 1e-6)
        var constant = Objective(ObjectiveSpec(weight: .constant(beta: 2)))
        constant.update(rates: ["z": 5], distortion: 60)
        #expect(constant.state == ObjectiveState() && constant.beta(of: "z", at: 9) == 2)
    }

    /// The augmented Lagrangian's loss: D + λR + (c/2)(R − R*)²; `at-most` adds nothing below R*.
    @Test func targetRatePenalty() throws {
        let graph = Graph(backend: AvailableBackends.cpu.backend)
        let output = ModelOutput(distortion: try graph.constant([1, 3], shape: [2]),
            rates: [LayerRate(name: "z", rate: try graph.constant([4, 6], shape: [2]))], latent: try graph.constant([0, 0], shape: [2, 1]),
            importanceWeights: .unavailable("test"))
        func loss(_ target: TargetRate) throws -> Float {
            try graph.values(try Objective(ObjectiveSpec(weight: .targetRate(target))).loss(output, at: 0, in: graph))[0]
        }
        // E D = 2, E R = 5: 2 + λ·5 + (c/2)(5 − R*)²
        #expect(try loss(TargetRate(rate: 10, initialMultiplier: 0.5, penalty: 2)) == 2 + 2.5 + 25)
        #expect(try loss(TargetRate(rate: 10, bound: .atMost, initialMultiplier: 0.5, penalty: 2)) == 2 + 2.5)
        #expect(try loss(TargetRate(rate: 3, bound: .atMost, initialMultiplier: 0, penalty: 2)) == 2 + 4)
    }

    /// Free bits: E[D] + β Σ_j max(λ, E_b K_bj), and no gradient into dimensions below λ.
    @Test func freeBitsLossAndGradient() throws {
        let backend = AvailableBackends.cpu.backend
        let graph = Graph(backend: backend)
        let k = Parameter(name: "k", tensor: Tensor(shape: [2, 3], buffer: try backend.makeBuffer([0.1, 2, 0.9, 0.3, 4, 0.7]),
            requiresGradient: true))
        let distortion = try graph.constant([10, 20], shape: [2])
        let output = ModelOutput(distortion: distortion,
            rates: [LayerRate(name: "z", rate: try graph.sum(k.tensor, axes: [1])) { k.tensor }], latent: k.tensor,
            importanceWeights: .unavailable("test"))
        let objective = Objective(ObjectiveSpec(weight: .constant(beta: 2), freeBits: FreeBits(nats: 1)))
        let loss = try objective.loss(output, at: 0, in: graph)
        // batch means 0.2, 3, 0.8 → max(1, ·) = 1, 3, 1 → 15 + 2·5
        #expect(abs(try graph.values(loss)[0] - 25) < 1e-5)
        try graph.backward(from: loss)
        let gradient = try backend.download(try #require(graph.gradient(of: k.tensor)))
        #expect(gradient == [0, 1, 0, 0, 1, 0], "\(gradient)")
        let layer = Objective(ObjectiveSpec(weight: .constant(beta: 2), freeBits: FreeBits(nats: 10, grouping: .layer)))
        #expect(abs(try graph.values(try layer.loss(output, at: 0, in: Graph(backend: backend)))[0] - 35) < 1e-5)
    }

    /// A slice of binarized MNIST, `epochs` passes in batches of 50 on the CPU; returns the test R.
    static func convRun(_ objective: ObjectiveSpec, epochs: Int, lr: Float = 1e-3, latent: Int = 8) throws
        -> (test: RateDistortion, trainer: ModelTrainer, betas: [Float]) {
        let (all, test) = try #require(VAETests.mnist, "binarized MNIST fixtures not found in Tests/Fixtures/datasets")
        let train = all.prefix(300)
        let backend = AvailableBackends.cpu.backend
        let model = try ConvAutoencoder(AlemiSpec(latentDimension: latent), backend: backend, seed: 5)
        let trainer = ModelTrainer(model: model, optimizer: Adam(backend: backend, hyperparameters: AdamParameters(learningRate: lr)),
            objective: Objective(objective), learningRate: LearningRateSchedule(kind: .constant, learningRate: lr, totalSteps: 1),
            seed: 5)
        let sampler = BatchSampler(count: train.count, batchSize: 50, seed: 5)
        var betas: [Float] = []
        for epoch in 0..<epochs {
            for indices in sampler.batches(epoch: epoch) {
                _ = try trainer.train(HostBatch(values: train.batch(indices, binarization: .none, seed: 5, epoch: epoch),
                    shape: [indices.count, 28, 28, 1]))
                betas.append(trainer.lastBetas[0])
            }
        }
        return (try trainer.evaluate(HostBatch(values: test.batch(0..<100, binarization: .none, seed: 5, epoch: 0),
            shape: [100, 28, 28, 1]), index: 0), trainer, betas)
    }

    /// With R* = 10 nats (η = 0.02, c = 0.3) the test rate after 120 steps lies within 1 nat
    /// of 10; β = 1 on the same budget does not (its posterior collapses to ≈ 1 nat).
    @Test func targetRateHoldsTheConvVAEsRate() throws {
        let (targeted, trainer, _) = try Self.convRun(
            ObjectiveSpec(weight: .targetRate(TargetRate(rate: 10, learningRate: 0.02, penalty: 0.3))), epochs: 20)
        let (plain, _, _) = try Self.convRun(ObjectiveSpec(), epochs: 20)
        print("conv VAE, 120 steps: target rate 10 → test R \(targeted.rate) (λ \(trainer.objective.state.multipliers["z"] ?? .nan)); β = 1 → test R \(plain.rate)")
        #expect(abs(targeted.rate - 10) < 1)
        #expect(abs(plain.rate - 10) >= 1)
    }

    /// GECO in the training loop on the conv VAE, with a distortion target below what 6 steps
    /// reach: the moving average of D − κ stays positive, so λ grows every step and the weight
    /// of the rate, β = 1/λ, falls step by step from 1.
    @Test func gecoLowersBetaWhileTheDistortionIsAboveItsTarget() throws {
        let (_, trainer, betas) = try Self.convRun(ObjectiveSpec(weight: .geco(GECO(distortion: 100, learningRate: 1e-3))), epochs: 1)
        print("GECO κ = 100: β by step \(betas)")
        #expect(betas.count == 6 && zip(betas, betas.dropFirst()).allSatisfy { $0 > $1 } && betas[0] < 1)
        #expect(try #require(trainer.objective.state.constraintAverage) > 0)
    }

    /// Under β = 10 (lr 5e-4, 36 steps) the dimensions' KL collapse below 0.05 nats; free bits
    /// λ = 0.05 per dimension keep every dimension's batch KL at or above λ − ε (ε = 0.015:
    /// Adam's momentum carries a dimension a little past the floor, where its gradient stops).
    @Test func freeBitsKeepEveryDimensionAboveTheFloor() throws {
        func perDimension(_ freeBits: FreeBits?) throws -> [Float] {
            let (_, trainer, _) = try Self.convRun(ObjectiveSpec(weight: .constant(beta: 10), freeBits: freeBits), epochs: 6, lr: 5e-4)
            let (_, test) = try #require(VAETests.mnist)
            let graph = Graph(backend: trainer.model.backend)
            let out = try trainer.model(try graph.constant(test.batch(0..<100, binarization: .none, seed: 5, epoch: 0),
                shape: [100, 28, 28, 1]), in: graph, seed: 5, noiseStream: 1)
            let rates = try #require(out.rates[0].perDimension)
            return try graph.values(try graph.mean(try rates(), axes: [0]))
        }
        let floored = try perDimension(FreeBits(nats: 0.05)), plain = try perDimension(nil)
        print("β = 10: batch KL per dimension with free bits 0.05 \(floored), without \(plain)")
        #expect(floored.allSatisfy { $0 >= 0.05 - 0.015 }, "\(floored)")
        #expect(plain.contains { $0 < 0.05 - 0.015 }, "without free bits nothing collapsed: \(plain)")
    }
}
