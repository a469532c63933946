import Foundation
import RDCompute

/// The decoder role d(x|z): Bernoulli logits of binary 28×28 images given latents.
public protocol LatentDecoder: ParameterContainer {
    var latentDimension: Int { get }
    /// Whether logit (i, j) reads the pixels of `images` before (i, j): sampling is then sequential.
    var isAutoregressive: Bool { get }
    /// Logits `[B, 28, 28, 1]` of `images` `[B, 28, 28, 1]` given `z` `[B, D]` (an
    /// autoregressive decoder conditions each pixel on its predecessors; others ignore `images`).
    func logits(_ z: Tensor, images: Tensor, in graph: Graph) throws -> Tensor
    /// One image per row of `z` drawn from d(x|z), and each pixel's probability where it was drawn.
    func sample(_ z: Tensor, backend: any Backend, seed: UInt64, stream: UInt64) throws -> (draws: [Float], probabilities: [Float])
}

/// Bernoulli draws from Philox: element e uses word e mod 4 of block ⌊e/4⌋ of (seed, stream).
public enum BernoulliDraw {
    public static func uniform(element e: Int, seed: UInt64, stream: UInt64) -> Float {
        let words = Philox.block(counter: Philox.counter(block: UInt64(e / 4), stream: stream), key: Philox.key(seed: seed))
        return Philox.uniform(words[e % 4])
    }
}

extension DeconvDecoder: LatentDecoder {
    public var isAutoregressive: Bool { false }

    public func logits(_ z: Tensor, images: Tensor, in graph: Graph) throws -> Tensor { try self(z, in: graph) }

    public func sample(_ z: Tensor, backend: any Backend, seed: UInt64, stream: UInt64) throws
        -> (draws: [Float], probabilities: [Float]) {
        let graph = Graph(backend: backend)
        let probabilities = try graph.values(try graph.sigmoid(try self(z, in: graph)))
        return (probabilities.indices.map { e in BernoulliDraw.uniform(element: e, seed: seed, stream: stream) < probabilities[e] ? 1 : 0 },
            probabilities)
    }
}
