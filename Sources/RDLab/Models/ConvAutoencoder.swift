import RDCompute

/// The convolutional autoencoder of "Fixing a Broken ELBO" (App. F.1/F.2) and the Echo paper
/// (App. E): the conv encoder, a channel (``GaussianChannel``, ``IAFChannel``, ``DeltaChannel``
/// or ``EchoChannel``), an optional learned marginal (``MAFMarginal``, ``VampPrior``) and a
/// Bernoulli decoder (``DeconvDecoder`` or ``PixelCNNDecoder``): Alemi's twelve families.
/// Rate and distortion are nats per example.
public final class ConvAutoencoder: RateDistortionModel {
    public let spec: ModelSpec
    public let backend: any Backend
    /// Map inputs x ∈ [0, 1] to 2x − 1 before the encoder (Alemi).
    public let symmetricInputs: Bool
    let encoder: ConvEncoder
    public let channel: any LatentChannel
    /// A learned marginal, or nil for N(0, I).
    public let marginal: (any LatentMarginal)?
    public let decoder: any LatentDecoder

    /// One of Alemi's families: the Gaussian (IAF, δ-VAE) channel, a marginal, a decoder.
    /// Throws where the δ-VAE channel's settings are out of range (an IAF encoder or a learned
    /// marginal among them: its guarantee holds for the diagonal Gaussian against N(0, I)).
    public convenience init(_ spec: AlemiSpec, backend: any Backend, seed: UInt64) throws {
        let d = spec.latentDimension
        let encoder = try ConvEncoder(activation: spec.activation, backend: backend, seed: seed)
        if spec.channel == .delta, let problem = spec.problem() {
            throw ComputeError.invalidArgument(op: "ConvAutoencoder", reason: "\(problem.setting.flag) \(problem.reason)")
        }
        let channel: any LatentChannel = switch (spec.channel, spec.encoder) {
        case (.delta, _): try DeltaChannel(latentDimension: d, delta: spec.delta, backend: backend, seed: seed)
        case (.gaussian, .iaf): try IAFChannel(latentDimension: d, steps: spec.flowSteps, hidden: spec.madeHidden, backend: backend, seed: seed)
        case (.gaussian, .gaussian): try GaussianChannel(latentDimension: d, backend: backend, seed: seed)
        }
        let marginal: (any LatentMarginal)?
        switch spec.marginal {
        case .normal:
            marginal = nil
        case .maf:
            marginal = try MAFMarginal(dimensions: d, steps: spec.flowSteps, hidden: spec.madeHidden, backend: backend, seed: seed)
        case .vamp:
            let gaussian = (channel as? IAFChannel)?.base ?? channel as! GaussianChannel
            let symmetric = spec.symmetricInputs
            marginal = try VampPrior(components: spec.vampComponents, backend: backend, seed: seed) { images, graph in
                let input = symmetric ? try graph.symmetric(images) : images
                return try gaussian.heads(try encoder(input, in: graph), in: graph)
            }
        }
        let decoder = try Self.decoder(spec.decoder, latentDimension: d, activation: spec.activation,
            pixelcnn: (spec.pixelcnnFeatures, spec.pixelcnnResnets), symmetricInputs: spec.symmetricInputs, backend: backend,
            seed: seed)
        self.init(spec: .alemi(spec), encoder: encoder, channel: channel, marginal: marginal, decoder: decoder,
            symmetricInputs: spec.symmetricInputs, backend: backend)
    }

    /// The Echo autoencoder: the Echo channel with its exact rate, and a decoder.
    public convenience init(_ spec: EchoSpec, backend: any Backend, seed: UInt64) throws {
        let d = spec.latentDimension
        let encoder = try ConvEncoder(activation: spec.activation, backend: backend, seed: seed)
        let channel = try EchoChannel(latentDimension: d, terms: spec.terms, sampling: spec.replacement, backend: backend, seed: seed)
        let decoder = try Self.decoder(spec.decoder, latentDimension: d, activation: spec.activation,
            pixelcnn: (spec.pixelcnnFeatures, spec.pixelcnnResnets), symmetricInputs: spec.symmetricInputs, backend: backend,
            seed: seed)
        self.init(spec: .echo(spec), encoder: encoder, channel: channel, marginal: nil, decoder: decoder,
            symmetricInputs: spec.symmetricInputs, backend: backend)
    }

    /// The roles composed: the encoder body, the channel, a learned marginal (nil for the
    /// channel's own), the decoder.
    init(spec: ModelSpec, encoder: ConvEncoder, channel: any LatentChannel, marginal: (any LatentMarginal)?,
        decoder: any LatentDecoder, symmetricInputs: Bool, backend: any Backend) {
        self.spec = spec
        self.encoder = encoder
        self.channel = channel
        self.marginal = marginal
        self.decoder = decoder
        self.symmetricInputs = symmetricInputs
        self.backend = backend
    }

    static func decoder(_ kind: DecoderKind, latentDimension d: Int, activation: Activation, pixelcnn: (features: Int, resnets: Int),
        symmetricInputs: Bool, backend: any Backend, seed: UInt64) throws -> any LatentDecoder {
        switch kind {
        case .deconv:
            try DeconvDecoder(latentDimension: d, activation: activation, backend: backend, seed: seed)
        case .pixelcnn:
            try PixelCNNDecoder(latentDimension: d, features: pixelcnn.features, resnets: pixelcnn.resnets,
                symmetricInputs: symmetricInputs, backend: backend, seed: seed)
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

    public var latentLayers: [String] { spec.latentLayers }

    public var rateFloor: Double? { channel.rateFloor }

    public var testNoiseDescription: String {
        channel.testNoiseDescription + (marginal == nil ? "" : "; the rate is log e(z|x) − log m(z) under the "
            + (marginal is VampPrior ? "VampPrior" : "MAF") + " marginal, one Monte Carlo sample")
    }

    /// The encoder's 256 features of images `[B, 28, 28, 1]` with values in [0, 1].
    public func features(_ images: Tensor, in graph: Graph) throws -> Tensor {
        let input = symmetricInputs ? try graph.symmetric(images) : images
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

    /// Encodes through the channel, decodes, and scores: the Bernoulli distortion over the
    /// pixels and the channel's rate (log w for IWAE where the channel has a density e(z|x)).
    public func callAsFunction(_ images: Tensor, in graph: Graph, seed: UInt64, noiseStream: UInt64) throws -> ModelOutput {
        let batch = images.shape[0], pixels = images.count / max(batch, 1)
        let coded = try encode(images, in: graph, seed: seed, noiseStream: noiseStream)
        let logits = try decode(coded.latent, images: images, in: graph)
        let distortion = try graph.bernoulliNLL(logits: try graph.reshape(logits, [batch, pixels]),
            targets: try graph.reshape(images, [batch, pixels]))
        let weights: ImportanceWeights
        if let logPosterior = coded.logPosterior {
            let monteCarloRate = marginal != nil || channel is IAFChannel
            weights = .available {
                // log w = −D + log m(z) − log e(z|x); a Monte Carlo rate is log e − log m already.
                if monteCarloRate { return try graph.scale(try graph.add(distortion, coded.rate), by: -1) }
                let logRatio = try graph.sub(try graph.standardNormalLogDensity(coded.latent), logPosterior)
                return try graph.sub(logRatio, distortion)
            }
        } else {
            weights = .unavailable("the \(channel is EchoChannel ? "Echo channel" : "channel") has no density e(z|x): its rate is exact, but an importance-weighted bound needs log e(z|x)")
        }
        let perDimension = marginal == nil ? coded.perDimensionRate : nil
        return ModelOutput(distortion: distortion, rates: [LayerRate(name: "z", rate: coded.rate, perDimension: perDimension)],
            latent: coded.latent, importanceWeights: weights)
    }
}

extension Graph {
    /// Images in [0, 1] mapped to 2x − 1 ∈ [−1, 1] (Alemi's input transform).
    func symmetric(_ images: Tensor) throws -> Tensor { try sub(try scale(images, by: 2), try scalar(1)) }
}
