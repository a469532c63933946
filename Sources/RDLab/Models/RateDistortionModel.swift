import RDCompute

/// The rate one latent layer pays, per example.
public struct LayerRate {
    /// The layer's name in metrics (`z` for a single-layer model; `z1`, `z2` for HIT).
    public let name: String
    /// Nats per example `[B]`.
    public let rate: Tensor
    /// Nats per example and latent dimension `[B, D]` where the rate is a sum over
    /// dimensions (an analytic KL, the Echo rate), for free bits; nil for Monte Carlo rates.
    public let perDimension: (() throws -> Tensor)?

    public init(name: String, rate: Tensor, perDimension: (() throws -> Tensor)? = nil) {
        self.name = name
        self.rate = rate
        self.perDimension = perDimension
    }
}

/// Whether a model has a density e(z|x), and so an importance-weighted bound (seed-spec §1.4).
public enum ImportanceWeights {
    /// log w = log d(x|z) + log m(z) − log e(z|x) per example `[B]` at the output's own latent
    /// draw, computed on demand (training steps never pay for it).
    case available(() throws -> Tensor)
    /// Why there is no bound (the Echo channel has no density e(z|x)).
    case unavailable(String)
}

extension ImportanceWeights {
    /// log w `[B]`, or ``EvaluationError/noDensity(_:)`` saying why the model has none.
    public func logWeights() throws -> Tensor {
        switch self {
        case .available(let compute): try compute()
        case .unavailable(let reason): throw EvaluationError.noDensity(reason)
        }
    }
}

/// The terms of a learned prior trained beside the model without changing it (the δ-VAE's
/// auxiliary LSTM): its loss, which the trainer adds to the objective unweighted, and the rate
/// measured against it, which is reported but not optimised.
public struct AuxiliaryPriorTerms {
    /// −log p_aux(z) per example `[B]` at latents cut from the tape.
    public let loss: Tensor
    /// log e(z|x) − log p_aux(z) per example `[B]`: the rate under the auxiliary prior.
    public let rate: Tensor

    public init(loss: Tensor, rate: Tensor) {
        self.loss = loss
        self.rate = rate
    }
}

/// What a model computes for a batch: the terms of every objective, per example, in nats.
public struct ModelOutput {
    /// −log d(x|z) per example `[B]`.
    public let distortion: Tensor
    /// One entry per latent layer, in the model's order (``RateDistortionModel/latentLayers``).
    public let rates: [LayerRate]
    /// Probabilities of the examples `[B]` (summing to 1) when the batch is a whole
    /// distribution (the toy model's 30 bins); nil for samples, which weigh 1/B each.
    public let weights: Tensor?
    /// The latent the decoder read `[B, D]` (the first layer's, for several).
    public let latent: Tensor
    /// log w for the IWAE bound, or why there is none.
    public let importanceWeights: ImportanceWeights
    /// An auxiliary prior's loss and rate, where the model trains one.
    public let auxiliaryPrior: AuxiliaryPriorTerms?

    public init(distortion: Tensor, rates: [LayerRate], weights: Tensor? = nil, latent: Tensor,
        importanceWeights: ImportanceWeights, auxiliaryPrior: AuxiliaryPriorTerms? = nil) {
        self.distortion = distortion
        self.rates = rates
        self.weights = weights
        self.latent = latent
        self.importanceWeights = importanceWeights
        self.auxiliaryPrior = auxiliaryPrior
    }
}

/// A batch of examples as the host holds it: values and their shape `[B, …]`.
public struct HostBatch: Sendable {
    public var values: [Float]
    public var shape: [Int]

    public init(values: [Float], shape: [Int]) {
        self.values = values
        self.shape = shape
    }

    public var count: Int { shape.first ?? 0 }
}

/// Every model rdlab trains: a stochastic encoder e(z|x), a decoder d(x|z) and a marginal
/// m(z), seen through the terms they give a batch (seed-spec §1.1):
///
///     D = E −log d(x|z),   R_l = E [log e(z_l|·) − log m(z_l|·)]   (nats per example).
///
/// The trainer, evaluator, checkpoints and metrics know this protocol and never a concrete
/// model. Noise comes from Philox (seed, `noiseStream`), so a batch's terms are reproducible.
public protocol RateDistortionModel: AnyObject, ParameterContainer {
    /// The specification the model was built from (saved with every checkpoint).
    var spec: ModelSpec { get }
    var backend: any Backend { get }
    /// Names of the latent layers, in the order of ``ModelOutput/rates``.
    var latentLayers: [String] { get }
    /// The terms of a batch `[B, …]` on `graph`.
    func callAsFunction(_ batch: Tensor, in graph: Graph, seed: UInt64, noiseStream: UInt64) throws -> ModelOutput
    /// What a run's config says about the noise of test batches.
    var testNoiseDescription: String { get }
    /// The smallest rate the model can report, in nats, where it has one (Echo, δ-VAE).
    var rateFloor: Double? { get }
}

extension RateDistortionModel {
    public var rateFloor: Double? { nil }
}

extension ModelOutput {
    /// Σ_l R_l per example `[B]` (the one layer's tensor itself for a single layer).
    public func totalRate(in graph: Graph) throws -> Tensor {
        var total = rates[0].rate
        for layer in rates.dropFirst() { total = try graph.add(total, layer.rate) }
        return total
    }

    /// The expectation of per-example values `[B]` over the batch: the mean, or the sum
    /// weighted by ``weights``.
    public func expectation(_ values: Tensor, in graph: Graph) throws -> Tensor {
        guard let weights else { return try graph.mean(values) }
        return try graph.sum(try graph.mul(values, weights), axes: [0])
    }
}
