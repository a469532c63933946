/// The probes of one latent layer: how well its posterior means predict the labels, against
/// what its rate allows (see ``InformationBound``).
public struct LayerProbeReport: Codable, Equatable, Sendable {
    /// The layer's name (`z1`, `y`, …).
    public var layer: String
    /// The number of features per example (the flattened posterior mean).
    public var dimension: Int
    /// Held-out accuracy of the logistic probe (``LinearProbe``).
    public var logisticAccuracy: Double
    /// Held-out accuracy of the k-nearest-neighbour probe (``NearestNeighbours``).
    public var nearestNeighbourAccuracy: Double
    /// The information budget used for the bound, in nats: the layer's rate, an upper bound on
    /// I(Z; Y).
    public var rateNats: Double
    /// ``InformationBound/maximumAccuracy(information:)`` of ``rateNats``: no classifier of the
    /// labels from this layer can beat it.
    public var boundAccuracy: Double
    /// The largest class frequency of the held-out labels: always answering that class.
    public var chanceAccuracy: Double

    public init(layer: String, dimension: Int, logisticAccuracy: Double, nearestNeighbourAccuracy: Double, rateNats: Double,
        boundAccuracy: Double, chanceAccuracy: Double) {
        self.layer = layer
        self.dimension = dimension
        self.logisticAccuracy = logisticAccuracy
        self.nearestNeighbourAccuracy = nearestNeighbourAccuracy
        self.rateNats = rateNats
        self.boundAccuracy = boundAccuracy
        self.chanceAccuracy = chanceAccuracy
    }
}

/// The probes of a model, as `rdlab eval --probes` writes them (JSON with snake_case keys
/// through `JSONEncoder.rdlab`).
public struct ProbeReport: Codable, Equatable, Sendable {
    /// PSNR of the reconstructions in dB (``PSNRAccumulator``); nil when infinite (perfect
    /// reconstructions; JSON has no infinity) or not measured.
    public var psnrDecibels: Double?
    /// The number of classes M.
    public var classes: Int
    /// Examples that fitted the probes and examples they were measured on (``ProbeSplit``).
    public var fittingExamples: Int
    public var heldOutExamples: Int
    /// The split's seed.
    public var splitSeed: UInt64
    /// One entry per latent layer, in the model's order: the probes on the posterior means
    /// (HIT's features). A mean is a deterministic function of x, so its information about the
    /// label is not limited by the rate: at small rates these accuracies may pass the bound.
    public var layers: [LayerProbeReport]
    /// The same probes on one sample z_l ~ q(z_l|·) per example, the variable the rate
    /// measures: I(Y; z_l) ≤ I(X; z_l) ≤ Σ_{l'≥l} R_l', so these stay under the bound (up to
    /// the finite held-out set and the Monte Carlo rate).
    public var sampledLayers: [LayerProbeReport]

    public init(psnrDecibels: Double?, classes: Int, fittingExamples: Int, heldOutExamples: Int, splitSeed: UInt64,
        layers: [LayerProbeReport], sampledLayers: [LayerProbeReport] = []) {
        self.psnrDecibels = psnrDecibels.flatMap { $0.isFinite ? $0 : nil }
        self.classes = classes
        self.fittingExamples = fittingExamples
        self.heldOutExamples = heldOutExamples
        self.splitSeed = splitSeed
        self.layers = layers
        self.sampledLayers = sampledLayers
    }
}
