import RDCompute

/// Backward-data of a strided convolution (the forward pass of a strided transposed conv)
/// as `sy·sx` stride-1 implicit GEMMs, one per output phase, instead of GEMM + col2im.
///
/// Input row `iy` receives kernel taps `ky ≡ (iy + padTop) mod sy` only: for phase
/// `ry = (iy + padTop) mod sy` the taps are `ry + sy·t` and the output rows
/// `qy − t` with `qy = (iy + padTop − ry) / sy`, a stride-1 correlation of the output
/// gradient with the phase's sub-filter, flipped. Phase needs padding `T − 1` (T = its tap
/// count) so every patch is in bounds; the output gradient is padded once with the largest
/// padding any phase needs, and each phase starts its patches at its own offset into that
/// copy. Patches are gathered in place like ``CPUConvImplicit``, and each phase writes its
/// input rows directly: no scatter, no zero fill.
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

    /// The phases along one axis.
    static func phases(kernel: Int, stride: Int, pad: Int, size: Int) -> [Phase] {
        (0..<stride).map { Phase(residue: $0, kernel: kernel, stride: stride, pad: pad, size: size) }
    }

    static func backwardData(_ g: Conv2DGeometry, gradOutput: UnsafeMutablePointer<Float>,
        filter: UnsafeMutablePointer<Float>, gradInput: UnsafeMutablePointer<Float>) {
        let nr = CPUGemm.nr, mr = CPUGemm.mr
        let cin = g.inChannels, cout = g.outChannels
        let rows = phases(kernel: g.kernelHeight, stride: g.strideY, pad: g.padTop, size: g.height)
        let columns = phases(kernel: g.kernelWidth, stride: g.strideX, pad: g.padLeft, size: g.width)
        // One padded copy of the output gradient serves every phase: before the first row (column)
        // the most taps any phase has, minus one; after the last, the most any phase reads past it.
        func after(_ p: Phase, _ size: Int) -> Int { max(0, p.firstQ + p.count - size) }
        let maxTapsY = rows.map(\.taps).max() ?? 0, maxTapsX = columns.map(\.taps).max() ?? 0
        let union = Conv2DGeometry(batch: g.batch, height: g.outHeight, width: g.outWidth, inChannels: cout,
            outChannels: cin, kernelHeight: maxTapsY, kernelWidth: maxTapsX, padTop: max(0, maxTapsY - 1),
            padBottom: rows.map { after($0, g.outHeight) }.max() ?? 0, padLeft: max(0, maxTapsX - 1),
            padRight: columns.map { after($0, g.outWidth) }.max() ?? 0)
        let padded = CPUConvPadded(union, input: gradOutput, slack: (mr + maxTapsX) * cout)
        defer { padded.deallocate() }
        for (ry, py) in rows.enumerated() {
            for (rx, px) in columns.enumerated() {
                guard py.count > 0, px.count > 0 else { continue }
                guard py.taps > 0, px.taps > 0 else {
                    zero(g, py, px, gradInput)
                    continue
                }
                // The phase is a stride-1 conv over the output gradient (channels cout → cin) whose
                // padding is T − 1: its patches start that much after the union's.
                let skipY = union.padTop - (py.taps - 1), skipX = union.padLeft - (px.taps - 1)
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
                        let a = padded.patch(union, n: n, oy: py.firstQ + j + skipY, ox: px.firstQ + tile * mr + skipX)
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
