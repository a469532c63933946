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

    /// The filter as [co][ky][kx][ci] so each output channel's taps are contiguous (the filter's count at `out`).
    static func byOutputChannel(_ g: Conv2DGeometry, _ filter: UnsafeMutablePointer<Float>, into out: UnsafeMutablePointer<Float>) {
        let taps = g.kernelHeight * g.kernelWidth * g.inChannels
        for t in 0..<taps { for co in 0..<g.outChannels { out[co * taps + t] = filter[t * g.outChannels + co] } }
    }

    typealias V = SIMD16<Float>

    /// Pixels per block of the forward pass: one accumulator each, so that their multiply-adds
    /// are independent and each filter vector is loaded once for all of them.
    static let block = 8

    static func forward(_ g: Conv2DGeometry, input: UnsafeMutablePointer<Float>, filter: UnsafeMutablePointer<Float>,
        output: UnsafeMutablePointer<Float>) {
        let weights = ThreadScratch.current.take(Float.self, g.filterCount)
        defer { ThreadScratch.current.give(weights, g.filterCount) }
        byOutputChannel(g, filter, into: weights)
        let taps = g.kernelHeight * g.kernelWidth * g.inChannels
        let scratch = CPUConvPadded.Scratch(g, slack: 0)
        defer { scratch.giveBack() }
        let segment = g.kernelWidth * g.inChannels, rowStride = scratch.padded.width * g.inChannels
        let pixelStride = g.strideX * g.inChannels
        Parallel.forEachRange(g.batch, NarrowImages(g: g, scratch: scratch, input: input, output: output,
            w: weights, taps: taps, segment: segment, rowStride: rowStride, pixelStride: pixelStride))
    }

    /// Output images of a range: 8 adjacent pixels at a time dotted with each output channel's taps.
    struct NarrowImages: ParallelLoopBody {
        let g: Conv2DGeometry
        let scratch: CPUConvPadded.Scratch
        let input, output: UnsafeMutablePointer<Float>
        let w: UnsafePointer<Float>
        let taps, segment, rowStride, pixelStride: Int

        func callAsFunction(_ images: Range<Int>, _ worker: Int) {
            for n in images {
                let padded = scratch.image(n, of: input, worker: worker)
                for oy in 0..<g.outHeight {
                    var ox = 0
                    while ox < g.outWidth {
                        // A row's last block ends at its last pixel, recomputing a few pixels
                        // the same way; rows narrower than a block go pixel by pixel.
                        let (start, count) = g.outWidth >= block ? (min(ox, g.outWidth - block), block) : (ox, 1)
                        let patch = padded.patch(g, n: 0, oy: oy, ox: start)
                        let out = output + (((n * g.outHeight + oy) * g.outWidth) + start) * g.outChannels
                        for co in 0..<g.outChannels {
                            let filter = w + co * taps
                            if count == block {
                                dot8(patch, pixelStride: pixelStride, rowStride: rowStride, filter, rows: g.kernelHeight,
                                    segment: segment, into: out + co, outStride: g.outChannels)
                            } else {
                                var sum: Float = 0
                                for ky in 0..<g.kernelHeight {
                                    for j in 0..<segment { sum += patch[ky * rowStride + j] * filter[ky * segment + j] }
                                }
                                out[co] = sum
                            }
                        }
                        ox = start + count
                    }
                }
            }
        }
    }

    /// Eight adjacent patches (`pixelStride` apart; kernel rows `rowStride` apart, each a run of
    /// `segment` floats) dotted with one output channel's taps, written `outStride` apart.
    @inline(__always)
    static func dot8(_ patch: UnsafeMutablePointer<Float>, pixelStride s: Int, rowStride: Int, _ filter: UnsafePointer<Float>,
        rows: Int, segment: Int, into out: UnsafeMutablePointer<Float>, outStride: Int) {
        var (a0, a1, a2, a3, a4, a5, a6, a7) = (V(), V(), V(), V(), V(), V(), V(), V())
        var tails = SIMD8<Float>()
        let vectorEnd = segment - segment % 16
        for ky in 0..<rows {
            let (x, f) = (patch + ky * rowStride, filter + ky * segment)
            for j in stride(from: 0, to: vectorEnd, by: 16) {
                let wv = load16(f + j)
                a0.addProduct(load16(x + j), wv)
                a1.addProduct(load16(x + s + j), wv)
                a2.addProduct(load16(x + 2 * s + j), wv)
                a3.addProduct(load16(x + 3 * s + j), wv)
                a4.addProduct(load16(x + 4 * s + j), wv)
                a5.addProduct(load16(x + 5 * s + j), wv)
                a6.addProduct(load16(x + 6 * s + j), wv)
                a7.addProduct(load16(x + 7 * s + j), wv)
            }
            for j in vectorEnd..<segment {
                for p in 0..<8 { tails[p] += x[p * s + j] * f[j] }
            }
        }
        out[0] = a0.horizontalSum + tails[0]
        out[outStride] = a1.horizontalSum + tails[1]
        out[2 * outStride] = a2.horizontalSum + tails[2]
        out[3 * outStride] = a3.horizontalSum + tails[3]
        out[4 * outStride] = a4.horizontalSum + tails[4]
        out[5 * outStride] = a5.horizontalSum + tails[5]
        out[6 * outStride] = a6.horizontalSum + tails[6]
        out[7 * outStride] = a7.horizontalSum + tails[7]
    }

    static func backwardFilter(_ g: Conv2DGeometry, input: UnsafeMutablePointer<Float>, gradOutput: UnsafeMutablePointer<Float>,
        gradFilter: UnsafeMutablePointer<Float>) {
        let taps = g.kernelHeight * g.kernelWidth * g.inChannels
        let scratch = CPUConvPadded.Scratch(g, slack: 0)
        defer { scratch.giveBack() }
        let segment = g.kernelWidth * g.inChannels, rowStride = scratch.padded.width * g.inChannels
        let parts = min(Parallel.threads * Parallel.chunksPerWorker, g.batch)
        let partialCount = parts * taps * g.outChannels, partial = ThreadScratch.current.take(Float.self, partialCount)
        defer { ThreadScratch.current.give(partial, partialCount) }  // [part][co][tap]
        partial.update(repeating: 0, count: partialCount)
        Parallel.forEachRange(parts, NarrowFilterGradientParts(g: g, scratch: scratch, input: input,
            gradOutput: gradOutput, sums: partial, taps: taps, segment: segment, rowStride: rowStride, parts: parts))
        for t in 0..<taps {
            for co in 0..<g.outChannels {
                var sum: Float = 0
                for part in 0..<parts { sum += partial[(part * g.outChannels + co) * taps + t] }
                gradFilter[t * g.outChannels + co] = sum
            }
        }
    }

    /// Parts (fixed image ranges) of a range, each summed into its own partial gradient.
    struct NarrowFilterGradientParts: ParallelLoopBody {
        let g: Conv2DGeometry
        let scratch: CPUConvPadded.Scratch
        let input, gradOutput: UnsafeMutablePointer<Float>
        let sums: UnsafeMutablePointer<Float>
        let taps, segment, rowStride, parts: Int

        func callAsFunction(_ range: Range<Int>, _ worker: Int) {
            for part in range {
                let mine = sums + part * taps * g.outChannels
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

    /// into[0..<count] += Σ over the output pixels of the one padded image of grad[pixel·Cout] · patch[offset ..< offset+count],
    /// 128 floats at a time in eight register accumulators (independent multiply-add chains),
    /// then the rest 64 at a time in four.
    @inline(__always)
    static func accumulate(_ g: Conv2DGeometry, padded: CPUConvPadded, grad: UnsafeMutablePointer<Float>,
        offset: Int, count: Int, into sums: UnsafeMutablePointer<Float>) {
        var j = 0
        while count - j >= 128 {
            var (a0, a1, a2, a3, a4, a5, a6, a7) = (V(), V(), V(), V(), V(), V(), V(), V())
            for oy in 0..<g.outHeight {
                for ox in 0..<g.outWidth {
                    let s = V(repeating: grad[(oy * g.outWidth + ox) * g.outChannels])
                    let x = padded.patch(g, n: 0, oy: oy, ox: ox) + offset + j
                    a0.addProduct(s, load16(x)); a1.addProduct(s, load16(x + 16))
                    a2.addProduct(s, load16(x + 32)); a3.addProduct(s, load16(x + 48))
                    a4.addProduct(s, load16(x + 64)); a5.addProduct(s, load16(x + 80))
                    a6.addProduct(s, load16(x + 96)); a7.addProduct(s, load16(x + 112))
                }
            }
            let out = sums + j
            store16(load16(out) + a0, out); store16(load16(out + 16) + a1, out + 16)
            store16(load16(out + 32) + a2, out + 32); store16(load16(out + 48) + a3, out + 48)
            store16(load16(out + 64) + a4, out + 64); store16(load16(out + 80) + a5, out + 80)
            store16(load16(out + 96) + a6, out + 96); store16(load16(out + 112) + a7, out + 112)
            j += 128
        }
        while j < count {
            let lanes = min(64, count - j) / 16
            var s0 = V(), s1 = V(), s2 = V(), s3 = V()
            // fewer than 16 floats left: summed one by one into the first lanes of `tail`
            var tail = V()
            let tailCount = lanes == 0 ? count - j : 0
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
                        for t in 0..<tailCount { tail[t] += scale * x[t] }
                    }
                }
            }
            if lanes == 0 {
                for t in 0..<tailCount { sums[j + t] += tail[t] }
                j = count
            } else {
                let out = sums + j
                store16(load16(out) + s0, out)
                if lanes > 1 { store16(load16(out + 16) + s1, out + 16) }
                if lanes > 2 { store16(load16(out + 32) + s2, out + 32) }
                if lanes > 3 { store16(load16(out + 48) + s3, out + 48) }
                j += 16 * lanes
            }
        }
    }
}
