import Foundation
import RDCompute



/// Which model a run trains, with every setting that shapes its parameters: saved in
/// `config.json` and with every checkpoint. One case per model; each case's settings struct
/// holds its defaults (in one place) and builds the model.
///
/// In JSON the case is the field `kind` beside the settings:
/// `{"kind": "alemi", "latent_dimension": 32, "encoder": "gaussian", …}`. Files written
/// before the model layer was opened (no `kind`) are read as ``AlemiSpec`` or ``EchoSpec``
/// (see ``LegacyModelConfiguration``).
public enum ModelSpec: Equatable, Sendable {
    /// Alemi's twelve convolutional families (encoder, decoder, marginal).
    case alemi(AlemiSpec)
    /// The convolutional Echo-noise autoencoder.
    case echo(EchoSpec)
    /// The 30-state toy model of "Fixing a Broken ELBO", App. E.
    case toy(ToySpec)
    /// HIT's two-layer VAE (GHVAE or LVAE) with a rate per layer.
    case hierarchical(HierarchicalSpec)
    /// The δ-VAE's sequence model: one latent per image row under an AR(1) prior, a committed rate.
    case delta(DeltaSpec)

    /// The case names, as written in `kind`.
    public enum Kind: String, Codable, Sendable, CaseIterable {
        case alemi, echo, toy, hierarchical, delta
    }

    public var kind: Kind {
        switch self {
        case .alemi: .alemi
        case .echo: .echo
        case .toy: .toy
        case .hierarchical: .hierarchical
        case .delta: .delta
        }
    }

    /// Builds the model with parameters initialised from `seed`.
    public func makeModel(backend: any Backend, seed: UInt64) throws -> any RateDistortionModel {
        switch self {
        case .alemi(let spec): try ConvAutoencoder(spec, backend: backend, seed: seed)
        case .echo(let spec): try ConvAutoencoder(spec, backend: backend, seed: seed)
        case .toy(let spec): try ToyModel(spec, backend: backend, seed: seed)
        case .hierarchical(let spec): try HierarchicalVAE(spec, backend: backend, seed: seed)
        case .delta(let spec): try DeltaVAE(spec, backend: backend, seed: seed)
        }
    }

    /// The first setting out of its range, or nil.
    public func problem() -> SettingProblem? {
        switch self {
        case .alemi(let spec): spec.problem()
        case .echo(let spec): spec.problem()
        case .toy: nil
        case .hierarchical(let spec): spec.problem()
        case .delta(let spec): spec.problem()
        }
    }

    /// Alemi's family tag (`-+v`), nil for other models.
    public var family: String? {
        if case .alemi(let spec) = self { return spec.family }
        return nil
    }

    /// Whether the model has segments that ``ActivationMemory/recomputed`` runs again instead of
    /// keeping (a PixelCNN decoder's gated resnets).
    public var hasCheckpointedSegments: Bool {
        switch self {
        case .alemi(let spec): spec.decoder == .pixelcnn
        case .delta: true
        case .echo, .hierarchical, .toy: false
        }
    }

    /// Whether every layer's rate is a sum over latent dimensions (an analytic KL, the Echo
    /// rate), which free bits per dimension need; Monte Carlo rates and the toy model's sum
    /// over states are not.
    public var ratesPerDimension: Bool {
        switch self {
        case .alemi(let spec): spec.encoder == .gaussian && spec.marginal == .normal
        case .echo, .hierarchical: true
        case .toy, .delta: false
        }
    }

    /// Names of the model's latent layers, in the order of its rates: `z` for one layer; HIT's
    /// `z1` (bottom) and `z2` (top). ``RateDistortionModel/latentLayers`` of the model built.
    public var latentLayers: [String] {
        switch self {
        case .alemi, .echo, .toy, .delta: ["z"]
        case .hierarchical: [HierarchicalSpec.bottomLayer, HierarchicalSpec.topLayer]
        }
    }

    /// Whether the model reads images (the convolutional models) rather than its own data.
    public var readsImages: Bool { kind != .toy }

    /// Whether the model has a density e(z|x), which the IWAE bound needs: the Gaussian and
    /// IAF encoders, HIT's q(z₁, z₂|x) and the δ-VAE's row posteriors do; the Echo channel (an exact rate, no density) and
    /// the toy model (an exact likelihood) do not. What each model's
    /// ``ModelOutput/importanceWeights`` says.
    public var hasEncoderDensity: Bool { kind == .alemi || kind == .hierarchical || kind == .delta }
}

extension ModelSpec: Codable {
    enum CodingKeys: String, CodingKey { case kind }

    public init(from decoder: any Decoder) throws {
        let container = try decoder.container(keyedBy: CodingKeys.self)
        guard let kind = try container.decodeIfPresent(Kind.self, forKey: .kind) else {
            self = try LegacyModelConfiguration(from: decoder).spec(at: decoder.codingPath)
            return
        }
        switch kind {
        case .alemi: self = .alemi(try AlemiSpec(from: decoder))
        case .echo: self = .echo(try EchoSpec(from: decoder))
        case .toy: self = .toy(try ToySpec(from: decoder))
        case .hierarchical: self = .hierarchical(try HierarchicalSpec(from: decoder))
        case .delta: self = .delta(try DeltaSpec(from: decoder))
        }
    }

    public func encode(to encoder: any Encoder) throws {
        var container = encoder.container(keyedBy: CodingKeys.self)
        try container.encode(kind, forKey: .kind)
        switch self {
        case .alemi(let spec): try spec.encode(to: encoder)
        case .echo(let spec): try spec.encode(to: encoder)
        case .toy(let spec): try spec.encode(to: encoder)
        case .hierarchical(let spec): try spec.encode(to: encoder)
        case .delta(let spec): try spec.encode(to: encoder)
        }
    }
}

/// The convolutional decoder of the image models and its PixelCNN settings.
public enum DecoderKind: String, Codable, Sendable, CaseIterable {
    /// Deconvolutional Bernoulli decoder (seed-spec §6.3).
    case deconv
    /// Autoregressive PixelCNN++-style decoder (§4.4).
    case pixelcnn
}

/// The encoders of Alemi's Gaussian channel.
public enum EncoderKind: String, Codable, Sendable, CaseIterable {
    /// Diagonal Gaussian, analytic KL against N(0, I).
    case gaussian
    /// Mean-only IAF on top of the diagonal Gaussian (Monte Carlo rate).
    case iaf
}

/// The marginals m(z) a rate is measured against.
public enum MarginalKind: String, Codable, Sendable, CaseIterable {
    /// N(0, I).
    case normal
    /// Mean-only MAF (learned).
    case maf
    /// VampPrior with mixture weights (learned pseudo-inputs).
    case vamp
}

/// How Alemi's Gaussian encoder parameterises N(μ, σ²).
public enum ChannelKind: String, Codable, Sendable, CaseIterable {
    /// μ and σ free (``GaussianChannel``).
    case gaussian
    /// The independent δ-VAE (``DeltaChannel``): every dimension pays KL ≥ δ to N(0, 1).
    case delta
}

/// Settings of Alemi's convolutional β-VAE families (App. F): encoder, decoder and marginal,
/// each simple or powerful, tagged `-`/`+`/`v` (``family``); the Gaussian encoder may be the
/// δ-VAE's (``channel``, tagged `δ`).
public struct AlemiSpec: Equatable, Sendable {
    /// Latent dimensions (Alemi uses 64).
    public var latentDimension: Int
    /// Nonlinearity of every hidden layer (`gated` in Alemi F.1).
    public var activation: Activation
    /// Map inputs x ∈ [0, 1] to 2x − 1 before the encoder (Alemi); targets stay in [0, 1].
    public var symmetricInputs: Bool
    public var encoder: EncoderKind
    public var decoder: DecoderKind
    public var marginal: MarginalKind
    /// IAF and MAF: MADE steps.
    public var flowSteps: Int
    /// IAF and MAF: hidden layer sizes of each MADE (each a multiple of the latent dimension).
    public var madeHidden: [Int]
    /// VampPrior: mixture components (pseudo-inputs).
    public var vampComponents: Int
    /// PixelCNN decoder: channels of every layer.
    public var pixelcnnFeatures: Int
    /// PixelCNN decoder: gated resnets per block.
    public var pixelcnnResnets: Int
    /// The Gaussian encoder's parameterisation: free, or the δ-VAE's committed rate.
    public var channel: ChannelKind
    /// Channel delta: the committed rate δ per latent dimension, in nats (the rate is at least
    /// `latentDimension`·δ).
    public var delta: Double

    /// Every setting, each defaulting to the value of the papers' reference model (the one
    /// place for the defaults: `AlemiSpec()` is the reference β-VAE).
    public init(latentDimension: Int = 32, activation: Activation = .relu, symmetricInputs: Bool = false,
        encoder: EncoderKind = .gaussian, decoder: DecoderKind = .deconv, marginal: MarginalKind = .normal,
        flowSteps: Int = 4, madeHidden: [Int] = [640, 640, 640], vampComponents: Int = 500, pixelcnnFeatures: Int = 64,
        pixelcnnResnets: Int = 2, channel: ChannelKind = .gaussian, delta: Double = 0.1) {
        self.latentDimension = latentDimension
        self.activation = activation
        self.symmetricInputs = symmetricInputs
        self.encoder = encoder
        self.decoder = decoder
        self.marginal = marginal
        self.flowSteps = flowSteps
        self.madeHidden = madeHidden
        self.vampComponents = vampComponents
        self.pixelcnnFeatures = pixelcnnFeatures
        self.pixelcnnResnets = pixelcnnResnets
        self.channel = channel
        self.delta = delta
    }

    /// Encoder, decoder, marginal: `-` simple, `+` IAF / PixelCNN / MAF, `v` VampPrior; the
    /// encoder `δ` for the δ-VAE channel (`δ--`, `δ+-`), so that its runs are not taken for the
    /// plain β-VAE's in tables and plots.
    public var family: String {
        (channel == .delta ? "δ" : encoder == .iaf ? "+" : "-") + (decoder == .pixelcnn ? "+" : "-")
            + (marginal == .maf ? "+" : marginal == .vamp ? "v" : "-")
    }

    /// The first setting out of its range, or nil (flow settings only where a flow is used).
    /// The bounds lie far beyond the papers' settings; they keep every size computable and the
    /// largest model's parameters within a few GiB, whatever a damaged file holds.
    public func problem() -> SettingProblem? {
        let usesFlow = encoder == .iaf || marginal == .maf
        let madeSizesFit = !madeHidden.isEmpty && madeHidden.count <= 8
            && madeHidden.allSatisfy { $0 > 0 && $0 <= 2048 && $0 % max(latentDimension, 1) == 0 }
        let checks: [(Bool, Setting, String)] = [
            ((1...4096).contains(latentDimension), .latentDimension, "must be between 1 and 4096 (got \(latentDimension))"),
            (activation.isHidden, .activation, "'\(activation.rawValue)' is not a hidden activation: use relu, gated, softplus or tanh"),
            (!usesFlow || (1...16).contains(flowSteps), .flowSteps, "must be between 1 and 16 (got \(flowSteps))"),
            (!usesFlow || madeSizesFit, .madeHidden,
                "needs 1 to 8 sizes, each a multiple of the latent dimension \(latentDimension) up to 2048 (got \(madeHidden))"),
            ((1...10_000).contains(vampComponents), .vampComponents, "must be between 1 and 10000 (got \(vampComponents))"),
            ((1...512).contains(pixelcnnFeatures), .pixelcnnFeatures, "must be between 1 and 512 (got \(pixelcnnFeatures))"),
            ((1...8).contains(pixelcnnResnets), .pixelcnnResnets, "must be between 1 and 8 (got \(pixelcnnResnets))"),
            (channel != .delta || (delta > 0 && delta <= 10), .delta, "must be a number of nats per latent dimension in (0, 10] (got \(delta))"),
            (channel != .delta || encoder == .gaussian, .channel,
                "delta makes the diagonal Gaussian encoder pay KL ≥ δ: use --encoder gaussian, not \(encoder.rawValue)"),
            (channel != .delta || marginal == .normal, .channel,
                "delta commits the rate against N(0, I): use --marginal normal, not \(marginal.rawValue)"),
        ]
        return checks.first { !$0.0 }.map { SettingProblem(setting: $0.1, reason: $0.2) }
    }
}

/// Settings of the convolutional Echo autoencoder (Echo paper App. E): the encoder body, the
/// Echo channel with its exact rate, and a decoder.
public struct EchoSpec: Equatable, Sendable {
    public var latentDimension: Int
    public var activation: Activation
    public var symmetricInputs: Bool
    /// Terms d of the noise sum (the clip factor is solved for it).
    public var terms: Int
    /// How index tables are drawn (the paper: without replacement).
    public var replacement: EchoIndexTable.Sampling
    public var decoder: DecoderKind
    public var pixelcnnFeatures: Int
    public var pixelcnnResnets: Int

    /// Every setting with its default (the one place for them: `EchoSpec()` is the paper's
    /// setting at batch 100).
    public init(latentDimension: Int = 32, activation: Activation = .relu, symmetricInputs: Bool = false, terms: Int = 99,
        replacement: EchoIndexTable.Sampling = .withoutReplacement, decoder: DecoderKind = .deconv,
        pixelcnnFeatures: Int = 64, pixelcnnResnets: Int = 2) {
        self.latentDimension = latentDimension
        self.activation = activation
        self.symmetricInputs = symmetricInputs
        self.terms = terms
        self.replacement = replacement
        self.decoder = decoder
        self.pixelcnnFeatures = pixelcnnFeatures
        self.pixelcnnResnets = pixelcnnResnets
    }

    public func problem() -> SettingProblem? {
        let checks: [(Bool, Setting, String)] = [
            ((1...4096).contains(latentDimension), .latentDimension, "must be between 1 and 4096 (got \(latentDimension))"),
            (activation.isHidden, .activation, "'\(activation.rawValue)' is not a hidden activation: use relu, gated, softplus or tanh"),
            ((1...1 << 20).contains(terms), .echoTerms, "must be between 1 and 1048576 (got \(terms))"),
            ((1...512).contains(pixelcnnFeatures), .pixelcnnFeatures, "must be between 1 and 512 (got \(pixelcnnFeatures))"),
            ((1...8).contains(pixelcnnResnets), .pixelcnnResnets, "must be between 1 and 8 (got \(pixelcnnResnets))"),
        ]
        return checks.first { !$0.0 }.map { SettingProblem(setting: $0.1, reason: $0.2) }
    }
}

/// Settings of the toy model of Alemi App. E (seed-spec §7): the data distribution is fixed
/// (``ToyDistribution``); the model has 30 latent states and 150 parameters.
public struct ToySpec: Equatable, Sendable {
    /// Where training starts.
    public enum Initialization: String, NamedChoice, Sendable {
        /// Every parameter N(0, 1) from the seed (Alemi's setting: the ELBO run ignores its latent).
        case random
        /// State i centred on bin i in the encoder and decoder (w = 10, b = 10·i/29) and a
        /// uniform marginal, the same for every seed. From N(0, 1) a target rate R* ≥ 1.5 is
        /// met by pushing m(z) away from e(z) while β = λ + c(R − R*) < 0, and the run stays
        /// about 0.4–1.7 nats above D = H − R; from here it reaches the line at every R* in
        /// [0, 3] within 5,000 steps.
        case ordered
    }

    public var initialization: Initialization

    public init(initialization: Initialization = .random) {
        self.initialization = initialization
    }
}

/// Settings of HIT's two-layer VAE on MNIST (seed-spec §8.2–8.3): the inference variant, the
/// channels c of every convolution (z₁ is a `4 × 4 × c` map) and the dimensions of z₂.
public struct HierarchicalSpec: Equatable, Sendable {
    /// How q(z₁|z₂, x) is inferred.
    public enum Inference: String, NamedChoice, Sendable {
        /// Generalised top-down (HIT's `HVAE_Fixed_z`): q(z₁|z₂, x) from x and z₂ (122,713
        /// parameters at c = 16, z₂ = 20).
        case ghvae
        /// Ladder (HIT's `LVAE_Fixed_z`): a bottom-up estimate merged with p(z₁|z₂) by
        /// precision (104,745 parameters); trained with KL warm-up.
        case lvae
    }

    public var inference: Inference
    public var channels: Int
    public var topDimension: Int

    /// The layers' names in rates, metrics and per-layer β (`--beta1`, `--beta2`).
    public static let bottomLayer = "z1", topLayer = "z2"

    /// HIT's MNIST model: GHVAE, c = 16, z₂ = 20.
    public init(inference: Inference = .ghvae, channels: Int = 16, topDimension: Int = 20) {
        self.inference = inference
        self.channels = channels
        self.topDimension = topDimension
    }

    public func problem() -> SettingProblem? {
        let checks: [(Bool, Setting, String)] = [
            ((1...512).contains(channels), .channels, "must be between 1 and 512 (got \(channels))"),
            ((1...4096).contains(topDimension), .latentDimension, "must be between 1 and 4096 (got \(topDimension))"),
        ]
        return checks.first { !$0.0 }.map { SettingProblem(setting: $0.1, reason: $0.2) }
    }
}

extension Activation {
    /// Whether it may follow a hidden layer (not linear, not a sigmoid).
    public var isHidden: Bool { self != .linear && self != .sigmoid }
}
