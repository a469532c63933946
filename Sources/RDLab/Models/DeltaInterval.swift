import Foundation

/// The standard deviations σ at which a Gaussian N(μ, σ²) can be made to pay a KL of at
/// least δ nats to N(0, 1) by its mean alone: the σ range of the independent δ-VAE
/// (Razavi et al. 2019, App. D; seed-spec §9.3).
///
/// In one dimension KL(N(μ, σ²) ‖ N(0, 1)) = ½(μ² + σ² − 1 − ln σ²), so
///
///     KL = δ + ½(μ² − g(σ²)),   g(s) = 2δ + 1 + ln s − s,
///
/// and KL ≥ δ iff μ² ≥ g(σ²). g is concave with its maximum 2δ at s = 1; it is ≥ 0 exactly on
/// `[s_l, s_u]`, the roots of ln s − s + 1 + 2δ = 0. Writing w = −s turns the root condition
/// into w·eʷ = −e^{−(1+2δ)}, so
///
///     s_l = −W₀(−e^{−(1+2δ)}),   s_u = −W₋₁(−e^{−(1+2δ)})
///
/// (``LambertW``), and ``lower`` = √s_l, ``upper`` = √s_u. For example δ = 0.1 gives
/// σ ∈ [0.70231, 1.33126] and δ = 1 gives [0.22906, 2.12256]; δ = 0 gives [1, 1].
public struct DeltaInterval: Equatable, Sendable {
    /// δ, nats per dimension.
    public let delta: Double
    /// σ_l = √s_l.
    public let lower: Double
    /// σ_u = √s_u.
    public let upper: Double

    /// The interval of `delta` nats, or nil unless δ is a finite number ≥ 0 for which
    /// e^{−(1+2δ)} is a positive Double (δ below about 372).
    public init?(delta: Double) {
        guard delta >= 0, delta.isFinite else { return nil }
        let x = -Foundation.exp(-(1 + 2 * delta))
        guard let principal = LambertW.value(x, branch: .principal), let lowerBranch = LambertW.value(x, branch: .lower) else {
            return nil
        }
        self.delta = delta
        lower = (-principal).squareRoot()
        upper = (-lowerBranch).squareRoot()
    }
}
