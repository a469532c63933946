import Foundation
import RDCompute

/// A learned marginal m(z) for the rate log e(z|x) − log m(z) (the architecture's "marginal"
/// role); N(0, I) is the default and needs none.
public protocol LatentMarginal: ParameterContainer {
    /// log m(z) per example `[B]` of latents `[B, D]`.
    func logDensity(_ z: Tensor, in graph: Graph) throws -> Tensor
    /// `count` draws from m, for unconditional samples.
    func sample(count: Int, in graph: Graph, seed: UInt64, stream: UInt64) throws -> Tensor
    /// Whether m is a density of an IAF encoder's base sample z₀ rather than of z (the VampPrior
    /// built from the encoder); rates then use z₀ and samples go through the flow.
    var measuresFlowBase: Bool { get }
}

extension LatentMarginal {
    public var measuresFlowBase: Bool { false }
}

/// The mean-only MAF marginal (Alemi's "+" marginal, seed-spec §3.3): z is generated from
/// u ~ N(0, I) by `steps` autoregressive shifts y_i = x_i + m_t(y_{<i}) with the component order
/// reversed between steps. The density needs one MADE pass per step, x = y − m_t(y), and the
/// Jacobian is unit triangular, so log m(z) = log N(u; 0, I); sampling is sequential, one
/// pass per dimension and step.
public final class MAFMarginal: LatentMarginal {
    public let dimensions: Int
    let steps: [MADE]

    public init(dimensions: Int, steps: Int, hidden: [Int], backend: any Backend, seed: UInt64) throws {
        guard steps >= 1 else { throw ComputeError.invalidArgument(op: "MAFMarginal", reason: "flow steps must be at least 1, got \(steps)") }
        self.dimensions = dimensions
        self.steps = try (0..<steps).map { t in
            try MADE("marginal.maf\(t + 1)", dimensions: dimensions, hidden: hidden, backend: backend, seed: seed)
        }
    }

    public var parameters: [Parameter] { steps.flatMap(\.parameters) }

    /// The base variable u of latents z: the steps undone in reverse order, one pass each.
    public func base(of z: Tensor, in graph: Graph) throws -> Tensor {
        var v = z
        for t in steps.indices.reversed() {
            v = try graph.sub(v, try steps[t](v, in: graph))
            if t > 0 { v = try graph.reversingComponents(v) }
        }
        return v
    }

    public func logDensity(_ z: Tensor, in graph: Graph) throws -> Tensor {
        try graph.standardNormalLogDensity(try base(of: z, in: graph))
    }

    /// z from base draws u: per step, `dimensions` passes y ← x + m_t(y) (pass k fixes component k).
    public func generate(from u: Tensor, in graph: Graph) throws -> Tensor {
        var x = u
        for (t, made) in steps.enumerated() {
            if t > 0 { x = try graph.reversingComponents(x) }
            var y = x
            for _ in 0..<dimensions { y = try graph.add(x, try made(y, in: graph)) }
            x = y
        }
        return x
    }

    public func sample(count: Int, in graph: Graph, seed: UInt64, stream: UInt64) throws -> Tensor {
        try generate(from: try GaussianChannel.standardNormal(count: count, dimensions: dimensions, in: graph, seed: seed,
            stream: stream), in: graph)
    }
}
