import Foundation
import RDCompute

/// Means over a batch (or a set of batches), in nats per example.
public struct RateDistortion: Sendable, Equatable {
    /// Σ_l R_l.
    public var rate: Double
    public var distortion: Double
    /// R_l per latent layer, in the model's order (``RateDistortionModel/latentLayers``).
    public var layerRates: [Double]
    /// The rate under the model's auxiliary prior, where it has one (``AuxiliaryPriorTerms``).
    public var auxiliaryRate: Double?
    public var negativeELBO: Double { rate + distortion }

    public init(rate: Double, distortion: Double, layerRates: [Double]? = nil, auxiliaryRate: Double? = nil) {
        self.rate = rate
        self.distortion = distortion
        self.layerRates = layerRates ?? [rate]
        self.auxiliaryRate = auxiliaryRate
    }
}

/// Training stopped on a non-finite loss.
public struct NonFiniteLoss: Error, CustomStringConvertible {
    public let step: Int
    /// The term that went bad: `distortion`, `rate`, `auxiliary prior`, or `objective`.
    public let term: String

    public init(step: Int, term: String) {
        self.step = step
        self.term = term
    }

    public var description: String { "the \(term) became NaN or infinite at step \(step)" }
}

/// One optimisation step of an ``Objective`` on any ``RateDistortionModel``, and evaluation
/// of its rates and distortion; everything stays on the backend except the means read for
/// logging, the objective's update and the finiteness check.
public final class ModelTrainer {
    public let model: any RateDistortionModel
    public let optimizer: Adam
    public private(set) var objective: Objective
    public let learningRate: LearningRateSchedule
    public let seed: UInt64
    /// Steps completed; the next step's index.
    public var step: Int
    /// What a step keeps for its backward pass.
    public let activations: ActivationMemory

    public init(model: any RateDistortionModel, optimizer: Adam, objective: Objective, learningRate: LearningRateSchedule,
        seed: UInt64, step: Int = 0, activations: ActivationMemory = .kept) {
        self.model = model
        self.activations = activations
        self.optimizer = optimizer
        self.objective = objective
        self.learningRate = learningRate
        self.seed = seed
        self.step = step
    }

    /// Philox stream of the reparameterisation noise of a training step.
    static func trainingNoise(step: Int) -> UInt64 { 0x7A_0000_0000_0000 | UInt64(step) }
    /// Philox stream of evaluation batch `index` (fixed across epochs, so evaluations compare),
    /// draw `draw` of an importance-weighted bound (draw 0 is the ELBO's).
    static func evaluationNoise(batch index: Int, draw: Int = 0) -> UInt64 {
        0xE7_0000_0000_0000 | UInt64(draw) << 32 | UInt64(index)
    }

    /// The weights β_l of each layer's rate at the last step taken (the schedule's), or the
    /// multiplier λ as it stands now (target rate, GECO).
    public var lastBetas: [Float] { model.latentLayers.map { objective.beta(of: $0, at: max(step - 1, 0)) } }

    /// A step on a batch of host values `[B, …]`; returns the batch means. An auxiliary
    /// prior's loss is added to the objective's unweighted (it reaches only its own parameters).
    public func train(_ batch: HostBatch) throws -> RateDistortion {
        let graph = Graph(backend: model.backend, activations: activations)
        let x = try graph.constant(batch.values, shape: batch.shape)
        let out = try model(x, in: graph, seed: seed, noiseStream: Self.trainingNoise(step: step))
        var loss = try objective.loss(out, at: step, in: graph)
        if let auxiliary = out.auxiliaryPrior { loss = try graph.add(loss, try out.expectation(auxiliary.loss, in: graph)) }
        let means = try summary(out, graph: graph)
        let value = try graph.values(loss)[0]
        guard value.isFinite else {
            let term = !means.distortion.isFinite ? "distortion" : !means.rate.isFinite ? "rate"
                : !(means.auxiliaryRate?.isFinite ?? true) ? "auxiliary prior" : "objective"
            throw NonFiniteLoss(step: step, term: term)
        }
        try graph.backward(from: loss)
        optimizer.hyperparameters.learningRate = learningRate.value(at: step)
        try optimizer.update(model.parameters, gradientsFrom: graph)
        objective.update(rates: Dictionary(uniqueKeysWithValues: zip(model.latentLayers, means.layerRates)),
            distortion: means.distortion)
        step += 1
        return means
    }

    /// Rates and distortion of one batch without an update; `index` picks the noise stream.
    public func evaluate(_ batch: HostBatch, index: Int) throws -> RateDistortion {
        let graph = Graph(backend: model.backend)
        let x = try graph.constant(batch.values, shape: batch.shape)
        let out = try model(x, in: graph, seed: seed, noiseStream: Self.evaluationNoise(batch: index))
        return try summary(out, graph: graph)
    }

    /// The batch means (weighted by the output's example probabilities where it has them).
    func summary(_ out: ModelOutput, graph: Graph) throws -> RateDistortion {
        let weights = try out.weights.map { try graph.values($0).map(Double.init) }
        func mean(_ tensor: Tensor) throws -> Double {
            let values = try graph.values(tensor)
            guard let weights else { return values.reduce(0.0) { $0 + Double($1) } / Double(values.count) }
            return zip(values, weights).reduce(0.0) { $0 + Double($1.0) * $1.1 }
        }
        let distortion = try mean(out.distortion)
        let layers = try out.rates.map { try mean($0.rate) }
        return RateDistortion(rate: layers.reduce(0, +), distortion: distortion, layerRates: layers,
            auxiliaryRate: try out.auxiliaryPrior.map { try mean($0.rate) })
    }
}
