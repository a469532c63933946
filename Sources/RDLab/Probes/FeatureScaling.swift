import Foundation

/// Per-feature standardisation `x′_j = (x_j − μ_j) / s_j`, with μ and s the mean and the
/// population standard deviation of feature j over the data it was fitted on (sklearn's
/// `StandardScaler`), and `s_j = max(σ_j, 1e-6)` so that a constant feature maps to zero
/// instead of dividing by zero.
///
/// The logistic probe fits on standardised features. HIT feeds sklearn the raw posterior
/// means; without a penalty, an affine change of each feature only reparametrises the
/// classifier (`w′_j = s_j w_j`, the bias absorbing `Σ μ_j w_j`), so the optimum's predictions
/// are the same, while gradient steps no longer depend on each latent's scale. With sklearn's
/// weak L2 penalty (C = 1: ‖W‖²/2 against the summed cross-entropy of N examples) the two
/// optima differ slightly; rdlab's accuracies are those of the standardised problem.
public struct FeatureScaling: Sendable, Equatable {
    /// μ_j.
    public let mean: [Float]
    /// s_j = max(σ_j, ``minimumScale``).
    public let scale: [Float]

    /// The floor on s_j.
    public static let minimumScale = 1e-6

    /// Fits μ and s to `data` (sums in Double). Throws if `data` has no examples.
    public init(fitting data: LabelledFeatures) throws {
        guard data.count > 0 else { throw ProbeError.noExamples("the features to standardise") }
        let d = data.dimension, n = Double(data.count)
        var sum = [Double](repeating: 0, count: d), squares = [Double](repeating: 0, count: d)
        data.features.withUnsafeBufferPointer { x in
            for row in 0..<data.count {
                for j in 0..<d { sum[j] += Double(x[row * d + j]) }
            }
            let means = sum.map { $0 / n }
            for row in 0..<data.count {
                for j in 0..<d {
                    let centred = Double(x[row * d + j]) - means[j]
                    squares[j] += centred * centred
                }
            }
        }
        mean = sum.map { Float($0 / n) }
        scale = squares.map { Float(max(($0 / n).squareRoot(), Self.minimumScale)) }
    }

    /// `features` (row-major, rows of `mean.count` values) standardised.
    public func apply(_ features: [Float]) throws -> [Float] {
        let d = mean.count
        guard features.count % d == 0 else {
            throw ProbeError.sizeMismatch("the features to standardise (a multiple of \(d))", expected: features.count / d * d,
                found: features.count)
        }
        var out = [Float](repeating: 0, count: features.count)
        features.withUnsafeBufferPointer { x in
            out.withUnsafeMutableBufferPointer { y in
                for i in 0..<x.count {
                    let j = i % d
                    y[i] = (x[i] - mean[j]) / scale[j]
                }
            }
        }
        return out
    }
}
