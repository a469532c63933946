import RDCompute

/// Direct convolution loops for layers with at most 4 output channels (a decoder's output
/// layer), where im2col would copy the input k² times for only a few multiply-adds per copy.
/// Vectorised over input channels; threads take images (forward) or images with private
/// filter-gradient sums that are added in a fixed order (backward-filter).
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

    /// acc += a[0..<n] · b[0..<n] lane-wise (full vectors), returning the scalar tail's sum.
    @inline(__always)
    static func accumulate(_ acc: inout V, _ a: UnsafePointer<Float>, _ b: UnsafePointer<Float>, _ n: Int) -> Float {
        var i = 0
        while i + 16 <= n {
            acc.addProduct(UnsafeRawPointer(a + i).loadUnaligned(as: V.self), UnsafeRawPointer(b + i).loadUnaligned(as: V.self))
            i += 16
        }
        var tail: Float = 0
        while i < n {
            tail += a[i] * b[i]
            i += 1
        }
        return tail
    }

    /// target[0..<n] += scale · x[0..<n].
    @inline(__always)
    static func axpy(_ target: UnsafeMutablePointer<Float>, _ scale: Float, _ x: UnsafePointer<Float>, _ n: Int) {
        var i = 0
        let s = V(repeating: scale)
        while i + 16 <= n {
            let t = UnsafeMutableRawPointer(target + i)
            t.storeBytes(of: t.loadUnaligned(as: V.self).addingProduct(s, UnsafeRawPointer(x + i).loadUnaligned(as: V.self)), as: V.self)
            i += 16
        }
        while i < n {
            target[i] += scale * x[i]
            i += 1
        }
    }

    static func forward(_ g: Conv2DGeometry, input: UnsafeMutablePointer<Float>, filter: UnsafeMutablePointer<Float>,
        output: UnsafeMutablePointer<Float>) {
        let weights = byOutputChannel(g, filter)
        let taps = g.kernelHeight * g.kernelWidth * g.inChannels
        let cin = g.inChannels
        weights.withUnsafeBufferPointer { w in
            let w = UnsafeSendable(w.baseAddress!)
            Parallel.forEachRange(g.batch * g.outHeight) { rows, _ in
                for row in rows {
                    let n = row / g.outHeight, oy = row % g.outHeight
                    for ox in 0..<g.outWidth {
                        let out = output + ((row * g.outWidth) + ox) * g.outChannels
                        for co in 0..<g.outChannels {
                            var acc = V()
                            var tail: Float = 0
                            for ky in 0..<g.kernelHeight {
                                let iy = oy * g.strideY - g.padTop + ky
                                guard iy >= 0 && iy < g.height else { continue }
                                for kx in 0..<g.kernelWidth {
                                    let ix = ox * g.strideX - g.padLeft + kx
                                    guard ix >= 0 && ix < g.width else { continue }
                                    tail += accumulate(&acc, input + ((n * g.height + iy) * g.width + ix) * cin,
                                        w.value + co * taps + (ky * g.kernelWidth + kx) * cin, cin)
                                }
                            }
                            out[co] = acc.sum() + tail
                        }
                    }
                }
            }
        }
    }

    static func backwardFilter(_ g: Conv2DGeometry, input: UnsafeMutablePointer<Float>, gradOutput: UnsafeMutablePointer<Float>,
        gradFilter: UnsafeMutablePointer<Float>) {
        let taps = g.kernelHeight * g.kernelWidth * g.inChannels
        let cin = g.inChannels
        let parts = min(Parallel.threads, g.batch)
        var partial = [Float](repeating: 0, count: parts * taps * g.outChannels)  // [part][co][tap]
        partial.withUnsafeMutableBufferPointer { sums in
            let sums = UnsafeSendable(sums.baseAddress!)
            Parallel.forEachRange(parts) { range, _ in
                for part in range {
                    let mine = sums.value + part * taps * g.outChannels
                    for n in (g.batch * part / parts)..<(g.batch * (part + 1) / parts) {
                        for oy in 0..<g.outHeight {
                            for ox in 0..<g.outWidth {
                                let grad = gradOutput + ((n * g.outHeight + oy) * g.outWidth + ox) * g.outChannels
                                for ky in 0..<g.kernelHeight {
                                    let iy = oy * g.strideY - g.padTop + ky
                                    guard iy >= 0 && iy < g.height else { continue }
                                    for kx in 0..<g.kernelWidth {
                                        let ix = ox * g.strideX - g.padLeft + kx
                                        guard ix >= 0 && ix < g.width else { continue }
                                        let pixel = input + ((n * g.height + iy) * g.width + ix) * cin
                                        for co in 0..<g.outChannels {
                                            axpy(mine + co * taps + (ky * g.kernelWidth + kx) * cin, grad[co], pixel, cin)
                                        }
                                    }
                                }
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
}
