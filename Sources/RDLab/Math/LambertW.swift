import Foundation

/// The two real branches of the Lambert W function on `[−1/e, 0)`: the solutions w of
/// `w·eʷ = x`.
///
/// For x in `[−1/e, 0)` the equation has two real roots, which meet at the branch point
/// `x = −1/e`, `w = −1`: the principal branch W₀(x) ∈ `[−1, 0)` and the lower branch
/// W₋₁(x) ∈ `(−∞, −1]` (W₀(0) = 0; W₋₁(x) → −∞ as x → 0⁻).
///
/// Each value is refined by Halley's iteration on f(w) = w·eʷ − x
/// (f′ = eʷ(w + 1), f″ = eʷ(w + 2)),
///
///     w ← w − f / (eʷ(w + 1) − (w + 2)·f / (2(w + 1))),
///
/// which converges cubically, from a start that is already close:
///
/// - near the branch point (x < −1/4) the series in p = ±√(2(1 + e·x)) (+ for W₀, − for W₋₁),
///   W = −1 + p − p²/3 + 11p³/72 − 43p⁴/540 + 769p⁵/17280 − 221p⁶/8505 + …
///   (Corless et al. 1996, eq. 4.22);
/// - otherwise W₀ from its Taylor series at 0, x − x² + 3x³/2, and W₋₁ from the asymptotic
///   expansion L₁ − L₂ + L₂/L₁ with L₁ = ln(−x), L₂ = ln(−L₁) (Corless et al., eq. 4.19).
///
/// The result satisfies w·eʷ = x to a few units in the last place of x, times |w| (the
/// rounding of w itself moves eʷ by |w|·ε relative).
public enum LambertW {
    public enum Branch: Sendable, CaseIterable {
        /// W₀: values in `[−1, 0]`, on `[−1/e, 0]`.
        case principal
        /// W₋₁: values in `(−∞, −1]`, on `[−1/e, 0)`.
        case lower
    }

    /// −1/e, where the two branches meet at w = −1.
    public static let branchPoint = -Foundation.exp(-1.0)

    /// W(x) on `branch`, or nil where x lies outside the branch's real domain (below −1/e,
    /// above 0, 0 itself for W₋₁, or not a number).
    public static func value(_ x: Double, branch: Branch) -> Double? {
        guard x >= branchPoint, branch == .principal ? x <= 0 : x < 0 else { return nil }
        // 1 + e·x ≥ 0 on the domain; fused so that the cancellation near −1/e loses nothing more
        let offset = max(0, (1.0).addingProduct(Foundation.exp(1.0), x))
        var w = start(x, offset: offset, branch: branch)
        for _ in 0..<16 {
            let e = Foundation.exp(w)
            let f = w * e - x
            let slope = e * (w + 1)
            let denominator = slope - (w + 2) * f / (2 * (w + 1))
            guard denominator != 0, denominator.isFinite else { break }  // at w = −1 exactly: the branch point
            let step = f / denominator
            w -= step
            if abs(step) <= 1e-15 * abs(w) { break }
        }
        return w
    }

    /// Where Halley's iteration starts (see the type's documentation).
    static func start(_ x: Double, offset: Double, branch: Branch) -> Double {
        if x < -0.25 {
            let p = (branch == .principal ? 1.0 : -1.0) * (2 * offset).squareRoot()
            let coefficients = [-1, 1, -1.0 / 3, 11.0 / 72, -43.0 / 540, 769.0 / 17280, -221.0 / 8505]
            return coefficients.reversed().reduce(0) { $0 * p + $1 }
        }
        switch branch {
        case .principal:
            return x * (1 - x * (1 - 1.5 * x))
        case .lower:
            let l1 = Foundation.log(-x), l2 = Foundation.log(-l1)
            return l1 - l2 + l2 / l1
        }
    }
}
