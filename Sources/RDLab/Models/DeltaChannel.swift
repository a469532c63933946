import Foundation
import RDCompute

/// The independent δ-VAE channel (Razavi et al. 2019, "Preventing posterior collapse with
/// δ-VAEs", App. D; seed-spec §9.3): a diagonal Gaussian e(z|x) = N(μ, σ²) against the prior
/// N(0, I), parameterised so that every latent dimension pays at least δ nats whatever the
/// encoder outputs. The rate is never below the committed rate D·δ (``rateFloor``).
///
/// From the heads a_σ, a_μ on the encoder's 256 features and the interval [σ_l, σ_u] of
/// ``DeltaInterval``:
///
///     σ = σ_l + (σ_u − σ_l)·sigmoid(a_σ),
///     μ = √(max(0, g(σ²)) + ε) + max(0, a_μ),   g(s) = 2δ + 1 + ln s − s,
///
/// so μ² ≥ g(σ²) + ε, and with KL_j = ½(μ_j² + σ_j² − 1 − ln σ_j²) = δ + ½(μ_j² − g(σ_j²)) every
/// dimension pays KL_j ≥ δ + ε/2. The seed spec prints μ without the square root; only the
/// root gives μ² ≥ g, hence the guarantee. The means are ≥ 0 (the paper's choice).
///
/// Numerics (Float): g vanishes at the interval's ends, where √ has an infinite slope, and
/// sigmoid saturates for |a_σ| ≳ 17 so σ can land on σ_l or σ_u, or a rounding step outside,
/// where the computed g is 0 or slightly negative. The clamp max(0, ·) removes negative
/// rounding (its gradient there is 0), and the slack ε = ``meanSlack`` under the root keeps
/// d√u/du ≤ 1/(2√ε) ≈ 158, so no gradient is infinite or NaN (without ε, √'(0) = ∞ times
/// the clamp's 0 is NaN on backends that multiply); it also covers the rounding of g (about
/// 10⁻⁶ at δ = 10: without it the exact KL of the Float μ, σ falls a rounding step below δ),
/// and it raises the least KL per dimension by only ε/2 = 5·10⁻⁶ nats.
/// The rate, log e(z|x), the KL per dimension and the reparameterised draw are
/// ``GaussianChannel``'s, so IWAE bounds and free bits work as for the Gaussian encoder.
public final class DeltaChannel: LatentChannel {
    public let latentDimension: Int
    public let interval: DeltaInterval
    let scaleLogit: Dense
    let meanExcess: Dense

    /// ε under the mean's square root (see the type's documentation).
    public static let meanSlack: Float = 1e-5

    /// The channel for `delta` nats per dimension; throws unless ``DeltaInterval`` has an
    /// interval for it.
    public init(latentDimension: Int, delta: Double, backend: any Backend, seed: UInt64) throws {
        guard let interval = DeltaInterval(delta: delta) else {
            throw ComputeError.invalidArgument(op: "DeltaChannel", reason: "δ must be a finite number ≥ 0 nats (got \(delta))")
        }
        self.latentDimension = latentDimension
        self.interval = interval
        scaleLogit = try Dense("encoder.delta_scale", inputs: 256, outputs: latentDimension, backend: backend, seed: seed)
        meanExcess = try Dense("encoder.delta_mean", inputs: 256, outputs: latentDimension, backend: backend, seed: seed)
    }

    public var parameters: [Parameter] { scaleLogit.parameters + meanExcess.parameters }

    /// The committed rate D·δ nats: no example's rate is smaller.
    public var rateFloor: Double? { Double(latentDimension) * interval.delta }

    /// μ and σ `[B, D]` of a batch of features.
    func heads(_ features: Tensor, in graph: Graph) throws -> (mean: Tensor, scale: Tensor) {
        try Self.meanAndScale(scaleLogit: try scaleLogit(features, in: graph), meanExcess: try meanExcess(features, in: graph),
            interval: interval, in: graph)
    }

    /// σ and μ from the heads' outputs a_σ, a_μ `[B, D]` (the type's formulas).
    static func meanAndScale(scaleLogit: Tensor, meanExcess: Tensor, interval: DeltaInterval, in graph: Graph) throws
        -> (mean: Tensor, scale: Tensor) {
        let width = Float(interval.upper - interval.lower)
        let sigma = try graph.add(try graph.scale(try graph.sigmoid(scaleLogit), by: width),
            try graph.scalar(Float(interval.lower)))
        // g(σ²) = 2δ + 1 + 2 ln σ − σ²
        let bound = try graph.add(try graph.sub(try graph.scale(try graph.log(sigma), by: 2), try graph.unary(.square, sigma)),
            try graph.scalar(Float(2 * interval.delta + 1)))
        let floor = try graph.unary(.sqrt, try graph.add(try graph.relu(bound), try graph.scalar(meanSlack)))
        return (try graph.add(floor, try graph.relu(meanExcess)), sigma)
    }

    public func callAsFunction(_ features: Tensor, in graph: Graph, seed: UInt64, stream: UInt64) throws -> ChannelOutput {
        let (mu, sigma) = try heads(features, in: graph)
        return try GaussianChannel.output(mean: mu, scale: sigma, in: graph, seed: seed, stream: stream)
    }

    /// Draws from the prior N(0, I), the marginal the KL rate measures against.
    public func marginalSamples(count: Int, pool: Tensor, in graph: Graph, seed: UInt64, stream: UInt64) throws -> Tensor {
        try GaussianChannel.standardNormal(count: count, dimensions: latentDimension, in: graph, seed: seed, stream: stream)
    }

    public var testNoiseDescription: String {
        "test batches use their own reparameterised samples with fixed Philox streams per batch"
    }
}
