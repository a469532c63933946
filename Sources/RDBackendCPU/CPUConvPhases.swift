import RDCompute

/// Backward-data of a strided convolution (the forward pass of a strided transposed conv)
/// as `sy·sx` stride-1 implicit GEMMs, one per output phase, instead of GEMM + col2im.
///
/// Input row `iy` receives kernel taps `ky ≡ (iy + padTop) mod sy` only: for phase
/// `ry = (iy + padTop) mod sy` the taps are `ry + sy·t` and the output rows
/// `qy − t` with `qy = (iy + padTop − ry) / sy`, a stride-1 correlation of the output
/// gradient with the phase's sub-filter, flipped. Each phase pads the output gradient by
/// `T − 1` (T = its tap count) so every patch is in bounds, gathers patches in place like
/// ``CPUConvImplicit``, and writes its input rows directly: no scatter, no zero fill.
enum CPUConvPhases {
    static func applies(_ g: Conv2DGeometry) -> Bool {
        (g.strideY > 1 || g.strideX > 1) && g.inChannels >= 16
    }

    /// One phase along an axis: its residue, tap count and the first input index and count it covers.
    struct Phase {
        let residue: Int, taps: Int, first: Int, count: Int
        /// The output-gradient index of the phase's first input index.
        let firstQ: Int

        init(residue: Int, kernel: Int, stride: Int, pad: Int, size: Int) {
            self.residue = residue
            taps = residue < kernel ? (kernel - residue + stride - 1) / stride : 0
            first = ((residue - pad) % stride + stride) % stride
            count = first < size ? (size - first + stride - 1) / stride : 0
            firstQ = (first + pad - residue) / stride
        }
    }

    static func backwardData(_ g: Conv2DGeometry, gradOutput: UnsafeMutablePointer<Float>,
        filter: UnsafeMutablePointer<Float>, gradInput: UnsafeMutablePointer<Float>) {
        let nr = CPUGemm.nr, mr = CPUGemm.mr
        let cin = g.inChannels, cout = g.outChannels
        for ry in 0..<g.strideY {
            let py = Phase(residue: ry, kernel: g.kernelHeight, stride: g.strideY, pad: g.padTop, size: g.height)
            for rx in 0..<g.strideX {
                let px = Phase(residue: rx, kernel: g.kernelWidth, stride: g.strideX, pad: g.padLeft, size: g.width)
                guard py.count > 0, px.count > 0 else { continue }
                guard py.taps > 0, px.taps > 0 else {
                    zero(g, py, px, gradInput)
                    continue
                }
                // The phase as a stride-1 conv over the output gradient (channels cout → cin).
                let lastQy = py.firstQ + py.count - 1, lastQx = px.firstQ + px.count - 1
                let pg = Conv2DGeometry(batch: g.batch, height: g.outHeight, width: g.outWidth, inChannels: cout,
                    outChannels: cin, kernelHeight: py.taps, kernelWidth: px.taps, padTop: py.taps - 1,
                    padBottom: max(0, lastQy - g.outHeight + 1), padLeft: px.taps - 1,
                    padRight: max(0, lastQx - g.outWidth + 1))
                let padded = CPUConvPadded(pg, input: gradOutput, slack: (mr + px.taps) * cout)
                defer { padded.deallocate() }
                // Sub-filter [t'y][t'x][co] × cin, flipped: t' = T − 1 − t.
                let depth = py.taps * px.taps * cout
                let subFilter = UnsafeMutablePointer<Float>.allocate(capacity: depth * cin)
                defer { subFilter.deallocate() }
                for ty in 0..<py.taps {
                    for tx in 0..<px.taps {
                        let ky = ry + g.strideY * (py.taps - 1 - ty), kx = rx + g.strideX * (px.taps - 1 - tx)
                        for co in 0..<cout {
                            let row = subFilter + ((ty * px.taps + tx) * cout + co) * cin
                            for ci in 0..<cin { row[ci] = filter[((ky * g.kernelWidth + kx) * cin + ci) * cout + co] }
                        }
                    }
                }
                let panels = (cin + nr - 1) / nr
                let packed = UnsafeMutablePointer<Float>.allocate(capacity: depth * panels * nr)
                defer { packed.deallocate() }
                CPUGemm.packB(CPUGemm.View(base: subFilter, rowStride: cin, columnStride: 1), row: 0, column: 0,
                    depth: depth, width: cin, into: packed)
                let tiles = (px.count + mr - 1) / mr
                Parallel.forEachRange(g.batch * py.count * tiles) { range, _ in
                    for task in range {
                        let tile = task % tiles, rowIndex = task / tiles
                        let n = rowIndex / py.count, j = rowIndex % py.count
                        let iy = py.first + j * g.strideY, ix = px.first + tile * mr * g.strideX
                        let a = padded.patch(pg, n: n, oy: py.firstQ + j, ox: px.firstQ + tile * mr)
                        let c = gradInput + ((n * g.height + iy) * g.width + ix) * cin
                        for panel in 0..<panels {
                            CPUGemm.microKernel(
                                depth: px.taps * cout, a: a, aRowStride: cout, aColumnStride: 1,
                                b: packed + panel * depth * nr, alpha: 1, c: c + panel * nr,
                                rowStride: g.strideX * cin, columnStride: 1, height: min(mr, px.count - tile * mr),
                                width: min(nr, cin - panel * nr), segments: py.taps,
                                segmentStride: padded.width * padded.channels, overwrite: true)
                        }
                    }
                }
            }
        }
    }

    /// Input pixels of a phase that no kernel tap reaches (kernel smaller than the stride).
    static func zero(_ g: Conv2DGeometry, _ py: Phase, _ px: Phase, _ gradInput: UnsafeMutablePointer<Float>) {
        for n in 0..<g.batch {
            for j in 0..<py.count {
                for i in 0..<px.count {
                    let iy = py.first + j * g.strideY, ix = px.first + i * g.strideX
                    (gradInput + ((n * g.height + iy) * g.width + ix) * g.inChannels).update(repeating: 0, count: g.inChannels)
                }
            }
        }
    }
}
