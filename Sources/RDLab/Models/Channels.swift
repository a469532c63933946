import Foundation
import RDCompute

/// What a channel gives for a batch: the latent to decode and the rate each example pays.
public struct ChannelOutput {
    /// `[B, D]`.
    public let latent: Tensor
    /// Nats per example `[B]`: KL to the prior (Gaussian) or the exact rate (Echo).
    public let rate: Tensor
    /// log e(z|x) per example `[B]` for channels with an encoder density (Gaussian, IAF), so a
    /// learned marginal m can replace N(0, I): rate = log e(z|x) − log m(z).
    public var logPosterior: Tensor? = nil
    /// The flow's base sample z₀ `[B, D]` of an IAF encoder (log e(z|x) = log N(z₀; μ, σ²)).
    public var base: Tensor? = nil
    /// The rate per example and latent dimension `[B, D]`, where the rate is such a sum
    /// (analytic KL, Echo), computed on demand (free bits).
    public var perDimensionRate: (() throws -> Tensor)? = nil
}

extension Graph {
    /// `z` `[B, D]` with the order of its D components reversed (a product with the
    /// anti-diagonal permutation): the permutation between flow steps.
    func reversingComponents(_ z: Tensor) throws -> Tensor {
        let d = z.shape[1]
        return try matmul(z, try constant((0..<(d * d)).map { e in e / d + e % d == d - 1 ? 1 : 0 }, shape: [d, d]))
    }

    /// N(0, 1) draws of `shape` from elements `offset ..< offset + count` of Philox (seed,
    /// stream); `offset` even.
    func standardNormal(_ shape: [Int], seed: UInt64, stream: UInt64, offset: UInt64 = 0) throws -> Tensor {
        let noise = try buffer(count: Broadcast.count(shape))
        try backend.randomNormal(noise, seed: seed, stream: stream, offset: offset)
        return Tensor(shape: shape, buffer: noise)
    }

    /// Σ_j −½x_j² − ½ log 2π per row of `[B, D]`: the log-density of N(0, I) → `[B]`.
    func standardNormalLogDensity(_ x: Tensor) throws -> Tensor {
        let d = x.shape[1]
        return try sub(try sum(try scale(try unary(.square, x), by: -0.5), axes: [1]),
            try scalar(Float(Double(d) * 0.5 * Foundation.log(2 * Double.pi))))
    }
}

/// The noisy channel between the encoder's 256 features and the latent (the architecture's
/// "channel" role): its heads' parameters, the noisy latent, and the rate.
public protocol LatentChannel: ParameterContainer {
    var latentDimension: Int { get }
    /// Latents and rates of a batch of features `[B, 256]`, noise from Philox (seed, stream).
    func callAsFunction(_ features: Tensor, in graph: Graph, seed: UInt64, stream: UInt64) throws -> ChannelOutput
    /// `count` latents from the channel's marginal, for unconditional samples; `pool` holds
    /// features of data examples for channels whose marginal is built from data.
    func marginalSamples(count: Int, pool: Tensor, in graph: Graph, seed: UInt64, stream: UInt64) throws -> Tensor
    /// What a run's config says about how test batches get their noise.
    var testNoiseDescription: String { get }
    /// The smallest rate the channel can report, in nats, where it has one (Echo, δ-VAE).
    var rateFloor: Double? { get }
}

extension LatentChannel {
    public var rateFloor: Double? { nil }
}

/// The diagonal Gaussian encoder e(z|x) = N(μ, σ²), σ = softplus(a) + 1e-6 (a standard
/// deviation), reparameterised z = μ + σ·ε, and the analytic KL to N(0, I).
public final class GaussianChannel: LatentChannel {
    public let latentDimension: Int
    let mean: Dense
    let scale: Dense

    public init(latentDimension: Int, backend: any Backend, seed: UInt64) throws {
        self.latentDimension = latentDimension
        mean = try Dense("encoder.mean", inputs: 256, outputs: latentDimension, backend: backend, seed: seed)
        scale = try Dense("encoder.scale", inputs: 256, outputs: latentDimension, activation: .softplus, backend: backend,
            seed: seed)
    }

    public var parameters: [Parameter] { mean.parameters + scale.parameters }

    /// μ and σ `[B, D]` of a batch of features.
    func heads(_ features: Tensor, in graph: Graph) throws -> (mean: Tensor, scale: Tensor) {
        (try mean(features, in: graph), try graph.add(try scale(features, in: graph), try graph.scalar(1e-6)))
    }

    /// μ, σ, the standard-normal draw ε and z = μ + σ·ε of a batch of features.
    func reparameterised(_ features: Tensor, in graph: Graph, seed: UInt64, stream: UInt64) throws
        -> (mean: Tensor, scale: Tensor, epsilon: Tensor, z: Tensor) {
        let (mu, sigma) = try heads(features, in: graph)
        let (epsilon, z) = try Self.draw(mean: mu, scale: sigma, in: graph, seed: seed, stream: stream)
        return (mu, sigma, epsilon, z)
    }

    /// ε ~ N(0, I) from Philox (seed, stream) and z = μ + σ·ε.
    static func draw(mean mu: Tensor, scale sigma: Tensor, in graph: Graph, seed: UInt64, stream: UInt64) throws
        -> (epsilon: Tensor, z: Tensor) {
        let epsilon = try graph.standardNormal(mu.shape, seed: seed, stream: stream)
        return (epsilon, try graph.add(mu, try graph.mul(sigma, epsilon)))
    }

    public func callAsFunction(_ features: Tensor, in graph: Graph, seed: UInt64, stream: UInt64) throws -> ChannelOutput {
        let (mu, sigma) = try heads(features, in: graph)
        return try Self.output(mean: mu, scale: sigma, in: graph, seed: seed, stream: stream)
    }

    /// A draw z = μ + σ·ε of e(z|x) = N(μ, σ²) `[B, D]` with its analytic KL to N(0, I) as the
    /// rate, log e(z|x) (for IWAE and learned marginals) and the KL per dimension (free bits).
    static func output(mean mu: Tensor, scale sigma: Tensor, in graph: Graph, seed: UInt64, stream: UInt64) throws
        -> ChannelOutput {
        let (epsilon, z) = try draw(mean: mu, scale: sigma, in: graph, seed: seed, stream: stream)
        return ChannelOutput(latent: z, rate: try graph.gaussianKL(mean: mu, scale: sigma),
            logPosterior: try logDensity(scale: sigma, epsilon: epsilon, in: graph)) {
            // ½(μ² + σ² − 1) − ln σ per dimension
            let squares = try graph.add(try graph.unary(.square, mu), try graph.unary(.square, sigma))
            return try graph.sub(try graph.scale(try graph.sub(squares, try graph.scalar(1)), by: 0.5), try graph.log(sigma))
        }
    }

    /// log N(μ + σε; μ, σ²) = Σ_j −½ε_j² − log σ_j − ½ log 2π per example.
    static func logDensity(scale sigma: Tensor, epsilon: Tensor, in graph: Graph) throws -> Tensor {
        try graph.sub(try graph.standardNormalLogDensity(epsilon), try graph.sum(try graph.log(sigma), axes: [1]))
    }

    /// Draws from the prior N(0, I), the marginal the KL rate measures against.
    public func marginalSamples(count: Int, pool: Tensor, in graph: Graph, seed: UInt64, stream: UInt64) throws -> Tensor {
        try Self.standardNormal(count: count, dimensions: latentDimension, in: graph, seed: seed, stream: stream)
    }

    /// `count` draws from N(0, I) in `dimensions` dimensions.
    static func standardNormal(count: Int, dimensions: Int, in graph: Graph, seed: UInt64, stream: UInt64) throws -> Tensor {
        try graph.standardNormal([count, dimensions], seed: seed, stream: stream)
    }

    public var testNoiseDescription: String {
        "test batches use their own reparameterised samples with fixed Philox streams per batch"
    }
}

/// The Echo channel (seed-spec §2): f(x) = tanh(a/16), log s = log r + log σ(b) with the clip r
/// solved for `terms`, z = f + s ⊙ ε with ε built from the other members of the batch, and the
/// exact rate `−Σ_j log s_j` per example (its floor is `−D log r`).
public final class EchoChannel: LatentChannel {
    public let latentDimension: Int
    /// Terms of the noise sum (d); batches smaller than d + 1 use B − 1 without replacement.
    public let terms: Int
    public let sampling: EchoIndexTable.Sampling
    /// The clip factor r.
    public let clip: Double
    let f: Dense
    let scaleLogit: Dense

    public init(latentDimension: Int, terms: Int, sampling: EchoIndexTable.Sampling, backend: any Backend, seed: UInt64) throws {
        guard terms >= 1 else {
            throw ComputeError.invalidArgument(op: "EchoChannel", reason: "echo terms must be at least 1, got \(terms)")
        }
        self.latentDimension = latentDimension
        self.terms = terms
        self.sampling = sampling
        clip = EchoClip.factor(bound: 1, terms: terms)
        f = try Dense("encoder.echo_f", inputs: 256, outputs: latentDimension, backend: backend, seed: seed)
        scaleLogit = try Dense("encoder.echo_scale", inputs: 256, outputs: latentDimension, backend: backend, seed: seed)
    }

    public var parameters: [Parameter] { f.parameters + scaleLogit.parameters }

    /// The smallest rate this channel can report, −D·log r nats.
    public var rateFloor: Double? { EchoClip.rateFloor(dimensions: latentDimension, factor: clip) }

    /// f(x) and log s(x) of a batch of features.
    func heads(_ features: Tensor, in graph: Graph) throws -> (f: Tensor, logScale: Tensor) {
        let fx = try graph.tanh(try graph.scale(try f(features, in: graph), by: 1.0 / 16))
        let logScale = try graph.add(try graph.unary(.logSigmoid, try scaleLogit(features, in: graph)),
            try graph.scalar(Float(Foundation.log(clip))))
        return (fx, logScale)
    }

    func table(batch: Int, seed: UInt64, stream: UInt64) throws -> EchoIndexTable {
        let usable = sampling == .withoutReplacement ? min(terms, batch - 1) : terms
        return try EchoIndexTable.random(batch: batch, terms: usable, sampling: sampling, seed: seed, stream: stream)
    }

    public func callAsFunction(_ features: Tensor, in graph: Graph, seed: UInt64, stream: UInt64) throws -> ChannelOutput {
        let (fx, logScale) = try heads(features, in: graph)
        let (z, _) = try graph.echo(f: fx, logScale: logScale,
            table: try table(batch: features.shape[0], seed: seed, stream: stream))
        let rate = try graph.scale(try graph.sum(logScale, axes: [1]), by: -1)
        return ChannelOutput(latent: z, rate: rate) { try graph.scale(logScale, by: -1) }
    }

    /// Echo noise of the pool's examples: by Lemma 2.1 it has the distribution of z.
    public func marginalSamples(count: Int, pool: Tensor, in graph: Graph, seed: UInt64, stream: UInt64) throws -> Tensor {
        let (fx, logScale) = try heads(pool, in: graph)
        let (_, noise) = try graph.echo(f: fx, logScale: logScale, table: try table(batch: pool.shape[0], seed: seed, stream: stream))
        let values = try graph.values(noise)
        return try graph.constant(Array(values.prefix(count * latentDimension)), shape: [count, latentDimension])
    }

    public var testNoiseDescription: String {
        "echo noise of each test batch is built from the other members of that batch (\(sampling.rawValue) replacement, up to \(terms) terms), as in the paper"
    }
}
