import RDCompute

/// Direct convolution loops for layers with at most 4 output channels (a decoder's output
/// layer), where im2col would copy the input k² times for only a few multiply-adds per copy.
/// They read the zero-padded input (padded one image at a time into the worker's scratch),
/// where each kernel row of a patch is one contiguous run of `kw·C` floats, vectorised along
/// it; threads take images (forward) or images with private filter-gradient sums that are
/// added in a fixed order (backward-filter).
enum CPUConvNarrow {
    static let maxOutChannels = 4

    static func applies(_ g: Conv2DGeometry) -> Bool { g.outChannels <= maxOutChannels && g.inChannels >= 8 }

    /// The filter as [co][ky][kx][ci] so each output channel's taps are contiguous.
    static func byOutputChannel(_ g: Conv2DGeometry, _ filter: UnsafeMutablePointer<Float>) -> [Float] {
        let taps = g.kernelHeight * g.kernelWidth * g.inChannels
        var out = [Float](repeating: 0, count: taps * g.outChannels)
        for t in 0..<taps { for co in 0..<g.outChannels { out[co * taps + t] = filter[t * g.outChannels + co] } }
        return out
    }

    typealias V = SIMD16<Float>

    /// Four independent vector sums and a scalar tail, combined once at the end.
    struct DotAccumulator {
        var s0 = V(), s1 = V(), s2 = V(), s3 = V()
        var tail: Float = 0

        /// Adds a[0..<n] · b[0..<n].
        @inline(__always)
        mutating func add(_ a: UnsafePointer<Float>, _ b: UnsafePointer<Float>, _ n: Int) {
            var i = 0
            while i + 64 <= n {
                s0.addProduct(load16(a + i), load16(b + i))
                s1.addProduct(load16(a + i + 16), load16(b + i + 16))
                s2.addProduct(load16(a + i + 32), load16(b + i + 32))
                s3.addProduct(load16(a + i + 48), load16(b + i + 48))
                i += 64
            }
            if i + 32 <= n {
                s0.addProduct(load16(a + i), load16(b + i))
                s1.addProduct(load16(a + i + 16), load16(b + i + 16))
                i += 32
            }
            if i + 16 <= n {
                s2.addProduct(load16(a + i), load16(b + i))
                i += 16
            }
            while i < n {
                tail += a[i] * b[i]
                i += 1
            }
        }

        @inline(__always) var sum: Float { ((s0 + s1) + (s2 + s3)).horizontalSum + tail }
    }

    static func forward(_ g: Conv2DGeometry, input: UnsafeMutablePointer<Float>, filter: UnsafeMutablePointer<Float>,
        output: UnsafeMutablePointer<Float>) {
        let weights = byOutputChannel(g, filter)
        let taps = g.kernelHeight * g.kernelWidth * g.inChannels
        let scratch = CPUConvPadded.Scratch(g, slack: 0)
        defer { scratch.deallocate() }
        let segment = g.kernelWidth * g.inChannels, rowStride = scratch.padded.width * g.inChannels
        weights.withUnsafeBufferPointer { w in
            let w = UnsafeSendable(w.baseAddress!)
            Parallel.forEachRange(g.batch) { images, worker in
                for n in images {
                    let padded = scratch.image(n, of: input, worker: worker)
                    for oy in 0..<g.outHeight {
                        for ox in 0..<g.outWidth {
                            let patch = padded.patch(g, n: 0, oy: oy, ox: ox)
                            let out = output + (((n * g.outHeight + oy) * g.outWidth) + ox) * g.outChannels
                            for co in 0..<g.outChannels {
                                var sum = DotAccumulator()
                                for ky in 0..<g.kernelHeight {
                                    sum.add(patch + ky * rowStride, w.value + co * taps + ky * segment, segment)
                                }
                                out[co] = sum.sum
                            }
                        }
                    }
                }
            }
        }
    }

    static func backwardFilter(_ g: Conv2DGeometry, input: UnsafeMutablePointer<Float>, gradOutput: UnsafeMutablePointer<Float>,
        gradFilter: UnsafeMutablePointer<Float>) {
        let taps = g.kernelHeight * g.kernelWidth * g.inChannels
        let scratch = CPUConvPadded.Scratch(g, slack: 0)
        defer { scratch.deallocate() }
        let segment = g.kernelWidth * g.inChannels, rowStride = scratch.padded.width * g.inChannels
        let parts = min(Parallel.threads * Parallel.chunksPerWorker, g.batch)
        var partial = [Float](repeating: 0, count: parts * taps * g.outChannels)  // [part][co][tap]
        partial.withUnsafeMutableBufferPointer { sums in
            let sums = UnsafeSendable(sums.baseAddress!)
            Parallel.forEachRange(parts) { range, worker in
                for part in range {
                    let mine = sums.value + part * taps * g.outChannels
                    for n in (g.batch * part / parts)..<(g.batch * (part + 1) / parts) {
                        let padded = scratch.image(n, of: input, worker: worker)
                        let grad = gradOutput + n * g.outHeight * g.outWidth * g.outChannels
                        for co in 0..<g.outChannels {
                            for ky in 0..<g.kernelHeight {
                                accumulate(g, padded: padded, grad: grad + co, offset: ky * rowStride,
                                    count: segment, into: mine + co * taps + ky * segment)
                            }
                        }
                    }
                }
            }
        }
        for t in 0..<taps {
            for co in 0..<g.outChannels {
                var sum: Float = 0
                for part in 0..<parts { sum += partial[(part * g.outChannels + co) * taps + t] }
                gradFilter[t * g.outChannels + co] = sum
            }
        }
    }

    /// into[0..<count] += Σ over the output pixels of the one padded image of grad[pixel·Cout] · patch[offset ..< offset+count],
    /// 64 floats at a time in four register accumulators.
    @inline(__always)
    static func accumulate(_ g: Conv2DGeometry, padded: CPUConvPadded, grad: UnsafeMutablePointer<Float>,
        offset: Int, count: Int, into sums: UnsafeMutablePointer<Float>) {
        var j = 0
        while j < count {
            let lanes = min(64, count - j) / 16
            var s0 = V(), s1 = V(), s2 = V(), s3 = V()
            var tail = [Float](repeating: 0, count: lanes == 0 ? count - j : 0)
            for oy in 0..<g.outHeight {
                for ox in 0..<g.outWidth {
                    let scale = grad[(oy * g.outWidth + ox) * g.outChannels]
                    let x = padded.patch(g, n: 0, oy: oy, ox: ox) + offset + j
                    if lanes == 4 {
                        let s = V(repeating: scale)
                        s0.addProduct(s, load16(x)); s1.addProduct(s, load16(x + 16))
                        s2.addProduct(s, load16(x + 32)); s3.addProduct(s, load16(x + 48))
                    } else if lanes > 0 {
                        let s = V(repeating: scale)
                        s0.addProduct(s, load16(x))
                        if lanes > 1 { s1.addProduct(s, load16(x + 16)) }
                        if lanes > 2 { s2.addProduct(s, load16(x + 32)) }
                    } else {
                        for t in 0..<tail.count { tail[t] += scale * x[t] }
                    }
                }
            }
            if lanes == 0 {
                for t in 0..<tail.count { sums[j + t] += tail[t] }
                j = count
            } else {
                for (q, v) in [s0, s1, s2, s3].prefix(lanes).enumerated() { store16(load16(sums + j + 16 * q) + v, sums + j + 16 * q) }
                j += 16 * lanes
            }
        }
    }
}
