import Foundation
import RDCompute

/// Every setting of a training run: written to `config.json`, read back by `--resume` and `eval`.
public struct RunSettings: Codable, Equatable, Sendable {
    public var dataset = "binarized-mnist"
    public var binarize: String
    public var model: VAEConfiguration
    public var beta: Float = 1
    public var klAnnealSteps = 0
    public var epochs = 10
    public var maxSteps: Int?
    public var trainLimit: Int?
    public var testLimit: Int?
    public var batchSize = 100
    public var learningRate: Float = 3e-4
    public var learningRateSchedule = LearningRateSchedule.Kind.constant
    public var normalizeGradients = false
    public var seed: UInt64 = 0
    public var testNoise = "the test batch's own reparameterised samples, fixed Philox streams per test batch"
    /// Alemi's family tag (encoder, decoder, marginal: `-`, `+` or `v`), e.g. `-+v`; nil for Echo.
    public var family: String?

    public init(dataset: String, binarize: String, model: VAEConfiguration, beta: Float, klAnnealSteps: Int, epochs: Int,
        maxSteps: Int?, trainLimit: Int?, testLimit: Int?, batchSize: Int, learningRate: Float,
        learningRateSchedule: LearningRateSchedule.Kind, normalizeGradients: Bool, seed: UInt64) {
        self.dataset = dataset
        self.binarize = binarize
        self.model = model
        self.beta = beta
        self.klAnnealSteps = klAnnealSteps
        self.epochs = epochs
        self.maxSteps = maxSteps
        self.trainLimit = trainLimit
        self.testLimit = testLimit
        self.batchSize = batchSize
        self.learningRate = learningRate
        self.learningRateSchedule = learningRateSchedule
        self.normalizeGradients = normalizeGradients
        self.seed = seed
    }

    /// The first setting out of its range, or nil: β finite and ≥ 0, the learning rate finite
    /// and > 0, at least one epoch, positive counts, and a model that ``VAEConfiguration/problem()``
    /// accepts. The CLI reports it by flag, `config.json` by field.
    public func problem() -> SettingProblem? {
        if let problem = model.problem() { return problem }
        let echoWithout = model.channel == VAEConfiguration.Channel.echo.rawValue
            && model.echoReplacement == EchoIndexTable.Sampling.withoutReplacement.rawValue
        let checks: [(Bool, Setting, String)] = [
            (beta.isFinite && beta >= 0, .beta, "must be a finite number ≥ 0 (got \(beta))"),
            (learningRate.isFinite && learningRate > 0, .learningRate, "must be a finite number > 0 (got \(learningRate))"),
            ((1...1_000_000).contains(epochs), .epochs, "must be between 1 and 1000000 (got \(epochs))"),
            ((1...1 << 40).contains(maxSteps ?? 1), .maxSteps, "must be between 1 and 2^40 (got \(maxSteps ?? 0))"),
            ((trainLimit ?? 1) >= 1, .trainLimit, "must be at least 1 (got \(trainLimit ?? 0))"),
            ((testLimit ?? 1) >= 1, .testLimit, "must be at least 1 (got \(testLimit ?? 0))"),
            (batchSize >= 1 && batchSize <= 1 << 20, .batchSize, "must be between 1 and 1048576 (got \(batchSize))"),
            (klAnnealSteps >= 0, .klAnnealSteps, "must be 0 (constant β) or more (got \(klAnnealSteps))"),
            (!echoWithout || model.echoTerms < batchSize, .echoTerms,
                "\(model.echoTerms) without replacement needs --batch-size \(model.echoTerms &+ 1) or more (or --echo-replacement with)"),
        ]
        return checks.first { !$0.0 }.map { SettingProblem(setting: $0.1, reason: $0.2) }
    }
}

/// A setting of a run, with its command-line flag and its place in `config.json`.
public enum Setting: String, Sendable, CaseIterable {
    case dataset, binarize, beta, klAnnealSteps, epochs, maxSteps, trainLimit, testLimit, batchSize, learningRate
    case latentDimension, activation, channel, echoTerms, echoReplacement, encoder, flowSteps, madeHidden, marginal, decoder
    case vampComponents, pixelcnnFeatures, pixelcnnResnets

    /// The flag of `rdlab train` that sets it.
    public var flag: String {
        switch self {
        case .learningRate: "--lr"
        case .latentDimension: "--latent-dim"
        default: "--" + rawValue.snakeCased(separator: "-")
        }
    }

    /// Its key path in `config.json`.
    public var field: String {
        switch self {
        case .dataset, .binarize, .beta, .klAnnealSteps, .epochs, .maxSteps, .trainLimit, .testLimit, .batchSize, .learningRate:
            "settings." + rawValue.snakeCased(separator: "_")
        default: "settings.model." + rawValue.snakeCased(separator: "_")
        }
    }
}

/// A setting outside its range, and why.
public struct SettingProblem: Error, Equatable, Sendable {
    public let setting: Setting
    public let reason: String

    public init(setting: Setting, reason: String) {
        self.setting = setting
        self.reason = reason
    }
}

extension VAEConfiguration {
    /// The first model setting out of its range, or nil (the flow's and the echo channel's
    /// settings only where they are used). The bounds lie far beyond the papers' settings; they
    /// keep every size computable and the largest model's parameters within a few GiB (the
    /// memory check builds the model once), whatever a damaged `config.json` or checkpoint holds.
    public func problem() -> SettingProblem? {
        let usesFlow = encoder == Encoder.iaf.rawValue || marginal == Marginal.maf.rawValue
        func named<E: RawRepresentable & CaseIterable>(_ value: String, _ type: E.Type) -> Bool where E.RawValue == String {
            E(rawValue: value) != nil
        }
        func list<E: RawRepresentable & CaseIterable>(_ type: E.Type) -> String where E.RawValue == String {
            E.allCases.map(\.rawValue).joined(separator: ", ")
        }
        let hiddenActivation = named(activation, Activation.self)
            && ![Activation.linear.rawValue, Activation.sigmoid.rawValue].contains(activation)
        let madeSizesFit = !madeHidden.isEmpty && madeHidden.count <= 8
            && madeHidden.allSatisfy { $0 > 0 && $0 <= 2048 && $0 % max(latentDimension, 1) == 0 }
        let exactRate = channel == Channel.gaussian.rawValue
            || (encoder == Encoder.gaussian.rawValue && marginal == Marginal.normal.rawValue)
        let checks: [(Bool, Setting, String)] = [
            ((1...4096).contains(latentDimension), .latentDimension, "must be between 1 and 4096 (got \(latentDimension))"),
            (hiddenActivation, .activation, "'\(activation)' is not a hidden activation: use relu, gated, softplus or tanh"),
            (named(channel, Channel.self), .channel, "'\(channel)' is not one of \(list(Channel.self))"),
            (named(echoReplacement, EchoIndexTable.Sampling.self), .echoReplacement,
                "'\(echoReplacement)' is not one of \(list(EchoIndexTable.Sampling.self))"),
            (named(encoder, Encoder.self), .encoder, "'\(encoder)' is not one of \(list(Encoder.self))"),
            (named(marginal, Marginal.self), .marginal, "'\(marginal)' is not one of \(list(Marginal.self))"),
            (named(decoder, Decoder.self), .decoder, "'\(decoder)' is not one of \(list(Decoder.self))"),
            (channel != Channel.echo.rawValue || (1...1 << 20).contains(echoTerms), .echoTerms,
                "must be between 1 and 1048576 (got \(echoTerms))"),
            (!usesFlow || (1...16).contains(flowSteps), .flowSteps, "must be between 1 and 16 (got \(flowSteps))"),
            (!usesFlow || madeSizesFit, .madeHidden,
                "needs 1 to 8 sizes, each a multiple of the latent dimension \(latentDimension) up to 2048 (got \(madeHidden))"),
            ((1...10_000).contains(vampComponents), .vampComponents, "must be between 1 and 10000 (got \(vampComponents))"),
            ((1...512).contains(pixelcnnFeatures), .pixelcnnFeatures, "must be between 1 and 512 (got \(pixelcnnFeatures))"),
            ((1...8).contains(pixelcnnResnets), .pixelcnnResnets, "must be between 1 and 8 (got \(pixelcnnResnets))"),
            (exactRate, .channel, "the echo channel has its own exact rate: it needs encoder gaussian and marginal normal"),
        ]
        return checks.first { !$0.0 }.map { SettingProblem(setting: $0.1, reason: $0.2) }
    }
}

extension String {
    /// `klAnnealSteps` → `kl_anneal_steps` (or `kl-anneal-steps`).
    func snakeCased(separator: Character) -> String {
        var out = ""
        for character in self {
            if character.isUppercase {
                out.append(separator)
                out += character.lowercased()
            } else {
                out.append(character)
            }
        }
        return out
    }
}

/// Where a run's backend came from, for `config.json`.
public struct RunProvenance: Codable, Equatable, Sendable {
    public var backendRequested: String
    public var backendUsed: String
    public var device: String
    public var driver: String
    public var fallbackReason: String?
    public var rdlabVersion: String
    public var rdlabCommit: String
    public var started: String

    public init(backendRequested: String, backendUsed: String, device: String, driver: String, fallbackReason: String?,
        rdlabVersion: String, rdlabCommit: String, started: String) {
        self.backendRequested = backendRequested
        self.backendUsed = backendUsed
        self.device = device
        self.driver = driver
        self.fallbackReason = fallbackReason
        self.rdlabVersion = rdlabVersion
        self.rdlabCommit = rdlabCommit
        self.started = started
    }
}
