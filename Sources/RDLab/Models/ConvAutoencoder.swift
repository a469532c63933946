import RDCompute

/// Settings of the autoencoder that shape its parameters (saved with every checkpoint).
public struct VAEConfiguration: Codable, Equatable, Sendable {
    /// Latent dimensions (32 default; Alemi uses 64).
    public var latentDimension: Int = 32
    /// Nonlinearity of every hidden layer: `relu` (Echo App. E) or `gated` (Alemi F.1).
    public var activation: String = Activation.relu.rawValue
    /// Map inputs x ∈ [0, 1] to 2x − 1 before the encoder (Alemi); targets stay in [0, 1].
    public var symmetricInputs: Bool = false
    /// The channel: `gaussian` (β-VAE) or `echo`.
    public var channel: String = Channel.gaussian.rawValue
    /// Echo: terms of the noise sum (the clip factor is solved for it).
    public var echoTerms: Int = 99
    /// Echo: how index tables are drawn, `without` (the paper) or `with` replacement.
    public var echoReplacement: String = EchoIndexTable.Sampling.withoutReplacement.rawValue
    /// Gaussian channel: `gaussian` (diagonal) or `iaf` (mean-only IAF on top of it).
    public var encoder: String = Encoder.gaussian.rawValue
    /// IAF: MADE steps.
    public var flowSteps: Int = 4
    /// IAF and MAF: hidden layer sizes of each MADE.
    public var madeHidden: [Int] = [640, 640, 640]
    /// The marginal the rate is measured against: `normal` (N(0, I)) or `maf`.
    public var marginal: String = Marginal.normal.rawValue

    /// The channels a model can use.
    public enum Channel: String, CaseIterable, Sendable {
        case gaussian, echo
    }

    /// The encoders of the Gaussian channel.
    public enum Encoder: String, CaseIterable, Sendable {
        case gaussian, iaf
    }

    /// The marginals.
    public enum Marginal: String, CaseIterable, Sendable {
        case normal, maf
    }

    public init(latentDimension: Int = 32, activation: Activation = .relu, symmetricInputs: Bool = false,
        channel: Channel = .gaussian, echoTerms: Int = 99, echoReplacement: EchoIndexTable.Sampling = .withoutReplacement,
        encoder: Encoder = .gaussian, flowSteps: Int = 4, madeHidden: [Int] = [640, 640, 640], marginal: Marginal = .normal) {
        self.latentDimension = latentDimension
        self.activation = activation.rawValue
        self.symmetricInputs = symmetricInputs
        self.channel = channel.rawValue
        self.echoTerms = echoTerms
        self.echoReplacement = echoReplacement.rawValue
        self.encoder = encoder.rawValue
        self.flowSteps = flowSteps
        self.madeHidden = madeHidden
        self.marginal = marginal.rawValue
    }

    /// Reads configurations written before a setting existed with that setting's default.
    public init(from decoder: Decoder) throws {
        let c = try decoder.container(keyedBy: CodingKeys.self)
        self.init()
        latentDimension = try c.decodeIfPresent(Int.self, forKey: .latentDimension) ?? latentDimension
        activation = try c.decodeIfPresent(String.self, forKey: .activation) ?? activation
        symmetricInputs = try c.decodeIfPresent(Bool.self, forKey: .symmetricInputs) ?? symmetricInputs
        channel = try c.decodeIfPresent(String.self, forKey: .channel) ?? channel
        echoTerms = try c.decodeIfPresent(Int.self, forKey: .echoTerms) ?? echoTerms
        echoReplacement = try c.decodeIfPresent(String.self, forKey: .echoReplacement) ?? echoReplacement
        encoder = try c.decodeIfPresent(String.self, forKey: .encoder) ?? encoder
        flowSteps = try c.decodeIfPresent(Int.self, forKey: .flowSteps) ?? flowSteps
        madeHidden = try c.decodeIfPresent([Int].self, forKey: .madeHidden) ?? madeHidden
        marginal = try c.decodeIfPresent(String.self, forKey: .marginal) ?? marginal
    }
}

/// The convolutional autoencoder of "Fixing a Broken ELBO" (App. F.1/F.2) and the Echo paper
/// (App. E): the conv encoder, a channel (``GaussianChannel``, the β-VAE, or ``EchoChannel``),
/// and the deconvolutional Bernoulli decoder. Rate and distortion are nats per example.
public final class ConvAutoencoder: ParameterContainer {
    public let configuration: VAEConfiguration
    public let backend: any Backend
    let encoder: ConvEncoder
    public let channel: any LatentChannel
    /// A learned marginal, or nil for N(0, I).
    public let marginal: (any LatentMarginal)?
    let decoder: DeconvDecoder

    public init(_ configuration: VAEConfiguration, backend: any Backend, seed: UInt64) throws {
        guard let activation = Activation(rawValue: configuration.activation) else {
            throw ComputeError.invalidArgument(op: "ConvAutoencoder", reason: "unknown activation '\(configuration.activation)'")
        }
        self.configuration = configuration
        self.backend = backend
        let d = configuration.latentDimension
        encoder = try ConvEncoder(activation: activation, backend: backend, seed: seed)
        guard let encoderKind = VAEConfiguration.Encoder(rawValue: configuration.encoder) else {
            throw ComputeError.invalidArgument(op: "ConvAutoencoder", reason: "unknown encoder '\(configuration.encoder)' (gaussian | iaf)")
        }
        switch VAEConfiguration.Channel(rawValue: configuration.channel) {
        case .gaussian where encoderKind == .iaf:
            channel = try IAFChannel(latentDimension: d, steps: configuration.flowSteps, hidden: configuration.madeHidden,
                backend: backend, seed: seed)
        case .gaussian:
            channel = try GaussianChannel(latentDimension: d, backend: backend, seed: seed)
        case .echo:
            guard encoderKind == .gaussian else {
                throw ComputeError.invalidArgument(op: "ConvAutoencoder", reason: "the IAF encoder needs the gaussian channel")
            }
            guard let sampling = EchoIndexTable.Sampling(rawValue: configuration.echoReplacement) else {
                throw ComputeError.invalidArgument(op: "ConvAutoencoder",
                    reason: "unknown echo replacement '\(configuration.echoReplacement)' (with | without)")
            }
            channel = try EchoChannel(latentDimension: d, terms: configuration.echoTerms, sampling: sampling, backend: backend,
                seed: seed)
        case nil:
            throw ComputeError.invalidArgument(op: "ConvAutoencoder", reason: "unknown channel '\(configuration.channel)' (gaussian | echo)")
        }
        switch VAEConfiguration.Marginal(rawValue: configuration.marginal) {
        case .normal:
            marginal = nil
        case .maf:
            guard configuration.channel == VAEConfiguration.Channel.gaussian.rawValue else {
                throw ComputeError.invalidArgument(op: "ConvAutoencoder", reason: "the MAF marginal needs the gaussian channel")
            }
            marginal = try MAFMarginal(dimensions: d, steps: configuration.flowSteps, hidden: configuration.madeHidden,
                backend: backend, seed: seed)
        case nil:
            throw ComputeError.invalidArgument(op: "ConvAutoencoder", reason: "unknown marginal '\(configuration.marginal)' (normal | maf)")
        }
        decoder = try DeconvDecoder(latentDimension: d, activation: activation, backend: backend, seed: seed)
    }

    public var parameters: [Parameter] {
        encoder.parameters + channel.parameters + (marginal?.parameters ?? []) + decoder.parameters
    }

    /// `count` latents from the model's marginal: the learned one, else the channel's.
    public func marginalSamples(count: Int, pool: Tensor, in graph: Graph, seed: UInt64, stream: UInt64) throws -> Tensor {
        if let marginal { return try marginal.sample(count: count, in: graph, seed: seed, stream: stream) }
        return try channel.marginalSamples(count: count, pool: pool, in: graph, seed: seed, stream: stream)
    }

    /// The quantities of one batch, per example, in nats.
    public struct Output {
        /// Bernoulli NLL summed over pixels `[B]`.
        public let distortion: Tensor
        /// The channel's rate `[B]`.
        public let rate: Tensor
        public let logits: Tensor
        public let latent: Tensor
    }

    /// The encoder's 256 features of images `[B, 28, 28, 1]` with values in [0, 1].
    public func features(_ images: Tensor, in graph: Graph) throws -> Tensor {
        let input = configuration.symmetricInputs
            ? try graph.sub(try graph.scale(images, by: 2), try graph.scalar(1)) : images
        return try encoder(input, in: graph)
    }

    /// Noisy latents of images, noise from Philox (seed, `noiseStream`), and their rate: the
    /// channel's, or log e(z|x) − log m(z) (one Monte Carlo sample) with a learned marginal.
    public func encode(_ images: Tensor, in graph: Graph, seed: UInt64, noiseStream: UInt64) throws -> ChannelOutput {
        let coded = try channel(try features(images, in: graph), in: graph, seed: seed, stream: noiseStream)
        guard let marginal, let logPosterior = coded.logPosterior else { return coded }
        return ChannelOutput(latent: coded.latent,
            rate: try graph.sub(logPosterior, try marginal.logDensity(coded.latent, in: graph)), logPosterior: logPosterior)
    }

    /// Bernoulli logits of `z` `[B, D]`.
    public func decode(_ z: Tensor, in graph: Graph) throws -> Tensor { try decoder(z, in: graph) }

    /// Encodes through the channel, decodes, and scores.
    public func callAsFunction(_ images: Tensor, in graph: Graph, seed: UInt64, noiseStream: UInt64) throws -> Output {
        let batch = images.shape[0]
        let coded = try encode(images, in: graph, seed: seed, noiseStream: noiseStream)
        let logits = try decode(coded.latent, in: graph)
        let distortion = try graph.bernoulliNLL(logits: try graph.reshape(logits, [batch, 784]),
            targets: try graph.reshape(images, [batch, 784]))
        return Output(distortion: distortion, rate: coded.rate, logits: logits, latent: coded.latent)
    }
}
