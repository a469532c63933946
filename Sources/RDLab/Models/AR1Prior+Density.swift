import Foundation
import RDCompute

extension AR1Prior {
    /// log p(z) per example `[B]` of latent sequences `[B, n·d]` (row-major in t) under the
    /// AR(1) prior:
    ///
    ///     log N(z_1; 0, I) + Σ_{t=2}^{n} log N(z_t; α ⊙ z_{t−1}, diag(1 − α²)),
    ///
    /// the conditional means α ⊙ z_{t−1} by a 2×1 convolution along the steps whose upper tap is
    /// diag(α) and lower tap 0 (padded one step above, so step 1's mean is 0).
    public func logDensity(_ z: Tensor, steps n: Int, in graph: Graph) throws -> Tensor {
        let d = alphas.count, width = n * d, batch = z.shape[0]
        guard z.shape == [batch, width] else {
            throw ComputeError.invalidArgument(op: "AR1Prior", reason: "latents \(z.shape) are not [B, \(n) × \(d)]")
        }
        var taps = [Float](repeating: 0, count: 2 * d * d)
        for k in 0..<d { taps[k * d + k] = Float(alphas[k]) }
        let means = try graph.conv2d(try graph.reshape(z, [batch, n, 1, d]), try graph.constant(taps, shape: [2, 1, d, d]),
            geometry: Conv2DGeometry(batch: batch, height: n, width: 1, inChannels: d, outChannels: d, kernelHeight: 2,
                kernelWidth: 1, padTop: 1))
        let scales = (0..<width).map { e in e < d ? 1 : Float((1 - alphas[e % d] * alphas[e % d]).squareRoot()) }
        let conditional = DiagonalGaussian(mean: try graph.reshape(means, [batch, width]),
            scale: try graph.constant(Array((0..<batch).map { _ in scales }.joined()), shape: [batch, width]))
        return try conditional.logDensity(z, in: graph)
    }
}
