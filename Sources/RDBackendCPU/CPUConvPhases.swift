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

    /// The phases along one axis, made on demand (nothing is stored).
    struct Phases: RandomAccessCollection {
        let kernel: Int, stride: Int, pad: Int, size: Int
        var startIndex: Int { 0 }
        var endIndex: Int { stride }
        subscript(residue: Int) -> Phase { Phase(residue: residue, kernel: kernel, stride: stride, pad: pad, size: size) }
    }

    /// The phases along the input's rows.
    static func rows(_ g: Conv2DGeometry) -> Phases {
        Phases(kernel: g.kernelHeight, stride: g.strideY, pad: g.padTop, size: g.height)
    }

    /// The phases along the input's columns.
    static func columns(_ g: Conv2DGeometry) -> Phases {
        Phases(kernel: g.kernelWidth, stride: g.strideX, pad: g.padLeft, size: g.width)
    }

    /// The geometry of the one padded copy of the output gradient that serves every phase:
    /// before the first row (column) the most taps any phase has, minus one; after the last,
    /// the most any phase reads past it.
    static func union(_ g: Conv2DGeometry) -> Conv2DGeometry {
        func after(_ p: Phase, _ size: Int) -> Int { max(0, p.firstQ + p.count - size) }
        var maxTapsY = 0, maxTapsX = 0, padBottom = 0, padRight = 0
        for py in rows(g) {
            maxTapsY = max(maxTapsY, py.taps)
            padBottom = max(padBottom, after(py, g.outHeight))
        }
        for px in columns(g) {
            maxTapsX = max(maxTapsX, px.taps)
            padRight = max(padRight, after(px, g.outWidth))
        }
        return Conv2DGeometry(batch: g.batch, height: g.outHeight, width: g.outWidth, inChannels: g.outChannels,
            outChannels: g.inChannels, kernelHeight: maxTapsY, kernelWidth: maxTapsX, padTop: max(0, maxTapsY - 1),
            padBottom: padBottom, padLeft: max(0, maxTapsX - 1), padRight: padRight)
    }

    /// A phase (pair of row and column phases) that covers input pixels, with its sub-filter in
    /// the layout of the pass that made it; none for a phase that no kernel tap reaches.
    struct PhasePlan {
        let py: Phase, px: Phase
        let weights: UnsafeMutablePointer<Float>?
    }

    /// Calls `body` with the plans of every phase of `g` that covers input pixels. A phase that
    /// taps reach gets `floats(depth)` floats (depth = its taps × output channels), 64-byte
    /// aligned, written by `fill(weights, py, px)`. Plans and weights come from the calling
    /// thread's ``ThreadScratch`` and are given back when `body` returns.
    static func withPlans(_ g: Conv2DGeometry, floats: (_ depth: Int) -> Int,
        fill: (_ weights: UnsafeMutablePointer<Float>, _ py: Phase, _ px: Phase) -> Void,
        _ body: (UnsafeBufferPointer<PhasePlan>) -> Void) {
        let rows = rows(g), columns = columns(g)
        func reserved(_ py: Phase, _ px: Phase) -> Int {
            py.taps > 0 && px.taps > 0 ? CPUGemm.roundUp(floats(py.taps * px.taps * g.outChannels), 16) : 0
        }
        var total = 0
        for py in rows where py.count > 0 { for px in columns where px.count > 0 { total += reserved(py, px) } }
        let scratch = ThreadScratch.current, capacity = rows.count * columns.count
        let plans = scratch.take(PhasePlan.self, capacity)
        defer { scratch.give(plans, capacity) }
        let weights = scratch.take(Float.self, total)
        defer { scratch.give(weights, total) }
        var count = 0, offset = 0
        for py in rows where py.count > 0 {
            for px in columns where px.count > 0 {
                let floats = reserved(py, px), mine = floats > 0 ? weights + offset : nil
                if let mine { fill(mine, py, px) }
                (plans + count).initialize(to: PhasePlan(py: py, px: px, weights: mine))
                count += 1
                offset += floats
            }
        }
        body(UnsafeBufferPointer(start: plans, count: count))
    }

    /// The pass, with `epilogue` on each image's gradient once all its phases are written.
    static func backwardData<E: ConvOutputEpilogue>(_ g: Conv2DGeometry, gradOutput: UnsafeMutablePointer<Float>,
        filter: UnsafeMutablePointer<Float>, gradInput: UnsafeMutablePointer<Float>, epilogue: E) {
        let nr = CPUGemm.nr, mr = CPUGemm.mr
        let cin = g.inChannels, cout = g.outChannels
        let union = union(g)
        // Per image, every phase in turn, so the image's gradient rows stay in cache between the
        // phases that interleave in them.
        let scratch = CPUConvPadded.Scratch(union, slack: (mr + union.kernelWidth) * cout)
        defer { scratch.giveBack() }
        let rowFloats = scratch.padded.width * cout
        withPlans(g, floats: { depth in depth * CPUGemm.roundUp(cin, nr) }, fill: { packed, py, px in
            let depth = py.taps * px.taps * cout
            let subFilterCount = depth * cin, subFilter = ThreadScratch.current.take(Float.self, subFilterCount)
            defer { ThreadScratch.current.give(subFilter, subFilterCount) }
            for ty in 0..<py.taps {
                for tx in 0..<px.taps {
                    let ky = py.residue + g.strideY * (py.taps - 1 - ty), kx = px.residue + g.strideX * (px.taps - 1 - tx)
                    for co in 0..<cout {
                        let row = subFilter + ((ty * px.taps + tx) * cout + co) * cin
                        for ci in 0..<cin { row[ci] = filter[((ky * g.kernelWidth + kx) * cin + ci) * cout + co] }
                    }
                }
            }
            CPUGemm.packB(CPUGemm.View(base: subFilter, rowStride: cin, columnStride: 1), row: 0, column: 0,
                depth: depth, width: cin, into: packed)
        }) { plans in
            Parallel.forEachRange(g.batch, PhaseImages(g: g, union: union, scratch: scratch, plans: plans,
                gradOutput: gradOutput, gradInput: gradInput, mr: mr, nr: nr, cin: cin, cout: cout,
                rowFloats: rowFloats, epilogue: epilogue))
        }
    }

    /// Images of a range: each padded into the worker's scratch, then every phase's micro-kernels.
    struct PhaseImages<Epilogue: ConvOutputEpilogue>: ParallelLoopBody {
        let g, union: Conv2DGeometry
        let scratch: CPUConvPadded.Scratch
        let plans: UnsafeBufferPointer<PhasePlan>
        let gradOutput, gradInput: UnsafeMutablePointer<Float>
        let mr, nr, cin, cout, rowFloats: Int
        let epilogue: Epilogue

        func callAsFunction(_ images: Range<Int>, _ worker: Int) {
            for n in images {
                let padded = scratch.image(n, of: gradOutput, worker: worker)
                for plan in plans {
                    let (py, px) = (plan.py, plan.px)
                    // (each phase's sub-filter [t'y][t'x][co] × cin, flipped (t' = T − 1 − t), packed as
                    // the micro-kernel's B)
                    guard let packed = plan.weights else {
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
                let pixels = g.height * g.width
                epilogue.finish((n * pixels)..<((n + 1) * pixels))
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
