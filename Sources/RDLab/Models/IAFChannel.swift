import Foundation
import RDCompute

/// The mean-only IAF encoder (Alemi's "+" encoder, seed-spec §3.2): the diagonal Gaussian
/// z₀ = μ + σ·ε of ``GaussianChannel``, then `steps` MADE shifts z_t = z_{t−1} + m_t(z_{t−1}),
/// the component order reversed between steps. Each step's Jacobian is unit triangular, so
/// log e(z_T|x) = log N(z₀; μ, σ²), and the rate is the single-sample Monte Carlo estimate
/// log e(z_T|x) − log N(z_T; 0, I) per example.
public final class IAFChannel: LatentChannel {
    public let latentDimension: Int
    /// The diagonal Gaussian heads (parameters `encoder.mean`, `encoder.scale`).
    let base: GaussianChannel
    let steps: [MADE]

    public init(latentDimension: Int, steps: Int, hidden: [Int], backend: any Backend, seed: UInt64) throws {
        guard steps >= 1 else { throw ComputeError.invalidArgument(op: "IAFChannel", reason: "flow steps must be at least 1, got \(steps)") }
        self.latentDimension = latentDimension
        base = try GaussianChannel(latentDimension: latentDimension, backend: backend, seed: seed)
        self.steps = try (0..<steps).map { t in
            try MADE("encoder.iaf\(t + 1)", dimensions: latentDimension, hidden: hidden, backend: backend, seed: seed)
        }
    }

    public var parameters: [Parameter] { base.parameters + steps.flatMap(\.parameters) }

    /// z_T from z₀ through the flow steps.
    public func flow(_ z0: Tensor, in graph: Graph) throws -> Tensor {
        var z = z0
        for (t, made) in steps.enumerated() {
            if t > 0 { z = try graph.reversingComponents(z) }
            z = try graph.add(z, try made(z, in: graph))
        }
        return z
    }

    public func callAsFunction(_ features: Tensor, in graph: Graph, seed: UInt64, stream: UInt64) throws -> ChannelOutput {
        let (_, sigma, epsilon, z0) = try base.reparameterised(features, in: graph, seed: seed, stream: stream)
        let z = try flow(z0, in: graph)
        let logPosterior = try GaussianChannel.logDensity(scale: sigma, epsilon: epsilon, in: graph)
        return ChannelOutput(latent: z, rate: try graph.sub(logPosterior, try graph.standardNormalLogDensity(z)),
            logPosterior: logPosterior, base: z0)
    }

    /// Draws from the marginal N(0, I).
    public func marginalSamples(count: Int, pool: Tensor, in graph: Graph, seed: UInt64, stream: UInt64) throws -> Tensor {
        try GaussianChannel.standardNormal(count: count, dimensions: latentDimension, in: graph, seed: seed, stream: stream)
    }

    public var testNoiseDescription: String {
        "test batches use their own reparameterised samples with fixed Philox streams per batch; the rate is a single-sample Monte Carlo estimate"
    }
}
