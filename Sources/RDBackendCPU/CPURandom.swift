import RDCompute

/// Philox fills on the CPU, threaded over blocks; the element → word mapping is ``Philox``'s.
enum CPURandom {
    static func uniform(_ out: UnsafeMutablePointer<Float>, count: Int, seed: UInt64, stream: UInt64, offset: UInt64) {
        Parallel.forEachRange(count, grain: 1 << 14,
            PhiloxFill(out: out, key: Philox.key(seed: seed), stream: stream, offset: offset, normal: false))
    }

    static func normal(_ out: UnsafeMutablePointer<Float>, count: Int, seed: UInt64, stream: UInt64, offset: UInt64) {
        Parallel.forEachRange(count, grain: 1 << 14,
            PhiloxFill(out: out, key: Philox.key(seed: seed), stream: stream, offset: offset, normal: true))
    }

    /// Writes elements `offset + i` for `i` in a range of `0..<count`: element e takes lane
    /// `e % 4` of the uniform or normal values made from block `e / 4`.
    struct PhiloxFill: ParallelLoopBody {
        let out: UnsafeMutablePointer<Float>
        let key: SIMD2<UInt32>
        let stream, offset: UInt64
        let normal: Bool

        func callAsFunction(_ range: Range<Int>, _ worker: Int) {
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

        /// The four floats of one block's words.
        @inline(__always)
        private func values(_ w: SIMD4<UInt32>) -> SIMD4<Float> {
            guard normal else {
                return SIMD4(Philox.uniform(w[0]), Philox.uniform(w[1]), Philox.uniform(w[2]), Philox.uniform(w[3]))
            }
            let (z0, z1) = Philox.normalPair(w[0], w[1])
            let (z2, z3) = Philox.normalPair(w[2], w[3])
            return SIMD4(z0, z1, z2, z3)
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
