import Foundation
import RDCompute

/// The AR(1) prior of the δ-VAE (seed-spec §9.1): a latent sequence z₁ … z_n, each z_t ∈ ℝ^d,
/// with dimension k an independent stationary AR(1) process of coefficient α_k ∈ (−1, 1):
///
/// `z₁ ~ N(0, 1)`, `z_t | z_{t−1} ~ N(α_k z_{t−1}, 1 − α_k²)`
///
/// (stationary variance 1, covariance `Σ_st = α_k^|s−t|`). A posterior that is independent
/// over steps, `q(z_t|x) = N(μ_t, σ_t²)`, cannot match it, so its KL (``Graph/ar1KL(mean:scale:alpha:)``)
/// never falls below the committed rate ``committedRate(steps:)``.
public struct AR1Prior: Equatable, Codable, Sendable {
    /// α_k per latent dimension, each in (−1, 1).
    public var alphas: [Double]

    public init(alphas: [Double]) { self.alphas = alphas }

    /// The number of latent dimensions d.
    public var dimensions: Int { alphas.count }

    /// `count` coefficients linearly spaced from `lower` to `upper` (both included; `lower`
    /// alone when `count` is 1), as the δ-VAE spaces them (e.g. 0.5 … 0.95).
    public static func linearlySpaced(from lower: Double, to upper: Double, count: Int) -> AR1Prior {
        precondition(count >= 1, "an AR(1) prior needs at least one dimension (got \(count))")
        guard count > 1 else { return AR1Prior(alphas: [lower]) }
        let step = (upper - lower) / Double(count - 1)
        return AR1Prior(alphas: (0..<count).map { k in k == count - 1 ? upper : lower + Double(k) * step })
    }

    // MARK: Committed rate

    /// The committed rate of one dimension of coefficient α over n ≥ 2 steps, in nats:
    /// `½ [(n − 2) ln(1 + α²) − ln(1 − α²)]`; 0 for n = 1 (N(0, 1) is then a diagonal posterior).
    static func committedRate(alpha: Double, steps n: Int) -> Double {
        guard n > 1 else { return 0 }
        let a2 = alpha * alpha
        return 0.5 * (Double(n - 2) * Foundation.log1p(a2) - Foundation.log((1 - alpha) * (1 + alpha)))
    }

    /// The committed rate δ: the minimum over all diagonal Gaussian posteriors (all μ, σ) of
    /// the KL to this prior over n steps, in nats,
    ///
    /// `δ = ½ Σ_k [ (n − 2) ln(1 + α_k²) − ln(1 − α_k²) ]`  (n ≥ 2; 0 for n = 1),
    ///
    /// attained at μ = 0 and ``stationaryVariances(steps:)``. n = 32, d = 8 and α = 0.5 … 0.95
    /// commit 55.07 nats (79.45 bits).
    public func committedRate(steps n: Int) -> Double {
        precondition(n >= 1, "an AR(1) sequence needs at least one step (got \(n))")
        return alphas.reduce(0) { $0 + Self.committedRate(alpha: $1, steps: n) }
    }

    /// Why ``alpha(forRate:steps:dimensions:)`` has no answer.
    public enum RateError: Error, Equatable, CustomStringConvertible {
        /// The rate is negative or not a number.
        case invalid(Double)
        /// The rate exceeds what any α < 1 commits (δ grows without bound only as α → 1).
        case unreachable(Double, maximum: Double)

        public var description: String {
            switch self {
            case .invalid(let rate):
                "a committed rate must be a finite number of nats ≥ 0 (got \(rate))"
            case .unreachable(let rate, let maximum):
                "\(rate) nats is beyond reach: the largest committed rate of one α < 1 in Double precision is "
                    + "\(String(format: "%.4g", maximum)) nats for these steps and dimensions"
            }
        }
    }

    /// The single α ∈ [0, 1) that, shared by all `dimensions`, commits `rate` nats over
    /// `steps` steps: the root of `d · ½ [(n − 2) ln(1 + α²) − ln(1 − α²)] = δ`, by bisection
    /// to full Double precision (δ is 0 at α = 0 and increases to ∞ as α → 1). δ = 0 gives
    /// α = 0 (an independent prior). n = 32, d = 1: δ = 1 → α = 0.25786, δ = 5 → α = 0.61155.
    ///
    /// Throws ``RateError/invalid(_:)`` for a negative or non-finite δ, and
    /// ``RateError/unreachable(_:maximum:)`` where δ exceeds the rate of the largest Double
    /// below 1 (always, for δ > 0 and n = 1, which commits nothing).
    public static func alpha(forRate rate: Double, steps: Int, dimensions: Int) throws(RateError) -> Double {
        precondition(steps >= 1 && dimensions >= 1, "steps \(steps) and dimensions \(dimensions) must be ≥ 1")
        guard rate.isFinite, rate >= 0 else { throw .invalid(rate) }
        func committed(_ alpha: Double) -> Double { Double(dimensions) * committedRate(alpha: alpha, steps: steps) }
        var (low, high) = (0.0, 1.0.nextDown)
        let maximum = committed(high)
        guard rate <= maximum else { throw .unreachable(rate, maximum: maximum) }
        if rate == 0 { return 0 }
        while true {
            let middle = low + (high - low) / 2
            if middle == low || middle == high { break }
            if committed(middle) < rate { low = middle } else { high = middle }
        }
        return abs(committed(low) - rate) <= abs(committed(high) - rate) ? low : high
    }

    /// The minimising posterior's variances σ_t² `[n, d]` row-major (step, dimension): the
    /// inverse diagonal of the AR(1) precision matrix, `1 − α²` at both ends
    /// (t = 1 and t = n) and `(1 − α²)/(1 + α²)` inside; 1 for n = 1. With μ = 0 its KL is
    /// ``committedRate(steps:)``.
    public func stationaryVariances(steps n: Int) -> [Double] {
        precondition(n >= 1, "an AR(1) sequence needs at least one step (got \(n))")
        guard n > 1 else { return [Double](repeating: 1, count: dimensions) }
        return (0..<n).flatMap { t in
            alphas.map { alpha in
                let c = (1 - alpha) * (1 + alpha)
                return t == 0 || t == n - 1 ? c : c / (1 + alpha * alpha)
            }
        }
    }

    // MARK: On a graph

    /// The coefficients as a constant `[d]` tensor (the `alpha` of ``Graph/ar1KL(mean:scale:alpha:)``).
    public func alphaTensor(in graph: Graph) throws -> Tensor {
        try graph.constant(alphas.map(Float.init), shape: [dimensions])
    }

    /// KL of the posterior N(μ, σ²) (`mean`, `scale`: `[batch, steps, d]`) to this prior per
    /// example → `[batch]`: ``Graph/ar1KL(mean:scale:alpha:)`` with these α's.
    public func kl(mean: Tensor, scale: Tensor, in graph: Graph) throws -> Tensor {
        try graph.ar1KL(mean: mean, scale: scale, alpha: try alphaTensor(in: graph))
    }

    /// `count` sequences from the prior, `[count, n, d]`: z₁ = ε₁,
    /// z_t = α_k z_{t−1} + √(1 − α_k²) ε_t with ε ~ N(0, 1) from Philox (seed, stream), run
    /// host-side in Double and uploaded as a constant (no gradient).
    public func samples(count: Int, steps n: Int, in graph: Graph, seed: UInt64, stream: UInt64) throws -> Tensor {
        let d = dimensions
        guard count >= 1, n >= 1, d >= 1 else {
            throw ComputeError.invalidArgument(op: "AR1Prior.samples",
                reason: "count \(count), steps \(n) and dimensions \(d) must all be ≥ 1")
        }
        let epsilon = try graph.values(try graph.standardNormal([count, n, d], seed: seed, stream: stream))
        var z = [Float](repeating: 0, count: epsilon.count)
        for b in 0..<count {
            for (k, alpha) in alphas.enumerated() {
                let innovation = ((1 - alpha) * (1 + alpha)).squareRoot()
                var previous = 0.0
                for t in 0..<n {
                    let i = (b * n + t) * d + k
                    let e = Double(epsilon[i])
                    previous = t == 0 ? e : alpha * previous + innovation * e
                    z[i] = Float(previous)
                }
            }
        }
        return try graph.constant(z, shape: [count, n, d])
    }
}
