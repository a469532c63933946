import RDCompute

/// Seeded shuffled mini-batches: the order of an epoch is a Fisher–Yates permutation drawn
/// from the Philox stream of (seed, epoch), so a run resumed at an epoch sees the same batches.
public struct BatchSampler: Sendable {
    public let count: Int
    public let batchSize: Int
    public let seed: UInt64
    public let shuffle: Bool
    /// Drop a last batch smaller than `batchSize`.
    public let dropLast: Bool

    public init(count: Int, batchSize: Int, seed: UInt64, shuffle: Bool = true, dropLast: Bool = false) {
        precondition(batchSize > 0, "batch size must be positive")
        self.count = count
        self.batchSize = batchSize
        self.seed = seed
        self.shuffle = shuffle
        self.dropLast = dropLast
    }

    /// Philox stream of an epoch's permutation.
    static func stream(epoch: Int) -> UInt64 { 0x5F_0000_0000 | UInt64(truncatingIfNeeded: epoch) }

    /// The example order of `epoch` (identity when not shuffling).
    public func order(epoch: Int) -> [Int] {
        var order = Array(0..<count)
        guard shuffle, count > 1 else { return order }
        let key = Philox.key(seed: seed)
        let stream = Self.stream(epoch: epoch)
        for i in stride(from: count - 1, to: 0, by: -1) {
            let draw = UInt64(count - 1 - i)
            let word = Philox.block(counter: Philox.counter(block: draw / 4, stream: stream), key: key)[Int(draw % 4)]
            let j = Int((UInt64(word) * UInt64(i + 1)) >> 32)  // multiply-shift into 0...i
            order.swapAt(i, j)
        }
        return order
    }

    /// Batches of example indices for `epoch`.
    public func batches(epoch: Int) -> [ArraySlice<Int>] {
        let order = order(epoch: epoch)
        let end = dropLast ? count / batchSize * batchSize : count
        return stride(from: 0, to: end, by: batchSize).map { order[$0..<min($0 + batchSize, end)] }
    }

    public var batchesPerEpoch: Int { dropLast ? count / batchSize : (count + batchSize - 1) / batchSize }
}

extension Dataset {
    /// The images of `indices` as one `[batch, height, width, 1]` array, binarised as asked.
    public func batch<Indices: Collection>(_ indices: Indices, binarization: Binarization, seed: UInt64, epoch: Int)
        -> [Float] where Indices.Element == Int {
        let size = pixelsPerImage
        var out = [Float](repeating: 0, count: indices.count * size)
        for (slot, example) in indices.enumerated() {
            binarization.apply(bytes[(example * size)..<((example + 1) * size)], maximum: maximum, example: example,
                seed: seed, epoch: epoch, into: &out, at: slot * size)
        }
        return out
    }
}
