import Foundation
import RDLab

extension DeltaChannel {
    /// What `rdlab train` logs at the start and `rdlab eval` prints: δ, the committed rate D·δ
    /// and the σ interval.
    var summary: String {
        String(format: "channel delta: every latent dimension pays KL ≥ δ = %g nats to N(0, 1), so the rate is at least the committed %d × %g = %.4g nats; σ ∈ [%.5f, %.5f]",
            interval.delta, latentDimension, interval.delta, Double(latentDimension) * interval.delta, interval.lower, interval.upper)
    }
}
