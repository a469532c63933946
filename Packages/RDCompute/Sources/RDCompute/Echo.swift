import Foundation

/// Sizes of an Echo-noise op (seed-spec §2.4): `batch` examples of `dimensions` latents,
/// each example's noise summed over `terms` other batch members.
public struct EchoShape: Sendable, Equatable, CustomStringConvertible {
    public var batch: Int
    public var dimensions: Int
    public var terms: Int

    public init(batch: Int, dimensions: Int, terms: Int) {
        self.batch = batch
        self.dimensions = dimensions
        self.terms = terms
    }

    /// Elements of F, log s, E and Z.
    public var count: Int { batch * dimensions }
    /// 32-bit words of the packed index table (see ``EchoIndexTable/words``).
    public var indexWords: Int { 2 * batch * terms + batch + 1 }

    public var description: String { "B=\(batch) D=\(dimensions) d=\(terms)" }
}

/// The index table of one Echo noise draw: row i lists the batch members whose encodings
/// make example i's noise, in order. Generated on the host from the Philox stream, so both
/// backends see the same table for the same (seed, stream).
public struct EchoIndexTable: Sendable, Equatable {
    public let batch: Int
    public let terms: Int
    /// Row-major `[batch, terms]`.
    public let indices: [Int32]

    /// How rows are drawn.
    public enum Sampling: String, Sendable, Codable, CaseIterable {
        /// Each row a fresh random permutation of the other `batch − 1` members, truncated
        /// to `terms` (the paper's setting; needs `terms < batch`).
        case withoutReplacement = "without"
        /// Each entry uniform over all `batch` members, self included.
        case withReplacement = "with"
    }

    public init(batch: Int, terms: Int, indices: [Int32]) throws {
        guard batch >= 1, terms >= 0, indices.count == OpValidation.product(batch, terms),
            indices.allSatisfy({ $0 >= 0 && Int($0) < batch })
        else {
            throw ComputeError.invalidArgument(op: "EchoIndexTable",
                reason: "need batch ≥ 1, terms ≥ 0 and \(batch)×\(terms) indices in 0..<\(batch)")
        }
        self.batch = batch
        self.terms = terms
        self.indices = indices
    }

    /// Draws a table from Philox (seed, stream): row i uses counter blocks `i·⌈terms/4⌉ …`.
    /// Integers in 0..<m come from 32-bit words as `(word · m) >> 32` (bias below m/2³²).
    public static func random(batch: Int, terms: Int, sampling: Sampling, seed: UInt64, stream: UInt64) throws
        -> EchoIndexTable {
        if sampling == .withoutReplacement && terms > batch - 1 {
            throw ComputeError.invalidArgument(op: "EchoIndexTable",
                reason: "\(terms) terms without replacement need a batch of at least \(terms + 1), got \(batch)")
        }
        let key = Philox.key(seed: seed)
        let blocksPerRow = UInt64((max(batch, terms) + 3) / 4)
        var indices = [Int32](repeating: 0, count: batch * max(terms, 0))
        var others = [Int32](repeating: 0, count: max(batch - 1, 0))
        for i in 0..<batch {
            var block = UInt64(i) * blocksPerRow
            var words = SIMD4<UInt32>()
            var used = 4
            func next(below m: Int) -> Int {
                if used == 4 {
                    words = Philox.block(counter: Philox.counter(block: block, stream: stream), key: key)
                    block += 1
                    used = 0
                }
                defer { used += 1 }
                return Int((UInt64(words[used]) * UInt64(m)) >> 32)
            }
            switch sampling {
            case .withReplacement:
                for l in 0..<terms { indices[i * terms + l] = Int32(next(below: batch)) }
            case .withoutReplacement:
                // partial Fisher–Yates over the other members: position l takes a uniform pick of the rest
                for k in 0..<(batch - 1) { others[k] = Int32(k < i ? k : k + 1) }
                for l in 0..<terms {
                    let pick = l + next(below: batch - 1 - l)
                    others.swapAt(l, pick)
                    indices[i * terms + l] = others[l]
                }
            }
        }
        return try EchoIndexTable(batch: batch, terms: terms, indices: indices)
    }

    /// The words the echo ops read: the indices `[batch·terms]`, then the inverse lists as
    /// CSR, `start[batch + 1]` and `entries[batch·terms]`, where the entries of member k
    /// are the positions `i·terms + l` with `indices[i·terms + l] = k`, in increasing order
    /// (the backward pass gathers each member's gradient from them in this fixed order).
    public var words: [Int32] {
        var start = [Int32](repeating: 0, count: batch + 1)
        for k in indices { start[Int(k) + 1] += 1 }
        for k in 0..<batch { start[k + 1] += start[k] }
        var fill = Array(start[0..<batch])
        var entries = [Int32](repeating: 0, count: indices.count)
        for (position, k) in indices.enumerated() {
            entries[Int(fill[Int(k)])] = Int32(position)
            fill[Int(k)] += 1
        }
        return indices + start + entries
    }
}

/// The clip factor of a truncated Echo sum (seed-spec §2.2).
public enum EchoClip {
    /// The r in (0, 1) with `M·r^d / (1 − r) = 2⁻²³`: with |f| ≤ M and s ≤ r the omitted
    /// tail of a d-term sum is below float32 epsilon. Bisection to double precision.
    public static func factor(bound: Double = 1, terms: Int) -> Double {
        let target = 0x1p-23
        func tail(_ r: Double) -> Double { bound * Foundation.pow(r, Double(terms)) / (1 - r) }
        var low = 0.0, high = 1.0
        for _ in 0..<200 {
            let mid = (low + high) / 2
            if tail(mid) > target { high = mid } else { low = mid }
        }
        return low
    }

    /// The smallest possible exact rate, `−D·log r` nats: every latent pays at least −log r.
    public static func rateFloor(dimensions: Int, factor r: Double) -> Double { -Double(dimensions) * Foundation.log(r) }
}

extension OpValidation {
    public static func echo(_ shape: EchoShape, op: String, indices: DeviceBuffer, _ buffers: (DeviceBuffer, String)...) throws {
        try require(shape.batch >= 1 && shape.dimensions >= 1 && shape.terms >= 0, op, "invalid shape \(shape)")
        try count(indices, shape.indexWords, "indices", op)
        for (buffer, name) in buffers { try count(buffer, shape.count, name, op) }
    }
}
