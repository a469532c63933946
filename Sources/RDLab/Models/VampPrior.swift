import Foundation
import RDCompute

extension Graph {
    /// log Σ_j exp(x_ij) per row of `[R, N]` → `[R]`, shifted by the row maximum for range
    /// (the shift is a constant: the result does not depend on it, so no gradient flows there).
    func logSumExp(_ x: Tensor) throws -> Tensor {
        let rows = x.shape[0]
        let maxima = try buffer(count: rows)
        try backend.reduce(.max, x.buffer, shape: x.shape, axes: [1], output: maxima)
        let shift = Tensor(shape: [rows, 1], buffer: maxima)
        return try add(try log(try sum(try exp(try sub(x, shift)), axes: [1])), Tensor(shape: [rows], buffer: maxima))
    }

    /// min(max(x, 0), 1) = relu(x) − relu(x − 1).
    func hardTanhUnit(_ x: Tensor) throws -> Tensor {
        try sub(try relu(x), try relu(try sub(x, try scalar(1))))
    }
}

/// Alemi's VampPrior marginal (seed-spec §5): m(z) = Σ_i w_i e(z|φ_i) with learned mixture
/// weights w = softmax(ω) and learned pseudo-inputs φ_i = hardtanh₀¹(U_i) `[N, 28, 28, 1]`
/// that go through the model's own encoder, so log m(z) = logsumexp_i [log w_i +
/// log N(z; μ(φ_i), σ²(φ_i))]. With the IAF encoder the mixture is evaluated at the flow's
/// base sample z₀ (the mean-only steps have unit Jacobian; Echo's choice).
public final class VampPrior: LatentMarginal {
    public let components: Int
    let pseudoInputs: Parameter
    let mixtureLogits: Parameter
    /// The encoder's Gaussian heads of images `[N, 28, 28, 1]`: (μ, σ), each `[N, D]`.
    let heads: (Tensor, Graph) throws -> (mean: Tensor, scale: Tensor)

    /// Pseudo-inputs start at N(0.05, 0.01²) per pixel (Tomczak's scale, inside [0, 1] so that
    /// gradients reach them), mixture weights uniform.
    public init(components: Int, backend: any Backend, seed: UInt64,
        heads: @escaping (Tensor, Graph) throws -> (mean: Tensor, scale: Tensor)) throws {
        guard components >= 1 else {
            throw ComputeError.invalidArgument(op: "VampPrior", reason: "components must be at least 1, got \(components)")
        }
        self.components = components
        self.heads = heads
        let buffer = try backend.makeBuffer(count: components * 784)
        try backend.randomNormal(buffer, seed: seed, stream: Initializer.stream(for: "marginal.vamp.pseudo_inputs"), offset: 0)
        try backend.upload(try backend.download(buffer).map { 0.05 + 0.01 * $0 }, to: buffer)
        pseudoInputs = Parameter(name: "marginal.vamp.pseudo_inputs",
            tensor: Tensor(shape: [components, 28, 28, 1], buffer: buffer, requiresGradient: true))
        mixtureLogits = try Initializer.zeros.make("marginal.vamp.mixture_logits", shape: [1, components], backend: backend,
            seed: seed)
    }

    public var parameters: [Parameter] { [pseudoInputs, mixtureLogits] }

    public var measuresFlowBase: Bool { true }

    /// log w `[1, N]`.
    func logWeights(in graph: Graph) throws -> Tensor {
        let logits = mixtureLogits.tensor
        return try graph.sub(logits, try graph.reshape(try graph.logSumExp(logits), [1, 1]))
    }

    /// μ and σ of every component `[N, D]`.
    func componentHeads(in graph: Graph) throws -> (mean: Tensor, scale: Tensor) {
        try heads(try graph.hardTanhUnit(pseudoInputs.tensor), graph)
    }

    public func logDensity(_ z: Tensor, in graph: Graph) throws -> Tensor {
        let (b, d, n) = (z.shape[0], z.shape[1], components)
        let (mu, sigma) = try componentHeads(in: graph)
        let standardised = try graph.div(try graph.sub(try graph.reshape(z, [b, 1, d]), try graph.reshape(mu, [1, n, d])),
            try graph.reshape(sigma, [1, n, d]))
        let quadratic = try graph.scale(try graph.sum(try graph.unary(.square, standardised), axes: [2]), by: -0.5)
        let normaliser = try graph.add(try graph.sum(try graph.log(sigma), axes: [1]),
            try graph.scalar(Float(Double(d) * 0.5 * Foundation.log(2 * Double.pi))))
        let joint = try graph.add(try graph.sub(quadratic, try graph.reshape(normaliser, [1, n])), try logWeights(in: graph))
        return try graph.logSumExp(joint)
    }

    /// Component i ~ w (Philox), then z = μ_i + σ_i·ε.
    public func sample(count: Int, in graph: Graph, seed: UInt64, stream: UInt64) throws -> Tensor {
        let weights = try graph.values(try graph.exp(try logWeights(in: graph)))
        let (mu, sigma) = try componentHeads(in: graph)
        let means = try graph.values(mu), scales = try graph.values(sigma)
        let d = mu.shape[1]
        let epsilon = try graph.values(try GaussianChannel.standardNormal(count: count, dimensions: d, in: graph, seed: seed,
            stream: stream))
        var z = [Float](repeating: 0, count: count * d)
        for k in 0..<count {
            let u = BernoulliDraw.uniform(element: k, seed: seed, stream: stream &+ 1)
            var cumulative: Float = 0
            let i = weights.indices.first { cumulative += weights[$0]; return u < cumulative } ?? components - 1
            for j in 0..<d { z[k * d + j] = means[i * d + j] + scales[i * d + j] * epsilon[k * d + j] }
        }
        return try graph.constant(z, shape: [count, d])
    }
}
