import Foundation
import RDCompute

/// Means over a batch (or a set of batches), in nats per example.
public struct RateDistortion: Sendable, Equatable {
    public var rate: Double
    public var distortion: Double
    public var negativeELBO: Double { rate + distortion }

    public init(rate: Double, distortion: Double) {
        self.rate = rate
        self.distortion = distortion
    }
}

/// Training stopped on a non-finite loss.
public struct NonFiniteLoss: Error, CustomStringConvertible {
    public let step: Int
    /// The term that went bad: `distortion`, `rate`, or `objective`.
    public let term: String

    public init(step: Int, term: String) {
        self.step = step
        self.term = term
    }

    public var description: String { "the \(term) became NaN or infinite at step \(step)" }
}

/// One optimisation step of `mean(D + β·R)` and evaluation of R and D; everything stays on the
/// backend except the two means read for logging and the finiteness check.
public final class VAETrainer {
    public let model: ConvAutoencoder
    public let optimizer: Adam
    public let beta: BetaSchedule
    public let learningRate: LearningRateSchedule
    public let seed: UInt64
    /// Steps completed; the next step's index.
    public var step: Int

    public init(model: ConvAutoencoder, optimizer: Adam, beta: BetaSchedule, learningRate: LearningRateSchedule, seed: UInt64,
        step: Int = 0) {
        self.model = model
        self.optimizer = optimizer
        self.beta = beta
        self.learningRate = learningRate
        self.seed = seed
        self.step = step
    }

    /// Philox stream of the reparameterisation noise of a training step.
    static func trainingNoise(step: Int) -> UInt64 { 0x7A_0000_0000_0000 | UInt64(step) }
    /// Philox stream of evaluation batch `index` (fixed across epochs, so evaluations compare).
    static func evaluationNoise(batch index: Int) -> UInt64 { 0xE7_0000_0000_0000 | UInt64(index) }

    /// A step on `images` (`[B, 28, 28, 1]` host values in [0, 1]); returns the batch means.
    public func train(_ images: [Float], batch: Int) throws -> RateDistortion {
        let backend = model.backend
        let graph = Graph(backend: backend)
        let x = try graph.constant(images, shape: [batch, 28, 28, 1])
        let out = try model(x, in: graph, seed: seed, noiseStream: Self.trainingNoise(step: step))
        let betaNow = beta.value(at: step)
        let objective = try graph.mean(try graph.add(out.distortion, try graph.scale(out.rate, by: betaNow)))
        let means = try summary(out, graph: graph)
        let loss = try graph.values(objective)[0]
        guard loss.isFinite else {
            throw NonFiniteLoss(step: step, term: !means.distortion.isFinite ? "distortion" : !means.rate.isFinite ? "rate" : "objective")
        }
        try graph.backward(from: objective)
        optimizer.hyperparameters.learningRate = learningRate.value(at: step)
        try optimizer.update(model.parameters, gradientsFrom: graph)
        step += 1
        return means
    }

    /// R and D of one batch without gradients; `index` picks the noise stream.
    public func evaluate(_ images: [Float], batch: Int, index: Int) throws -> RateDistortion {
        let graph = Graph(backend: model.backend)
        let x = try graph.constant(images, shape: [batch, 28, 28, 1])
        let out = try model(x, in: graph, seed: seed, noiseStream: Self.evaluationNoise(batch: index))
        return try summary(out, graph: graph)
    }

    func summary(_ out: ConvAutoencoder.Output, graph: Graph) throws -> RateDistortion {
        let d = try graph.values(out.distortion), r = try graph.values(out.rate)
        return RateDistortion(rate: r.reduce(0.0) { $0 + Double($1) } / Double(r.count),
            distortion: d.reduce(0.0) { $0 + Double($1) } / Double(d.count))
    }
}
