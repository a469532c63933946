import GRDB

/// What a probe read from a latent layer: its posterior means (HIT's features, deterministic
/// functions of x whose accuracy the rate does not limit) or one sample z_l ~ q(z_l|·) per
/// example (the variable the rate measures, so its accuracy stays under the bound).
public enum ProbeFeatures: String, Codable, CaseIterable, Sendable {
    case mean, sample
}

/// One row of the store's `probes` table: how well one layer of one point predicts the labels,
/// beside the accuracy its information budget allows.
///
/// With M classes and I = `rateNats` = Σ_{l'≥l} R_l' ≥ I(z_l; Y), Fano's inequality gives
/// I ≥ g(α) = H(Y) − H_b(α) − (1 − α) ln(M − 1) for any classifier's accuracy α, so
/// α ≤ g⁻¹(I) = `boundAccuracy` (``InformationBound``).
public struct ProbeResult: Codable, FetchableRecord, PersistableRecord, Equatable, Sendable {
    public var pointId: String
    /// The last test epoch, which the evaluation is of.
    public var epoch: Int
    public var layer: String
    public var features: ProbeFeatures
    public var dimension: Int
    /// M.
    public var classes: Int
    public var heldOutExamples: Int
    public var logisticAccuracy: Double
    public var nearestNeighbourAccuracy: Double
    /// The information budget, nats.
    public var rateNats: Double
    public var boundAccuracy: Double
    public var chanceAccuracy: Double

    public init(pointId: String, epoch: Int, layer: String, features: ProbeFeatures, dimension: Int, classes: Int, heldOutExamples: Int,
        logisticAccuracy: Double, nearestNeighbourAccuracy: Double, rateNats: Double, boundAccuracy: Double, chanceAccuracy: Double) {
        self.pointId = pointId
        self.epoch = epoch
        self.layer = layer
        self.features = features
        self.dimension = dimension
        self.classes = classes
        self.heldOutExamples = heldOutExamples
        self.logisticAccuracy = logisticAccuracy
        self.nearestNeighbourAccuracy = nearestNeighbourAccuracy
        self.rateNats = rateNats
        self.boundAccuracy = boundAccuracy
        self.chanceAccuracy = chanceAccuracy
    }

    public static let databaseTableName = "probes"
    public static let databaseColumnDecodingStrategy = DatabaseColumnDecodingStrategy.convertFromSnakeCase
    public static let databaseColumnEncodingStrategy = DatabaseColumnEncodingStrategy.convertToSnakeCase
}
