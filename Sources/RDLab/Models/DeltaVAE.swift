import Foundation
import RDCompute

/// The δ-VAE's sequence model on 28×28×1 Bernoulli images (seed-spec §9, "Preventing
/// posterior collapse with δ-VAEs" at MNIST scale): one d-dimensional latent per image row,
/// z = (z_1…z_28), an AR(1) prior with per-dimension α_k and independent posteriors
/// q(z_t|x) = N(μ_t, σ_t²) from an anti-causal encoder (``RowEncoder``: row t's latent reads
/// rows ≥ t), and a PixelCNN decoder whose pixel row t reads z_{≤t}. Per example, in nats:
///
///     R = KL(q(z|x) ‖ p_AR(1)(z))  (eq. 3, ``Graph/ar1KL(mean:scale:alpha:)``) ≥ δ,
///     D = −log d(x|z) at z ~ q(z|x),
///
/// where the committed rate δ = ½ Σ_k [(n − 2) ln(1 + α_k²) − ln(1 − α_k²)] is the smallest KL
/// any diagonal posterior can have: however strong the decoder, the rate cannot collapse below
/// it. With ``DeltaSpec/auxiliaryHidden`` > 0 the output also carries the auxiliary LSTM
/// prior's terms (``AuxiliaryPrior``): its loss on stop-gradient samples and the rate
/// measured against it.
public final class DeltaVAE: RateDistortionModel {
    public let spec: ModelSpec
    public let backend: any Backend
    public let settings: DeltaSpec
    public let prior: AR1Prior
    let encoder: RowEncoder
    public let decoder: PixelCNNDecoder
    let auxiliary: AuxiliaryPrior?

    public init(_ settings: DeltaSpec, backend: any Backend, seed: UInt64) throws {
        if let problem = settings.problem() {
            throw ComputeError.invalidArgument(op: "DeltaVAE", reason: "\(problem.setting.flag) \(problem.reason)")
        }
        spec = .delta(settings)
        self.backend = backend
        self.settings = settings
        prior = settings.prior
        let d = settings.rowDimension
        encoder = try RowEncoder(rowDimension: d, backend: backend, seed: seed)
        decoder = try PixelCNNDecoder(latentDimension: settings.latentDimension, conditioning: .rows(dimension: d),
            features: settings.pixelcnnFeatures, resnets: settings.pixelcnnResnets, symmetricInputs: false, backend: backend,
            seed: seed)
        auxiliary = settings.auxiliaryHidden > 0
            ? try AuxiliaryPrior(steps: DeltaSpec.rows, dimension: d, hidden: settings.auxiliaryHidden, backend: backend, seed: seed)
            : nil
    }

    public var parameters: [Parameter] { encoder.parameters + decoder.parameters + (auxiliary?.parameters ?? []) }

    public var latentLayers: [String] { spec.latentLayers }

    /// The committed rate δ: no batch rate can fall below it.
    public var rateFloor: Double? { settings.committedRate }

    public var testNoiseDescription: String {
        "the test batch's own reparameterised latent sequence, fixed Philox streams per test batch"
    }

    /// q(z_t|x) of every row of images `[B, 28, 28, 1]`: mean and scale `[B, 28, d]`.
    public func posterior(_ images: Tensor, in graph: Graph) throws -> DiagonalGaussian {
        guard images.shape.count == 4, Array(images.shape.dropFirst()) == [28, 28, 1] else {
            throw ComputeError.invalidArgument(op: "DeltaVAE",
                reason: "images \(images.shape) are not [B, 28, 28, 1]: the δ-VAE reads 28×28 grey images, one latent per row")
        }
        return try encoder(images, in: graph)
    }

    /// z = μ + σ ⊙ ε `[B, 28·d]` and ε, noise from Philox (seed, stream).
    public func sample(_ q: DiagonalGaussian, in graph: Graph, seed: UInt64, stream: UInt64) throws -> (z: Tensor, epsilon: Tensor) {
        let shape = [q.mean.shape[0], settings.latentDimension]
        let (epsilon, z) = try GaussianChannel.draw(mean: try graph.reshape(q.mean, shape), scale: try graph.reshape(q.scale, shape),
            in: graph, seed: seed, stream: stream)
        return (z, epsilon)
    }

    public func callAsFunction(_ images: Tensor, in graph: Graph, seed: UInt64, noiseStream: UInt64) throws -> ModelOutput {
        let batch = images.shape.first ?? 0
        let q = try posterior(images, in: graph)
        let (z, epsilon) = try sample(q, in: graph, seed: seed, stream: noiseStream)
        let logits = try decoder.logits(z, images: images, in: graph)
        let distortion = try graph.bernoulliNLL(logits: try graph.reshape(logits, [batch, 784]),
            targets: try graph.reshape(images, [batch, 784]))
        let rate = try prior.kl(mean: q.mean, scale: q.scale, in: graph)
        let flatScale = try graph.reshape(q.scale, [batch, settings.latentDimension])
        let logPosterior = try GaussianChannel.logDensity(scale: flatScale, epsilon: epsilon, in: graph)
        let weights = ImportanceWeights.available {
            // log w = −D + log p(z) − log q(z|x)
            let logRatio = try graph.sub(try self.prior.logDensity(z, steps: DeltaSpec.rows, in: graph), logPosterior)
            return try graph.sub(logRatio, distortion)
        }
        var terms: AuxiliaryPriorTerms?
        if let auxiliary {
            // the LSTM learns from samples cut from the tape: its loss reaches neither encoder nor decoder
            let logAuxiliary = try auxiliary.logDensity(Tensor(shape: z.shape, buffer: z.buffer), in: graph)
            terms = AuxiliaryPriorTerms(loss: try graph.scale(logAuxiliary, by: -1),
                rate: try graph.sub(logPosterior, logAuxiliary))
        }
        return ModelOutput(distortion: distortion, rates: [LayerRate(name: "z", rate: rate)], latent: z,
            importanceWeights: weights, auxiliaryPrior: terms)
    }

    /// `count` latent sequences `[count, 28·d]` from the AR(1) prior, for samples.
    public func priorSamples(count: Int, in graph: Graph, seed: UInt64, stream: UInt64) throws -> Tensor {
        try graph.reshape(try prior.samples(count: count, steps: DeltaSpec.rows, in: graph, seed: seed, stream: stream),
            [count, settings.latentDimension])
    }
}
