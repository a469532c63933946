import RDCompute

/// Philox fills on the CPU, threaded over blocks; the element → word mapping is ``Philox``'s.
enum CPURandom {
    static func uniform(_ out: UnsafeMutablePointer<Float>, count: Int, seed: UInt64, stream: UInt64, offset: UInt64) {
        fill(out, count: count, seed: seed, stream: stream, offset: offset) { w in
            SIMD4(Philox.uniform(w[0]), Philox.uniform(w[1]), Philox.uniform(w[2]), Philox.uniform(w[3]))
        }
    }

    static func normal(_ out: UnsafeMutablePointer<Float>, count: Int, seed: UInt64, stream: UInt64, offset: UInt64) {
        fill(out, count: count, seed: seed, stream: stream, offset: offset) { w in
            let (z0, z1) = Philox.normalPair(w[0], w[1])
            let (z2, z3) = Philox.normalPair(w[2], w[3])
            return SIMD4(z0, z1, z2, z3)
        }
    }

    /// Writes elements `offset ..< offset + count`: element e takes lane `e % 4` of the values
    /// made from block `e / 4`.
    static func fill(_ out: UnsafeMutablePointer<Float>, count: Int, seed: UInt64, stream: UInt64, offset: UInt64,
        values: (SIMD4<UInt32>) -> SIMD4<Float>) {
        let key = Philox.key(seed: seed)
        Parallel.forEachRange(count, grain: 1 << 14) { range, _ in
            var i = range.lowerBound
            while i < range.upperBound {
                let element = offset &+ UInt64(i)
                let block = values(Philox.block(counter: Philox.counter(block: element / 4, stream: stream), key: key))
                var lane = Int(element % 4)
                while lane < 4 && i < range.upperBound {
                    out[i] = block[lane]
                    lane += 1
                    i += 1
                }
            }
        }
    }
}

// MARK: Random numbers on the CPU backend

extension CPUBackend {
    public func randomUniform(_ buffer: DeviceBuffer, seed: UInt64, stream: UInt64, offset: UInt64) throws {
        CPURandom.uniform(try pointer(buffer), count: buffer.count, seed: seed, stream: stream, offset: offset)
    }

    public func randomNormal(_ buffer: DeviceBuffer, seed: UInt64, stream: UInt64, offset: UInt64) throws {
        try OpValidation.randomOffset(offset)
        CPURandom.normal(try pointer(buffer), count: buffer.count, seed: seed, stream: stream, offset: offset)
    }
}
