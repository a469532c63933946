import Foundation

/// Meyen's bound between a classifier's accuracy and the information its input holds about
/// the label, and its inverse: the best accuracy an information allows.
///
/// Let Y ∈ {0, …, M − 1} be a label and Ŷ = f(Z) any classifier of it with accuracy
/// α = P(Ŷ = Y). Fano's inequality bounds H(Y | Z) ≤ H(Y | Ŷ) ≤ H_b(α) + (1 − α) ln(M − 1), so
///
///     I(Z; Y) = H(Y) − H(Y | Z) ≥ g(α) = H(Y) − H_b(α) − (1 − α) ln(M − 1),
///
/// with `H_b(α) = −α ln α − (1 − α) ln(1 − α)` the binary entropy (0 ln 0 = 0) and every
/// quantity in nats (Meyen 2016; HIT, Xiao et al. 2023, uses it to compare a latent layer's
/// rate, an upper bound on I(Z; Y), with the accuracy of probes on that layer).
///
/// The derivative `g′(α) = ln(α (M − 1) / (1 − α))` is zero at α = 1/M and positive above it,
/// so g increases on [1/M, 1] from `g(1/M) = H(Y) − ln M ≤ 0` (zero for uniform labels) to
/// `g(1) = H(Y)`. For M = 2 the last term vanishes (ln 1 = 0).
///
/// Inverting g on [1/M, 1] turns an information budget I into the largest accuracy that
/// any classifier could reach with it, ``maximumAccuracy(information:)``.
public struct InformationBound: Sendable, Equatable {
    /// M ≥ 2.
    public let classes: Int
    /// H(Y) in nats, in [0, ln M].
    public let labelEntropy: Double

    /// The bound for `classes` classes whose labels have entropy `labelEntropy` (nats).
    ///
    /// Throws for `classes < 2`, or an entropy outside [0, ln M] by more than a rounding
    /// error (1e-9 relative); values within it are clamped into the interval.
    public init(classes: Int, labelEntropy: Double) throws {
        guard classes >= 2 else { throw ProbeError.tooFewClasses(classes) }
        let top = Foundation.log(Double(classes))
        let slack = 1e-9 * max(1, top)
        guard labelEntropy.isFinite, labelEntropy >= -slack, labelEntropy <= top + slack else {
            throw ProbeError.labelEntropyOutOfRange(entropy: labelEntropy, classes: classes)
        }
        self.classes = classes
        self.labelEntropy = min(max(labelEntropy, 0), top)
    }

    /// The bound for labels with these per-class counts: M = `classCounts.count` (classes
    /// with no examples still count) and `H(Y) = −Σ_c p_c ln p_c`, `p_c = n_c / Σ n`.
    public init(classCounts: [Int]) throws {
        guard classCounts.count >= 2 else { throw ProbeError.tooFewClasses(classCounts.count) }
        if let bad = classCounts.firstIndex(where: { $0 < 0 }) {
            throw ProbeError.invalidSetting("the count of class \(bad)", reason: "must not be negative (got \(classCounts[bad]))")
        }
        let total = Double(classCounts.reduce(0, +))
        guard total > 0 else { throw ProbeError.noExamples("the class counts") }
        let entropy = classCounts.reduce(0.0) { sum, n in sum - Self.xLogX(Double(n) / total) }
        try self.init(classes: classCounts.count, labelEntropy: entropy)
    }

    /// The chance accuracy 1/M, the lower end of the interval where g is inverted.
    public var chanceAccuracy: Double { 1 / Double(classes) }

    /// `x ln x`, with `0 ln 0 = 0`.
    static func xLogX(_ x: Double) -> Double { x > 0 ? x * Foundation.log(x) : 0 }

    /// The binary entropy `H_b(α) = −α ln α − (1 − α) ln(1 − α)` in nats.
    public static func binaryEntropy(_ alpha: Double) -> Double { -xLogX(alpha) - xLogX(1 - alpha) }

    /// g(α) = H(Y) − H_b(α) − (1 − α) ln(M − 1): the least information I(Z; Y), in nats,
    /// that a classifier of accuracy `accuracy` on Z implies.
    ///
    /// Defined for α ∈ [0, 1] (the inequality holds there); increasing on [1/M, 1]. Throws
    /// for α outside [0, 1] or NaN.
    public func minimumInformation(accuracy alpha: Double) throws -> Double {
        guard (0...1).contains(alpha) else {
            throw ProbeError.invalidSetting("an accuracy", reason: "must be in [0, 1] (got \(alpha))")
        }
        return g(alpha)
    }

    /// g without the domain check.
    func g(_ alpha: Double) -> Double {
        labelEntropy - Self.binaryEntropy(alpha) - (1 - alpha) * Foundation.log(Double(classes - 1))
    }

    /// The largest accuracy α ∈ [1/M, 1] with g(α) ≤ `information`: no classifier of Y from
    /// a Z with I(Z; Y) ≤ `information` can be more accurate than this.
    ///
    /// - `information ≥ g(1) = H(Y)` (including +∞) gives 1.
    /// - `information < g(1/M) = H(Y) − ln M` gives 1/M. This lower end is ≤ 0, so only a
    ///   negative information (−∞ included) lands here: a noisy estimate, a true I(Z; Y) is
    ///   ≥ 0. No α in [1/M, 1] satisfies g(α) ≤ I then; the result is the end of the interval
    ///   where g is inverted, i.e. the answer for `max(information, g(1/M))`. With non-uniform
    ///   labels and `information = 0` the answer is the α > 1/M where g crosses zero, never
    ///   below the majority-class frequency (a constant classifier needs no information).
    /// - Otherwise bisection in Double, on the bracket [1/M, 1] where g(lo) ≤ I < g(hi), down
    ///   to adjacent doubles (|error| ≲ 1e-15, far below the 1e-12 any report needs); the
    ///   lower end of the final bracket is returned, so g(result) ≤ information always.
    ///
    /// Throws ``ProbeError/nonFiniteInformation(_:)`` for NaN.
    public func maximumAccuracy(information: Double) throws -> Double {
        guard !information.isNaN else { throw ProbeError.nonFiniteInformation(information) }
        if information >= labelEntropy { return 1 }
        var lo = chanceAccuracy, hi = 1.0
        if g(lo) > information { return lo }
        while true {
            let mid = lo + (hi - lo) / 2
            if mid <= lo || mid >= hi { break }
            if g(mid) <= information { lo = mid } else { hi = mid }
        }
        return lo
    }
}
