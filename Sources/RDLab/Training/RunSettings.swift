import Foundation
import RDCompute
import RDFiles

/// Every setting of a training run: written to `config.json`, read back by `--resume` and `eval`.
public struct RunSettings: Equatable, Sendable {
    /// The dataset's catalogue name, or ``ToyDistribution/name`` for the toy model.
    public var dataset = "binarized-mnist"
    public var binarize: String
    public var model: ModelSpec
    public var objective: ObjectiveSpec
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
    /// Alemi's family tag (encoder, decoder, marginal: `-`, `+` or `v`), e.g. `-+v`; nil for other models.
    public var family: String?

    public init(dataset: String, binarize: String, model: ModelSpec, objective: ObjectiveSpec, epochs: Int, maxSteps: Int?,
        trainLimit: Int?, testLimit: Int?, batchSize: Int, learningRate: Float, learningRateSchedule: LearningRateSchedule.Kind,
        normalizeGradients: Bool, seed: UInt64) {
        self.dataset = dataset
        self.binarize = binarize
        self.model = model
        self.objective = objective
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

    /// The first setting out of its range, or nil: the model's and the objective's settings,
    /// the learning rate finite and > 0, at least one epoch, positive counts. The CLI reports
    /// it by flag, `config.json` by field.
    public func problem() -> SettingProblem? {
        if let problem = model.problem() ?? objective.problem() { return problem }
        var echoTerms: Int?
        if case .echo(let echo) = model, echo.replacement == .withoutReplacement { echoTerms = echo.terms }
        let unknownLayers = objective.layers.keys.filter { !model.latentLayers.contains($0) }.sorted()
        let checks: [(Bool, Setting, String)] = [
            (unknownLayers.isEmpty, .layerWeights,
                "name layer(s) \(unknownLayers.joined(separator: ", ")), which this model does not have (its layers: \(model.latentLayers.joined(separator: ", ")))"),
            (learningRate.isFinite && learningRate > 0, .learningRate, "must be a finite number > 0 (got \(learningRate))"),
            ((1...1_000_000).contains(epochs), .epochs, "must be between 1 and 1000000 (got \(epochs))"),
            ((1...1 << 40).contains(maxSteps ?? 1), .maxSteps, "must be between 1 and 2^40 (got \(maxSteps ?? 0))"),
            ((trainLimit ?? 1) >= 1, .trainLimit, "must be at least 1 (got \(trainLimit ?? 0))"),
            ((testLimit ?? 1) >= 1, .testLimit, "must be at least 1 (got \(testLimit ?? 0))"),
            (batchSize >= 1 && batchSize <= 1 << 20, .batchSize, "must be between 1 and 1048576 (got \(batchSize))"),
            (objective.freeBits?.grouping != .dimension || model.ratesPerDimension, .freeBitsGroup,
                "per latent dimension needs a rate that is a sum over dimensions (Gaussian encoder and normal marginal, or Echo); this model's is not: use --free-bits-group layer"),
            ((echoTerms ?? 0) < batchSize, .echoTerms,
                "\(echoTerms ?? 0) without replacement needs --batch-size \((echoTerms ?? 0) &+ 1) or more (or --echo-replacement with)"),
        ]
        return checks.first { !$0.0 }.map { SettingProblem(setting: $0.1, reason: $0.2) }
    }
}

extension RunSettings: Codable {
    enum CodingKeys: String, CodingKey {
        case dataset, binarize, model, objective, epochs, maxSteps, trainLimit, testLimit, batchSize, learningRate
        case learningRateSchedule, normalizeGradients, seed, testNoise, family
        /// Before the objective was its own setting (issue 16): β and the annealing steps.
        case beta, klAnnealSteps
    }

    public init(from decoder: any Decoder) throws {
        let c = try decoder.container(keyedBy: CodingKeys.self)
        let objective: ObjectiveSpec
        if let spec = try c.decodeIfPresent(ObjectiveSpec.self, forKey: .objective) {
            objective = spec
        } else {
            // written before issue 16: a negative kl_anneal_steps is kept, so that problem() names it
            let beta = try c.decode(Float.self, forKey: .beta), steps = try c.value(.klAnnealSteps, or: 0)
            objective = ObjectiveSpec(weight: steps != 0 ? .annealed(beta: beta, steps: steps) : .constant(beta: beta))
        }
        self.init(dataset: try c.decode(String.self, forKey: .dataset), binarize: try c.decode(String.self, forKey: .binarize),
            model: try c.decode(ModelSpec.self, forKey: .model), objective: objective, epochs: try c.decode(Int.self, forKey: .epochs),
            maxSteps: try c.decodeIfPresent(Int.self, forKey: .maxSteps), trainLimit: try c.decodeIfPresent(Int.self, forKey: .trainLimit),
            testLimit: try c.decodeIfPresent(Int.self, forKey: .testLimit), batchSize: try c.decode(Int.self, forKey: .batchSize),
            learningRate: try c.decode(Float.self, forKey: .learningRate),
            learningRateSchedule: try c.decode(LearningRateSchedule.Kind.self, forKey: .learningRateSchedule),
            normalizeGradients: try c.decode(Bool.self, forKey: .normalizeGradients), seed: try c.decode(UInt64.self, forKey: .seed))
        testNoise = try c.value(.testNoise, or: testNoise)
        family = try c.decodeIfPresent(String.self, forKey: .family)
    }

    public func encode(to encoder: any Encoder) throws {
        var c = encoder.container(keyedBy: CodingKeys.self)
        try c.encode(dataset, forKey: .dataset)
        try c.encode(binarize, forKey: .binarize)
        try c.encode(model, forKey: .model)
        try c.encode(objective, forKey: .objective)
        try c.encode(epochs, forKey: .epochs)
        try c.encodeIfPresent(maxSteps, forKey: .maxSteps)
        try c.encodeIfPresent(trainLimit, forKey: .trainLimit)
        try c.encodeIfPresent(testLimit, forKey: .testLimit)
        try c.encode(batchSize, forKey: .batchSize)
        try c.encode(learningRate, forKey: .learningRate)
        try c.encode(learningRateSchedule, forKey: .learningRateSchedule)
        try c.encode(normalizeGradients, forKey: .normalizeGradients)
        try c.encode(seed, forKey: .seed)
        try c.encode(testNoise, forKey: .testNoise)
        try c.encodeIfPresent(family, forKey: .family)
    }
}

/// A setting of a run, with its command-line flag and its place in `config.json`.
public enum Setting: String, Sendable, CaseIterable {
    case dataset, binarize, epochs, maxSteps, trainLimit, testLimit, batchSize, learningRate
    case beta, klAnnealSteps, initialMultiplier, targetRate, targetRateLr, targetRatePenalty, targetDistortion, gecoLr, gecoSmoothing
    case freeBits, freeBitsGroup, beta1, beta2, layerWeights, klWarmupEpochs
    case latentDimension, channels, activation, echoTerms, flowSteps, madeHidden, vampComponents, pixelcnnFeatures, pixelcnnResnets
    case alpha, auxiliaryHidden, channel, delta

    /// The flag of `rdlab train` that sets it.
    public var flag: String {
        switch self {
        case .learningRate: "--lr"
        case .initialMultiplier: "--beta"
        case .latentDimension: "--latent-dim"
        case .layerWeights: "--beta1/--beta2"
        default: "--" + rawValue.snakeCased(separator: "-")
        }
    }

    /// Its key path in `config.json`.
    public var field: String {
        switch self {
        case .dataset, .binarize, .epochs, .maxSteps, .trainLimit, .testLimit, .batchSize, .learningRate:
            "settings." + rawValue.snakeCased(separator: "_")
        case .beta: "settings.objective.weight.beta"
        case .klAnnealSteps: "settings.objective.weight.steps"
        case .targetRate: "settings.objective.weight.rate"
        case .targetRateLr, .gecoLr: "settings.objective.weight.learning_rate"
        case .targetRatePenalty: "settings.objective.weight.penalty"
        case .targetDistortion: "settings.objective.weight.distortion"
        case .gecoSmoothing: "settings.objective.weight.smoothing"
        case .initialMultiplier: "settings.objective.weight.initial_multiplier"
        case .freeBits: "settings.objective.free_bits.nats"
        case .freeBitsGroup: "settings.objective.free_bits.grouping"
        case .beta1: "settings.objective.layers.z1.beta"
        case .beta2: "settings.objective.layers.z2.beta"
        case .layerWeights: "settings.objective.layers"
        case .klWarmupEpochs: "settings.objective.warm_up.epochs"
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
    /// What the steps keep for their backward pass (nil in runs from before the choice).
    public var activationMemory: ActivationMemory?
    /// The estimated peak device memory of one training step in bytes (``StepMemory``), with
    /// the parameters and Adam's moments; nil where not estimated (the toy model).
    public var stepMemoryBytes: Int?
    /// Whether steps replay a recorded plan (nil in runs from before the choice: replayed).
    public var stepPlanning: StepPlanning?

    public init(backendRequested: String, backendUsed: String, device: String, driver: String, fallbackReason: String?,
        rdlabVersion: String, rdlabCommit: String, started: String, activationMemory: ActivationMemory? = nil,
        stepMemoryBytes: Int? = nil, stepPlanning: StepPlanning? = nil) {
        self.backendRequested = backendRequested
        self.backendUsed = backendUsed
        self.device = device
        self.driver = driver
        self.fallbackReason = fallbackReason
        self.rdlabVersion = rdlabVersion
        self.rdlabCommit = rdlabCommit
        self.started = started
        self.activationMemory = activationMemory
        self.stepMemoryBytes = stepMemoryBytes
        self.stepPlanning = stepPlanning
    }
}
