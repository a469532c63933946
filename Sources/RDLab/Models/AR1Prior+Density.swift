import Foundation
import RDCompute

extension AR1Prior {
    /// log p(z) per example `[B]` of latent sequences `[B, n·d]` (row-major in t) under the
    /// AR(1) prior:
    ///
    ///     log N(z_1; 0, I) + Σ_{t=2}^{n} log N(z_t; α ⊙ z_{t−1}, diag(1 − α²)),
    ///
    /// the conditional means by one matmul with the shift matrix `A[(t−1)d + k, td + k] = α_k`.
    public func logDensity(_ z: Tensor, steps n: Int, in graph: Graph) throws -> Tensor {
        let d = alphas.count, width = n * d, batch = z.shape[0]
        guard z.shape == [batch, width] else {
            throw ComputeError.invalidArgument(op: "AR1Prior", reason: "latents \(z.shape) are not [B, \(n) × \(d)]")
        }
        var shift = [Float](repeating: 0, count: width * width)
        for t in 1..<max(n, 1) {
            for k in 0..<d { shift[((t - 1) * d + k) * width + t * d + k] = Float(alphas[k]) }
        }
        let scales = (0..<width).map { e in e < d ? 1 : Float((1 - alphas[e % d] * alphas[e % d]).squareRoot()) }
        let conditional = DiagonalGaussian(mean: try graph.matmul(z, try graph.constant(shift, shape: [width, width])),
            scale: try graph.constant(Array((0..<batch).map { _ in scales }.joined()), shape: [batch, width]))
        return try conditional.logDensity(z, in: graph)
    }
}
