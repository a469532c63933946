import Foundation
import RDCompute

/// A diagonal Gaussian `N(mean, scale²)` of one latent layer, in the layer's own shape.
public struct DiagonalGaussian {
    public let mean: Tensor
    public let scale: Tensor

    public init(mean: Tensor, scale: Tensor) {
        self.mean = mean
        self.scale = scale
    }

    /// The same Gaussian `[B, D]`: a layer of any shape `[B, …]` flattened per example.
    public func flattened(in graph: Graph) throws -> DiagonalGaussian {
        let batch = mean.shape[0], d = mean.count / max(batch, 1)
        return DiagonalGaussian(mean: try graph.reshape(mean, [batch, d]), scale: try graph.reshape(scale, [batch, d]))
    }
}

extension DiagonalGaussian {
    /// This prior N(μp, σp²) merged by precision with a bottom-up estimate N(μ̂, σ̂²) (the
    /// LVAE's posterior; shapes equal, `variance` is σ̂²):
    ///
    ///     σq² = σ̂² σp² / (σ̂² + σp²),   μq = (μ̂ σp² + μp σ̂²) / (σ̂² + σp²).
    public func merged(estimate: Tensor, variance: Tensor, in graph: Graph) throws -> DiagonalGaussian {
        let priorVariance = try graph.unary(.square, scale)
        let total = try graph.add(variance, priorVariance)
        let mergedVariance = try graph.div(try graph.mul(variance, priorVariance), total)
        let weighted = try graph.add(try graph.mul(estimate, priorVariance), try graph.mul(mean, variance))
        return DiagonalGaussian(mean: try graph.div(weighted, total), scale: try graph.unary(.sqrt, mergedVariance))
    }
}

extension DiagonalGaussian {
    /// log N(z; μ, σ²) per row of `[B, D]` (this Gaussian flat `[B, D]` too):
    /// `Σ_j −½((z_j − μ_j)/σ_j)² − log σ_j − ½ log 2π`.
    public func logDensity(_ z: Tensor, in graph: Graph) throws -> Tensor {
        let standardised = try graph.div(try graph.sub(z, mean), scale)
        return try graph.sub(try graph.standardNormalLogDensity(standardised), try graph.sum(try graph.log(scale), axes: [1]))
    }

    /// KL(self ‖ other) per example and dimension `[B, D]` (both flat `[B, D]`):
    /// `ln σp − ln σq + (σq² + (μq − μp)²)/(2σp²) − ½`, for free bits; the per-example sum is
    /// the fused ``Graph/gaussianKL(meanQ:scaleQ:meanP:scaleP:)``.
    public func klPerDimension(to other: DiagonalGaussian, in graph: Graph) throws -> Tensor {
        let spread = try graph.add(try graph.unary(.square, scale), try graph.unary(.square, try graph.sub(mean, other.mean)))
        let ratio = try graph.div(spread, try graph.scale(try graph.unary(.square, other.scale), by: 2))
        let logs = try graph.sub(try graph.log(other.scale), try graph.log(scale))
        return try graph.sub(try graph.add(logs, ratio), try graph.scalar(0.5))
    }
}
