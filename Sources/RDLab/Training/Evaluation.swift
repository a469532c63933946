import Foundation

/// The test-set figures of a checkpoint, as `rdlab eval --json` prints them (one JSON object,
/// snake_case keys). All in nats per example; `negIwaeNats` is −(the IWAE bound with K =
/// `iwaeSamples`), an upper bound on −log p(x) that −ELBO bounds from above; `probes` holds
/// HIT's PSNR and per-layer probe accuracies (`--probes`); `rateFloorNats` the model's
/// smallest possible rate (Echo, the δ-VAEs) and `rateAuxNats` the rate under the δ-VAE's
/// auxiliary prior.
public struct Evaluation: Codable, Equatable, Sendable {
    public var step: Int
    public var examples: Int
    public var rateNats: Double
    public var ratesNats: [String: Double]
    public var distortionNats: Double
    public var negElboNats: Double
    public var negIwaeNats: Double?
    public var iwaeSamples: Int?
    public var probes: ProbeReport?
    public var rateFloorNats: Double?
    public var rateAuxNats: Double?
    public var seconds: Double

    public init(step: Int, examples: Int, rateNats: Double, ratesNats: [String: Double], distortionNats: Double, negElboNats: Double,
        negIwaeNats: Double?, iwaeSamples: Int?, probes: ProbeReport? = nil, rateFloorNats: Double? = nil, rateAuxNats: Double? = nil,
        seconds: Double) {
        self.step = step
        self.examples = examples
        self.rateNats = rateNats
        self.ratesNats = ratesNats
        self.distortionNats = distortionNats
        self.negElboNats = negElboNats
        self.negIwaeNats = negIwaeNats
        self.iwaeSamples = iwaeSamples
        self.probes = probes
        self.rateFloorNats = rateFloorNats
        self.rateAuxNats = rateAuxNats
        self.seconds = seconds
    }
}
