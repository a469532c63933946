import RDCompute

/// Philox fills on the CPU, threaded over blocks; the element → word mapping is ``Philox``'s.
enum CPURandom {
    static func uniform(_ out: UnsafeMutablePointer<Float>, count: Int, seed: UInt64, stream: UInt64, offset: UInt64) {
        let key = Philox.key(seed: seed)
        Parallel.forEachRange(count, grain: 1 << 14) { range, _ in
            var i = range.lowerBound
            while i < range.upperBound {
                let element = offset &+ UInt64(i)
                let words = Philox.block(counter: Philox.counter(block: element / 4, stream: stream), key: key)
                var w = Int(element % 4)
                while w < 4 && i < range.upperBound {
                    out[i] = Philox.uniform(words[w])
                    w += 1
                    i += 1
                }
            }
        }
    }

    static func normal(_ out: UnsafeMutablePointer<Float>, count: Int, seed: UInt64, stream: UInt64, offset: UInt64) {
        let key = Philox.key(seed: seed)
        Parallel.forEachRange(count, grain: 1 << 14) { range, _ in
            var i = range.lowerBound
            while i < range.upperBound {
                let element = offset &+ UInt64(i)
                let words = Philox.block(counter: Philox.counter(block: element / 4, stream: stream), key: key)
                let (z0, z1) = Philox.normalPair(words[0], words[1])
                let (z2, z3) = Philox.normalPair(words[2], words[3])
                let values = SIMD4(z0, z1, z2, z3)
                var w = Int(element % 4)
                while w < 4 && i < range.upperBound {
                    out[i] = values[w]
                    w += 1
                    i += 1
                }
            }
        }
    }
}
