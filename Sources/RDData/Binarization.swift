import RDCompute

/// How grey images become the binary targets of a Bernoulli decoder.
public enum Binarization: String, Sendable, CaseIterable {
    /// A fresh Bernoulli(grey) draw per example and epoch, from the Philox stream.
    case dynamic
    /// 1 where grey ≥ 0.5 (HIT's rounding).
    case threshold
    /// Keep the values (already binary, or grey targets).
    case none

    /// The binarisation a run's settings name (`config.json` keeps it as text).
    public init(named name: String) throws {
        guard let value = Binarization(rawValue: name) else {
            throw DataError.unknownBinarization(name: name, valid: Self.allCases.map(\.rawValue))
        }
        self = value
    }

    /// Philox stream of the dynamic draws of an epoch; other users of the seed keep clear of it.
    static func stream(epoch: Int) -> UInt64 { 0xB1_0000_0000 | UInt64(truncatingIfNeeded: epoch) }

    /// Binarises image `example` (its pixel bytes, value = byte / `maximum`) into `out`. A
    /// dynamic draw depends only on (seed, epoch, example, pixel), not on batching: element
    /// `example · pixels + j` of the epoch's stream.
    public func apply(_ bytes: ArraySlice<UInt8>, maximum: UInt8, example: Int, seed: UInt64, epoch: Int,
        into out: inout [Float], at offset: Int) {
        let scale = 1 / Float(maximum)
        let grey = bytes.lazy.map { Float($0) * scale }
        switch self {
        case .none:
            for (j, v) in grey.enumerated() { out[offset + j] = v }
        case .threshold:
            for (j, v) in grey.enumerated() { out[offset + j] = v >= 0.5 ? 1 : 0 }
        case .dynamic:
            let key = Philox.key(seed: seed)
            let stream = Self.stream(epoch: epoch)
            let base = UInt64(example) * UInt64(bytes.count)
            var block = SIMD4<UInt32>()
            var blockIndex = UInt64.max
            for (j, v) in grey.enumerated() {
                let element = base + UInt64(j)
                if element / 4 != blockIndex {
                    blockIndex = element / 4
                    block = Philox.block(counter: Philox.counter(block: blockIndex, stream: stream), key: key)
                }
                out[offset + j] = Philox.uniform(block[Int(element % 4)]) < v ? 1 : 0
            }
        }
    }
}
