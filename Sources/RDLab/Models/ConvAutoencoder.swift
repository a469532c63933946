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
    /// The marginal the rate is measured against: `normal` (N(0, I)), `maf` or `vamp`.
    public var marginal: String = Marginal.normal.rawValue
    /// The decoder: `deconv` or `pixelcnn` (autoregressive).
    public var decoder: String = Decoder.deconv.rawValue
    /// VampPrior: mixture components (pseudo-inputs).
    public var vampComponents: Int = 500
    /// PixelCNN decoder: channels of every layer.
    public var pixelcnnFeatures: Int = 64
    /// PixelCNN decoder: gated resnets per block.
    public var pixelcnnResnets: Int = 2

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
        case normal, maf, vamp
    }

    /// The decoders.
    public enum Decoder: String, CaseIterable, Sendable {
        case deconv, pixelcnn
    }

    /// Alemi's family tag: encoder, decoder, marginal, each `-` (simple) or `+` (IAF,
    /// PixelCNN, MAF), `v` for the VampPrior — e.g. `-+v`. Echo channels have no tag.
    public var family: String? {
        guard channel == Channel.gaussian.rawValue else { return nil }
        let e = encoder == Encoder.iaf.rawValue ? "+" : "-"
        let d = decoder == Decoder.pixelcnn.rawValue ? "+" : "-"
        let m = marginal == Marginal.maf.rawValue ? "+" : marginal == Marginal.vamp.rawValue ? "v" : "-"
        return e + d + m
    }

    public init(latentDimension: Int = 32, activation: Activation = .relu, symmetricInputs: Bool = false,
        channel: Channel = .gaussian, echoTerms: Int = 99, echoReplacement: EchoIndexTable.Sampling = .withoutReplacement,
        encoder: Encoder = .gaussian, flowSteps: Int = 4, madeHidden: [Int] = [640, 640, 640], marginal: Marginal = .normal,
        decoder: Decoder = .deconv, vampComponents: Int = 500, pixelcnnFeatures: Int = 64, pixelcnnResnets: Int = 2) {
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
        self.decoder = decoder.rawValue
        self.vampComponents = vampComponents
        self.pixelcnnFeatures = pixelcnnFeatures
        self.pixelcnnResnets = pixelcnnResnets
    }

    /// Reads configurations written before a setting existed with that setting's default.
    public init(from source: any Swift.Decoder) throws {
        let c = try source.container(keyedBy: CodingKeys.self)
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
        self.decoder = try c.decodeIfPresent(String.self, forKey: .decoder) ?? self.decoder
        vampComponents = try c.decodeIfPresent(Int.self, forKey: .vampComponents) ?? vampComponents
        pixelcnnFeatures = try c.decodeIfPresent(Int.self, forKey: .pixelcnnFeatures) ?? pixelcnnFeatures
        pixelcnnResnets = try c.decodeIfPresent(Int.self, forKey: .pixelcnnResnets) ?? pixelcnnResnets
    }
}

/// The convolutional autoencoder of "Fixing a Broken ELBO" (App. F.1/F.2) and the Echo paper
/// (App. E): the conv encoder, a channel (``GaussianChannel``, ``IAFChannel`` or
/// ``EchoChannel``), an optional learned marginal (``MAFMarginal``, ``VampPrior``) and a
/// Bernoulli decoder (``DeconvDecoder`` or ``PixelCNNDecoder``): Alemi's twelve families.
/// Rate and distortion are nats per example.
public final class ConvAutoencoder: ParameterContainer {
    public let configuration: VAEConfiguration
    public let backend: any Backend
    let encoder: ConvEncoder
    public let channel: any LatentChannel
    /// A learned marginal, or nil for N(0, I).
    public let marginal: (any LatentMarginal)?
    public let decoder: any LatentDecoder

    public init(_ configuration: VAEConfiguration, backend: any Backend, seed: UInt64) throws {
        guard let activation = Activation(rawValue: configuration.activation) else {
            throw ComputeError.invalidArgument(op: "ConvAutoencoder", reason: "unknown activation '\(configuration.activation)'")
        }
        self.configuration = configuration
        self.backend = backend
        let d = configuration.latentDimension
        let encoder = try ConvEncoder(activation: activation, backend: backend, seed: seed)
        self.encoder = encoder
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
        case .vamp:
            let gaussian: GaussianChannel
            switch channel {
            case let plain as GaussianChannel: gaussian = plain
            case let iaf as IAFChannel: gaussian = iaf.base
            default:
                throw ComputeError.invalidArgument(op: "ConvAutoencoder", reason: "the VampPrior marginal needs the gaussian channel")
            }
            let symmetric = configuration.symmetricInputs
            marginal = try VampPrior(components: configuration.vampComponents, backend: backend, seed: seed) { images, graph in
                let input = symmetric ? try graph.symmetric(images) : images
                return try gaussian.heads(try encoder(input, in: graph), in: graph)
            }
        case nil:
            throw ComputeError.invalidArgument(op: "ConvAutoencoder",
                reason: "unknown marginal '\(configuration.marginal)' (normal | maf | vamp)")
        }
        switch VAEConfiguration.Decoder(rawValue: configuration.decoder) {
        case .deconv:
            decoder = try DeconvDecoder(latentDimension: d, activation: activation, backend: backend, seed: seed)
        case .pixelcnn:
            decoder = try PixelCNNDecoder(latentDimension: d, features: configuration.pixelcnnFeatures,
                resnets: configuration.pixelcnnResnets, symmetricInputs: configuration.symmetricInputs, backend: backend, seed: seed)
        case nil:
            throw ComputeError.invalidArgument(op: "ConvAutoencoder", reason: "unknown decoder '\(configuration.decoder)' (deconv | pixelcnn)")
        }
    }

    public var parameters: [Parameter] {
        encoder.parameters + channel.parameters + (marginal?.parameters ?? []) + decoder.parameters
    }

    /// `count` latents from the model's marginal: the learned one (through the IAF's flow when
    /// it is a density of the base sample), else the channel's.
    public func marginalSamples(count: Int, pool: Tensor, in graph: Graph, seed: UInt64, stream: UInt64) throws -> Tensor {
        if let marginal {
            let z = try marginal.sample(count: count, in: graph, seed: seed, stream: stream)
            guard marginal.measuresFlowBase, let iaf = channel as? IAFChannel else { return z }
            return try iaf.flow(z, in: graph)
        }
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
        let input = configuration.symmetricInputs ? try graph.symmetric(images) : images
        return try encoder(input, in: graph)
    }

    /// Noisy latents of images, noise from Philox (seed, `noiseStream`), and their rate: the
    /// channel's, or log e(z|x) − log m(z) (one Monte Carlo sample) with a learned marginal
    /// (at the IAF's base sample z₀ for a marginal of z₀).
    public func encode(_ images: Tensor, in graph: Graph, seed: UInt64, noiseStream: UInt64) throws -> ChannelOutput {
        let coded = try channel(try features(images, in: graph), in: graph, seed: seed, stream: noiseStream)
        guard let marginal, let logPosterior = coded.logPosterior else { return coded }
        let point = marginal.measuresFlowBase ? coded.base ?? coded.latent : coded.latent
        return ChannelOutput(latent: coded.latent, rate: try graph.sub(logPosterior, try marginal.logDensity(point, in: graph)),
            logPosterior: logPosterior, base: coded.base)
    }

    /// Bernoulli logits `[B, 28, 28, 1]` of `images` given `z` `[B, D]`.
    public func decode(_ z: Tensor, images: Tensor, in graph: Graph) throws -> Tensor {
        try decoder.logits(z, images: images, in: graph)
    }

    /// Encodes through the channel, decodes, and scores.
    public func callAsFunction(_ images: Tensor, in graph: Graph, seed: UInt64, noiseStream: UInt64) throws -> Output {
        let batch = images.shape[0]
        let coded = try encode(images, in: graph, seed: seed, noiseStream: noiseStream)
        let logits = try decode(coded.latent, images: images, in: graph)
        let distortion = try graph.bernoulliNLL(logits: try graph.reshape(logits, [batch, 784]),
            targets: try graph.reshape(images, [batch, 784]))
        return Output(distortion: distortion, rate: coded.rate, logits: logits, latent: coded.latent)
    }
}

extension Graph {
    /// Images in [0, 1] mapped to 2x − 1 ∈ [−1, 1] (Alemi's input transform).
    func symmetric(_ images: Tensor) throws -> Tensor { try sub(try scale(images, by: 2), try scalar(1)) }
}
