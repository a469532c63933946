import RDCompute

/// Settings of the β-VAE that shape its parameters (saved with every checkpoint).
public struct VAEConfiguration: Codable, Equatable, Sendable {
    /// Latent dimensions (32 default; Alemi uses 64).
    public var latentDimension: Int = 32
    /// Nonlinearity of every hidden layer: `relu` (Echo App. E) or `gated` (Alemi F.1).
    public var activation: String = Activation.relu.rawValue
    /// Map inputs x ∈ [0, 1] to 2x − 1 before the encoder (Alemi); targets stay in [0, 1].
    public var symmetricInputs: Bool = false

    public init(latentDimension: Int = 32, activation: Activation = .relu, symmetricInputs: Bool = false) {
        self.latentDimension = latentDimension
        self.activation = activation.rawValue
        self.symmetricInputs = symmetricInputs
    }
}

/// The convolutional β-VAE of "Fixing a Broken ELBO" (App. F.1/F.2) and the Echo paper
/// (App. E): a diagonal Gaussian encoder e(z|x) = N(μ, σ²), σ = softplus(a) + 1e-6 (a
/// standard deviation), a reparameterised sample z = μ + σ·ε, a deconvolutional Bernoulli
/// decoder, and the standard-normal marginal, whose rate is the analytic KL.
public final class BetaVAE: ParameterContainer {
    public let configuration: VAEConfiguration
    public let backend: any Backend
    let encoder: ConvEncoder
    let mean: Dense
    let scale: Dense
    let decoder: DeconvDecoder

    public init(_ configuration: VAEConfiguration, backend: any Backend, seed: UInt64) throws {
        guard let activation = Activation(rawValue: configuration.activation) else {
            throw ComputeError.invalidArgument(op: "BetaVAE", reason: "unknown activation '\(configuration.activation)'")
        }
        self.configuration = configuration
        self.backend = backend
        let d = configuration.latentDimension
        encoder = try ConvEncoder(activation: activation, backend: backend, seed: seed)
        mean = try Dense("encoder.mean", inputs: 256, outputs: d, backend: backend, seed: seed)
        scale = try Dense("encoder.scale", inputs: 256, outputs: d, activation: .softplus, backend: backend, seed: seed)
        decoder = try DeconvDecoder(latentDimension: d, activation: activation, backend: backend, seed: seed)
    }

    public var parameters: [Parameter] {
        encoder.parameters + mean.parameters + scale.parameters + decoder.parameters
    }

    /// The quantities of one batch, per example, in nats.
    public struct Output {
        /// Bernoulli NLL summed over pixels `[B]`.
        public let distortion: Tensor
        /// KL(e(z|x) ‖ N(0, I)) summed over latents `[B]`.
        public let rate: Tensor
        public let logits: Tensor
        public let mean: Tensor
        public let scale: Tensor
        public let latent: Tensor
    }

    /// Encoder statistics (μ, σ) of images `[B, 28, 28, 1]` with values in [0, 1].
    public func encode(_ images: Tensor, in graph: Graph) throws -> (mean: Tensor, scale: Tensor) {
        let input = configuration.symmetricInputs
            ? try graph.sub(try graph.scale(images, by: 2), try graph.scalar(1)) : images
        let features = try encoder(input, in: graph)
        let sigma = try graph.add(try scale(features, in: graph), try graph.scalar(1e-6))
        return (try mean(features, in: graph), sigma)
    }

    /// Bernoulli logits of `z` `[B, D]`.
    public func decode(_ z: Tensor, in graph: Graph) throws -> Tensor { try decoder(z, in: graph) }

    /// Encodes, samples z with noise from Philox (seed, `noiseStream`), decodes, and scores.
    public func callAsFunction(_ images: Tensor, in graph: Graph, seed: UInt64, noiseStream: UInt64) throws -> Output {
        let batch = images.shape[0]
        let (mu, sigma) = try encode(images, in: graph)
        let noise = try backend.makeBuffer(count: batch * configuration.latentDimension)
        try backend.randomNormal(noise, seed: seed, stream: noiseStream, offset: 0)
        let epsilon = Tensor(shape: mu.shape, buffer: noise)
        let z = try graph.add(mu, try graph.mul(sigma, epsilon))
        let logits = try decode(z, in: graph)
        let distortion = try graph.bernoulliNLL(logits: try graph.reshape(logits, [batch, 784]),
            targets: try graph.reshape(images, [batch, 784]))
        let rate = try graph.gaussianKL(mean: mu, scale: sigma)
        return Output(distortion: distortion, rate: rate, logits: logits, mean: mu, scale: sigma, latent: z)
    }
}
