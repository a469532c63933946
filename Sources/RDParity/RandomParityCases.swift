import RDCompute

/// Philox fills against the RDCompute reference generator: exact (tolerance 0), for any offset.
extension ParityCase {
    /// (count, offset): one block, partial blocks, a 64-bit offset.
    static let randomShapes: [(count: Int, offset: UInt64)] = [(1001, 0), (7, 6), (64, 4), (1, 3), (4099, 0x1_0000_0002)]
    static let randomSeed: UInt64 = 0xDEAD_BEEF_1234_5678, randomStream: UInt64 = 0x3_0000_0001

    public static var randomCases: [ParityCase] {
        randomShapes.flatMap { count, offset in
            // normal draws come in pairs: their offset is even
            let (uniformOffset, normalOffset) = (offset + offset % 2, offset - offset % 2)
            return [
                ParityCase(.randomUniform, name: "randomUniform n=\(count) offset \(uniformOffset)", tolerance: 0) { backend in
                    let out = try backend.makeBuffer(count: count)
                    try backend.randomUniform(out, seed: randomSeed, stream: randomStream, offset: uniformOffset)
                    let reference = Reference.philox(count: count, seed: randomSeed, stream: randomStream,
                        offset: uniformOffset, normal: false)
                    return (try backend.download(out), reference.map(Double.init))
                },
                ParityCase(.randomNormal, name: "randomNormal n=\(count) offset \(normalOffset)", tolerance: 0) { backend in
                    let out = try backend.makeBuffer(count: count)
                    try backend.randomNormal(out, seed: randomSeed, stream: randomStream, offset: normalOffset)
                    let reference = Reference.philox(count: count, seed: randomSeed, stream: randomStream,
                        offset: normalOffset, normal: true)
                    return (try backend.download(out), reference.map(Double.init))
                },
            ]
        }
    }
}

extension Reference {
    /// `count` Philox draws from element `offset` on: uniform in [0, 1), or standard normal by Box–Muller pairs.
    public static func philox(count: Int, seed: UInt64, stream: UInt64, offset: UInt64, normal: Bool) -> [Float] {
        (0..<count).map { i in
            let e = offset + UInt64(i)
            let w = Philox.block(counter: Philox.counter(block: e / 4, stream: stream), key: Philox.key(seed: seed))
            guard normal else { return Philox.uniform(w[Int(e % 4)]) }
            let pair = e % 4 < 2 ? Philox.normalPair(w[0], w[1]) : Philox.normalPair(w[2], w[3])
            return e % 2 == 0 ? pair.0 : pair.1
        }
    }
}
