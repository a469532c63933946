import Foundation
import RDCompute

/// The data of Alemi's toy model (App. E; seed-spec §7.1): a latent class z* ∈ {0, 1} with
/// P(z* = 0) = 0.7, h | z* ~ N(μ_z*, σ²) with μ₀ = 1/3, μ₁ = 2/3, σ = 0.0997370 (chosen so that
/// I(x; z*) = 0.5 nats), and x the bin of h among 30 bins of width 1/30 on [0, 1], the outer
/// bins taking the tails. The 30 probabilities p*(x) are exact ("effectively infinite
/// data"), so every expectation is a finite sum: H(x) = 3.018393 nats.
public struct ToyDistribution: RunData, Sendable {
    /// The `dataset` of a toy run's settings.
    public static let name = "alemi-toy-30"
    public static let bins = 30
    public static let classMass = [0.7, 0.3]
    public static let classMeans = [1.0 / 3, 2.0 / 3]
    public static let sigma = 0.0997370

    /// p*(x_j), j = 0..<30.
    public let probabilities: [Double]
    /// Full-batch steps that make one epoch.
    public let stepsPerEpoch: Int

    /// The distribution of App. E, or of other `classes` (mass, mean) with the same σ and bins.
    public init(stepsPerEpoch: Int = 100, classes: [(Double, Double)] = Array(zip(classMass, classMeans))) {
        self.stepsPerEpoch = stepsPerEpoch
        func cdf(_ t: Double) -> Double { 0.5 * erfc(-t / 2.0.squareRoot()) }
        let edges = (0...Self.bins).map { $0 == 0 ? -Double.infinity : $0 == Self.bins ? Double.infinity : Double($0) / Double(Self.bins) }
        probabilities = (0..<Self.bins).map { j in
            classes.reduce(0.0) { total, component in
                total + component.0 * (cdf((edges[j + 1] - component.1) / Self.sigma) - cdf((edges[j] - component.1) / Self.sigma))
            }
        }
    }

    /// H(x) = −Σ p* log p*, nats.
    public var entropy: Double { -probabilities.reduce(0) { $0 + ($1 > 0 ? $1 * Foundation.log($1) : 0) } }

    /// The bins' positions x̄_j = j/29, the model's input.
    public static var positions: [Float] { (0..<bins).map { Float($0) / Float(bins - 1) } }

    public var source: String { "the exact 30-bin distribution of Alemi App. E" }
    public var trainingExamples: Int { Self.bins }
    public var testExamples: Int { Self.bins }
    public var testBatchCount: Int { 1 }
    public func trainingBatch(epoch: Int, index: Int) -> HostBatch { HostBatch(values: Self.positions, shape: [Self.bins, 1]) }
    public func testBatch(_ index: Int) -> HostBatch { trainingBatch(epoch: 0, index: 0) }
}

/// The toy model of Alemi App. E (seed-spec §7.2): 30 latent states, 150 parameters.
///
///     e(z_i | x_j) ∝ exp −(w^e_i x̄_j − b^e_i)²     (normalised over i; 60 parameters)
///     d(x_j | z_i) ∝ exp −(w^d_j z̄_i − b^d_j)²     (normalised over j; 60 parameters)
///     m(z_i) = softmax(θ)_i                          (30 parameters)
///
/// with x̄_j = j/29, z̄_i = i/29. Rate and distortion are exact sums over the 30 × 30 pairs,
/// weighted by p*(x): `R = Σ_j p*_j Σ_i e_ij log(e_ij / π_i)`, `D = −Σ_j p*_j Σ_i e_ij log d_ji`.
/// A batch is the 30 bins (``ToyDistribution``); no noise is drawn.
public final class ToyModel: RateDistortionModel {
    public let spec: ModelSpec
    public let backend: any Backend
    let distribution: ToyDistribution
    let encoderWeight: Parameter, encoderBias: Parameter
    let decoderWeight: Parameter, decoderBias: Parameter
    let marginalLogits: Parameter

    public init(_ spec: ToySpec, backend: any Backend, seed: UInt64) throws {
        self.spec = .toy(spec)
        self.backend = backend
        distribution = ToyDistribution()
        let k = ToyDistribution.bins
        func make(_ name: String, _ shape: [Int], ordered: [Float]) throws -> Parameter {
            switch spec.initialization {
            case .random: try Initializer.standardNormal.make(name, shape: shape, backend: backend, seed: seed)
            case .ordered: Parameter(name: name, tensor: Tensor(shape: shape, buffer: try backend.makeBuffer(ordered), requiresGradient: true))
            }
        }
        let scale: Float = 10
        let centres = (0..<k).map { scale * Float($0) / Float(k - 1) }
        encoderWeight = try make("encoder.weight", [1, k], ordered: [Float](repeating: scale, count: k))
        encoderBias = try make("encoder.bias", [1, k], ordered: centres)
        decoderWeight = try make("decoder.weight", [k, 1], ordered: [Float](repeating: scale, count: k))
        decoderBias = try make("decoder.bias", [k, 1], ordered: centres)
        marginalLogits = try make("marginal.logits", [1, k], ordered: [Float](repeating: 0, count: k))
    }

    public var parameters: [Parameter] { [encoderWeight, encoderBias, decoderWeight, decoderBias, marginalLogits] }
    public var latentLayers: [String] { spec.latentLayers }
    public var testNoiseDescription: String { "none: the toy model's rate and distortion are exact sums over the 30 bins and 30 states" }

    /// log e(z|x) `[30 x, 30 z]`, log π `[1, 30]` and log d(x|z) `[30 x, 30 z]` on `graph`.
    func logTables(_ positions: Tensor, in graph: Graph) throws -> (encoder: Tensor, marginal: Tensor, decoder: Tensor) {
        let k = ToyDistribution.bins
        guard positions.shape == [k, 1] else {
            throw ComputeError.invalidArgument(op: "ToyModel", reason: "a batch is the \(k) bins as [\(k), 1], got \(positions.shape)")
        }
        func normalised(_ scores: Tensor, axis: Int) throws -> Tensor {
            let lse = try graph.logSumExp(scores, axis: axis)
            var kept = scores.shape
            kept[axis] = 1
            return try graph.sub(scores, try graph.reshape(lse, kept))
        }
        // −(w x̄ − b)²: rows x_j, columns z_i
        let encoderScores = try graph.scale(try graph.unary(.square,
            try graph.sub(try graph.mul(positions, encoderWeight.tensor), encoderBias.tensor)), by: -1)
        // rows x_j (the decoder's output), columns z_i: −(w_j z̄_i − b_j)², normalised over j
        let states = try graph.constant(ToyDistribution.positions, shape: [1, k])
        let decoderScores = try graph.scale(try graph.unary(.square,
            try graph.sub(try graph.mul(decoderWeight.tensor, states), decoderBias.tensor)), by: -1)
        return (try normalised(encoderScores, axis: 1), try normalised(marginalLogits.tensor, axis: 1),
            try normalised(decoderScores, axis: 0))
    }

    public func callAsFunction(_ batch: Tensor, in graph: Graph, seed: UInt64, noiseStream: UInt64) throws -> ModelOutput {
        let (logE, logPi, logD) = try logTables(batch, in: graph)
        let e = try graph.exp(logE)
        let rate = try graph.sum(try graph.mul(e, try graph.sub(logE, logPi)), axes: [1])
        let distortion = try graph.scale(try graph.sum(try graph.mul(e, logD), axes: [1]), by: -1)
        return ModelOutput(distortion: distortion, rates: [LayerRate(name: "z", rate: rate)],
            weights: try graph.constant(distribution.probabilities.map(Float.init), shape: [ToyDistribution.bins]), latent: e,
            importanceWeights: .unavailable("the toy model's likelihood is exact (log g(x) = log Σ_z m(z) d(x|z), in toy.json): no importance weighting is needed"))
    }

    /// The tables of Alemi Fig. 2, from the current parameters.
    public func diagnostics() throws -> ToyDiagnostics {
        let graph = Graph(backend: backend)
        let (logE, logPi, logD) = try logTables(try graph.constant(ToyDistribution.positions, shape: [ToyDistribution.bins, 1]),
            in: graph)
        return ToyDiagnostics(truth: distribution.probabilities, logEncoder: try graph.values(logE).map(Double.init),
            logMarginal: try graph.values(logPi).map(Double.init), logDecoder: try graph.values(logD).map(Double.init))
    }
}

/// The toy model's distributions, as in Alemi Fig. 2, computed in Double on the host.
public struct ToyDiagnostics: Codable, Equatable, Sendable {
    public let bins: Int
    /// p*(x).
    public let truth: [Double]
    /// g(x) = Σ_z m(z) d(x|z): the model's density of x.
    public let generative: [Double]
    /// e(z) = Σ_x p*(x) e(z|x): the aggregated posterior.
    public let aggregatePosterior: [Double]
    /// m(z) = π.
    public let marginal: [Double]
    /// e(z|x) by rows x.
    public let encoder: [[Double]]
    /// The reconstruction kernel Σ_z e(z|x) d(x'|z), rows x, columns x'.
    public let kernel: [[Double]]
    public let rate: Double
    public let distortion: Double
    /// H(x).
    public let entropy: Double
    /// I_e(X; Z) = Σ_x p*(x) Σ_z e(z|x) log(e(z|x) / e(z)), between H − D and R.
    public let mutualInformation: Double

    /// `logEncoder` and `logDecoder` are row-major `[x, z]` tables of log e(z|x) and log d(x|z).
    /// R and D are summed from the logs: a probability that underflows to 0 in `exp` still has
    /// its (large, finite) log.
    init(truth: [Double], logEncoder: [Double], logMarginal: [Double], logDecoder: [Double]) {
        let k = truth.count
        let e = logEncoder.map { Foundation.exp($0) }, pi = logMarginal.map { Foundation.exp($0) }
        let d = logDecoder.map { Foundation.exp($0) }
        bins = k
        self.truth = truth
        marginal = pi
        encoder = (0..<k).map { x in Array(e[(x * k)..<((x + 1) * k)]) }
        generative = (0..<k).map { x in (0..<k).reduce(0.0) { $0 + pi[$1] * d[x * k + $1] } }
        aggregatePosterior = (0..<k).map { z in (0..<k).reduce(0.0) { $0 + truth[$1] * e[$1 * k + z] } }
        kernel = (0..<k).map { x in (0..<k).map { x2 in (0..<k).reduce(0.0) { $0 + e[x * k + $1] * d[x2 * k + $1] } } }
        func term(_ p: Double, _ ratio: Double) -> Double { p > 0 ? p * Foundation.log(ratio) : 0 }
        var rate = 0.0, distortion = 0.0, information = 0.0
        for x in 0..<k {
            for z in 0..<k {
                let p = e[x * k + z]
                guard p > 0 else { continue }
                rate += truth[x] * p * (logEncoder[x * k + z] - logMarginal[z])
                distortion -= truth[x] * p * logDecoder[x * k + z]
                information += truth[x] * term(p, p / aggregatePosterior[z])
            }
        }
        self.rate = rate
        self.distortion = distortion
        mutualInformation = information
        entropy = -truth.reduce(0) { $0 + term($1, $1) }
    }

    /// The masses of e(z), largest first.
    public var clusterMasses: [Double] { aggregatePosterior.sorted(by: >) }
}
