import RDCompute

/// Backward-data of a strided convolution (the forward pass of a strided transposed conv)
/// as `sy·sx` stride-1 implicit GEMMs, one per output phase, instead of GEMM + col2im.
///
/// Input row `iy` receives kernel taps `ky ≡ (iy + padTop) mod sy` only: for phase
/// `ry = (iy + padTop) mod sy` the taps are `ry + sy·t` and the output rows
/// `qy − t` with `qy = (iy + padTop − ry) / sy`, a stride-1 correlation of the output
/// gradient with the phase's sub-filter, flipped. Phase needs padding `T − 1` (T = its tap
/// count) so every patch is in bounds; each image of the output gradient is padded once, into
/// the worker's scratch, with the largest padding any phase needs, and each phase starts its
/// patches at its own offset into that copy. All phases of an image run back to back, so the
/// input-gradient rows they interleave in stay in cache. Patches are gathered in place like
/// ``CPUConvImplicit``, and each phase writes its input pixels directly: no scatter, no zero fill.
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

    /// The geometry of the one padded copy of the output gradient that serves every phase:
    /// before the first row (column) the most taps any phase has, minus one; after the last,
    /// the most any phase reads past it.
    static func union(_ g: Conv2DGeometry, rows: [Phase], columns: [Phase]) -> Conv2DGeometry {
        func after(_ p: Phase, _ size: Int) -> Int { max(0, p.firstQ + p.count - size) }
        let maxTapsY = rows.map(\.taps).max() ?? 0, maxTapsX = columns.map(\.taps).max() ?? 0
        return Conv2DGeometry(batch: g.batch, height: g.outHeight, width: g.outWidth, inChannels: g.outChannels,
            outChannels: g.inChannels, kernelHeight: maxTapsY, kernelWidth: maxTapsX, padTop: max(0, maxTapsY - 1),
            padBottom: rows.map { after($0, g.outHeight) }.max() ?? 0, padLeft: max(0, maxTapsX - 1),
            padRight: columns.map { after($0, g.outWidth) }.max() ?? 0)
    }

    static func backwardData(_ g: Conv2DGeometry, gradOutput: UnsafeMutablePointer<Float>,
        filter: UnsafeMutablePointer<Float>, gradInput: UnsafeMutablePointer<Float>) {
        let nr = CPUGemm.nr, mr = CPUGemm.mr
        let cin = g.inChannels, cout = g.outChannels
        let rows = phases(kernel: g.kernelHeight, stride: g.strideY, pad: g.padTop, size: g.height)
        let columns = phases(kernel: g.kernelWidth, stride: g.strideX, pad: g.padLeft, size: g.width)
        let union = union(g, rows: rows, columns: columns)
        let maxTapsX = union.kernelWidth
        var plans: [PhasePlan] = []
        for (ry, py) in rows.enumerated() {
            for (rx, px) in columns.enumerated() where py.count > 0 && px.count > 0 {
                guard py.taps > 0, px.taps > 0 else {
                    plans.append(PhasePlan(py: py, px: px, packed: nil))
                    continue
                }
                let depth = py.taps * px.taps * cout
                let subFilterCount = depth * cin, subFilter = ThreadScratch.current.take(Float.self, subFilterCount)
                defer { ThreadScratch.current.give(subFilter, subFilterCount) }
                for ty in 0..<py.taps {
                    for tx in 0..<px.taps {
                        let ky = ry + g.strideY * (py.taps - 1 - ty), kx = rx + g.strideX * (px.taps - 1 - tx)
                        for co in 0..<cout {
                            let row = subFilter + ((ty * px.taps + tx) * cout + co) * cin
                            for ci in 0..<cin { row[ci] = filter[((ky * g.kernelWidth + kx) * cin + ci) * cout + co] }
                        }
                    }
                }
                let packed = UnsafeMutablePointer<Float>.allocateVectors(depth * CPUGemm.roundUp(cin, nr))
                CPUGemm.packB(CPUGemm.View(base: subFilter, rowStride: cin, columnStride: 1), row: 0, column: 0,
                    depth: depth, width: cin, into: packed)
                plans.append(PhasePlan(py: py, px: px, packed: packed))
            }
        }
        defer { for plan in plans { plan.packed?.deallocate() } }
        // Per image, every phase in turn, so the image's gradient rows stay in cache between the
        // phases that interleave in them.
        let scratch = CPUConvPadded.Scratch(union, slack: (mr + maxTapsX) * cout)
        defer { scratch.deallocate() }
        let rowFloats = scratch.padded.width * cout
        plans.withUnsafeBufferPointer { plans in
            Parallel.forEachRange(g.batch, PhaseImages(g: g, union: union, scratch: scratch, plans: plans,
                gradOutput: gradOutput, gradInput: gradInput, mr: mr, nr: nr, cin: cin, cout: cout,
                rowFloats: rowFloats))
        }
    }

    /// Each phase's sub-filter [t'y][t'x][co] × cin, flipped (t' = T − 1 − t), packed as the
    /// micro-kernel's B; phases no tap reaches have none.
    struct PhasePlan {
        let py: Phase, px: Phase
        let packed: UnsafeMutablePointer<Float>?
    }

    /// Images of a range: each padded into the worker's scratch, then every phase's micro-kernels.
    struct PhaseImages: ParallelLoopBody {
        let g, union: Conv2DGeometry
        let scratch: CPUConvPadded.Scratch
        let plans: UnsafeBufferPointer<PhasePlan>
        let gradOutput, gradInput: UnsafeMutablePointer<Float>
        let mr, nr, cin, cout, rowFloats: Int

        func callAsFunction(_ images: Range<Int>, _ worker: Int) {
            for n in images {
                let padded = scratch.image(n, of: gradOutput, worker: worker)
                for plan in plans {
                    let (py, px) = (plan.py, plan.px)
                    guard let packed = plan.packed else {
                        zero(g, n: n, py, px, gradInput)
                        continue
                    }
                    // The phase is a stride-1 conv over the output gradient (channels cout → cin) whose
                    // padding is T − 1: its patches start that much after the union's.
                    let skipY = union.padTop - (py.taps - 1), skipX = union.padLeft - (px.taps - 1)
                    let depth = py.taps * px.taps * cout
                    for j in 0..<py.count {
                        let iy = py.first + j * g.strideY
                        for tile in stride(from: 0, to: px.count, by: mr) {
                            let ix = px.first + tile * g.strideX
                            let a = padded.patch(union, n: 0, oy: py.firstQ + j + skipY, ox: px.firstQ + tile + skipX)
                            let c = gradInput + ((n * g.height + iy) * g.width + ix) * cin
                            for panel in stride(from: 0, to: cin, by: nr) {
                                CPUGemm.microKernel(
                                    depth: px.taps * cout, a: a, aRowStride: cout, aColumnStride: 1,
                                    b: packed + panel * depth, alpha: 1, c: c + panel,
                                    rowStride: g.strideX * cin, columnStride: 1, height: min(mr, px.count - tile),
                                    width: min(nr, cin - panel), segments: py.taps, segmentStride: rowFloats,
                                    overwrite: true)
                            }
                        }
                    }
                }
            }
        }
    }

    /// Image `n`'s input pixels of a phase that no kernel tap reaches (kernel smaller than the stride).
    static func zero(_ g: Conv2DGeometry, n: Int, _ py: Phase, _ px: Phase, _ gradInput: UnsafeMutablePointer<Float>) {
        for j in 0..<py.count {
            for i in 0..<px.count {
                let iy = py.first + j * g.strideY, ix = px.first + i * g.strideX
                (gradInput + ((n * g.height + iy) * g.width + ix) * g.inChannels).update(repeating: 0, count: g.inChannels)
            }
        }
    }
}
