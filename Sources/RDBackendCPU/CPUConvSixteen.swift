import RDCompute

/// Convolution passes whose GEMM is 16 columns wide: 16 output channels (forward, filter
/// gradient) or 16 input channels (strided backward-data by phases), HIT's c = 16 layers.
///
/// ``CPUGemm/microKernel``'s 8×32 tile would leave half of its columns zero there, and on AVX2
/// its 16 `SIMD16` accumulators are 32 registers of 16: it spills. Here a register tile is
/// ``rows`` = 4 rows × 16 floats, 8 AVX2 registers, so that B's row and the four broadcasts of
/// A (which the compiler loads ahead) fit too: 6 rows spilled, and ran at half the speed. Each
/// tile row has its own pointer, and all kernel rows accumulate in registers before one store.
///
/// - forward: a tile is one output pixel of 4 images, so all rows have the same taps inside
///   the image: patches are read in place from the input, and taps in the padding skipped (a
///   stride-1 backward-data runs as the forward of the flipped filter over a gradient padded
///   by k − 1 − p: 4×4 → 7×7 with a 4×4 kernel would otherwise multiply ⅔ zeros).
/// - backward-filter: a tile is 4 patch taps, `dW[tap, co] = Σ_pixels patch[pixel, tap]·dY[pixel, co]`
///   with dY's rows (16 channels) as B. With input channels a multiple of 4 a tile is 4 channels
///   of one (ky, kx), read in place over the output pixels that put that tap inside the image;
///   otherwise (1-channel images) from images padded into per-worker scratch. Images are split
///   into fixed parts with private sums added in part order (deterministic for a given thread count).
/// - backward-data of a strided conv: as ``CPUConvPhases`` (one stride-1 correlation per output
///   phase), a tile one pixel of a phase in 4 images, its in-image taps read in place; onto 16
///   channels as 16-wide tiles, onto ≤ 4 (a transposed conv to a 1-channel image) as dot
///   products along the output channels.
enum CPUConvSixteen {
    typealias V = SIMD16<Float>
    static let width = 16
    static let rows = 4

    static func appliesForward(_ g: Conv2DGeometry) -> Bool { g.outChannels == width }
    static func appliesFilterGradient(_ g: Conv2DGeometry) -> Bool { g.outChannels == width }
    /// Strided backward-data onto 16 channels, or onto ≤ 4 from a multiple of 16.
    static func appliesPhases(_ g: Conv2DGeometry) -> Bool {
        (g.strideY > 1 || g.strideX > 1)
            && (g.inChannels == width || (g.inChannels <= 4 && g.outChannels % width == 0))
    }

    /// A register tile's row pointers; rows past a partial tile's height repeat row 0.
    struct Rows {
        var p0, p1, p2, p3: UnsafePointer<Float>

        init(_ p: UnsafePointer<Float>) { (p0, p1, p2, p3) = (p, p, p, p) }

        /// `p` and the same place in the next images, `imageStride` floats apart; rows from
        /// `height` on repeat row 0.
        @inline(__always) init(_ p: UnsafePointer<Float>, imageStride: Int, height: Int) {
            self.init(p)
            for r in 1..<max(1, height) { self[r] = p + r * imageStride }
        }

        @inline(__always) subscript(_ r: Int) -> UnsafePointer<Float> {
            get {
                switch r {
                case 0: p0
                case 1: p1
                case 2: p2
                default: p3
                }
            }
            set {
                switch r {
                case 0: p0 = newValue
                case 1: p1 = newValue
                case 2: p2 = newValue
                default: p3 = newValue
                }
            }
        }
    }

    /// Four rows of 16 sums.
    struct Tile {
        var c0 = V(), c1 = V(), c2 = V(), c3 = V()

        @inline(__always) subscript(_ r: Int) -> V {
            switch r {
            case 0: c0
            case 1: c1
            case 2: c2
            default: c3
            }
        }

        /// Writes rows `0..<height` to `out + r·rowStride` (overwriting, or adding to what is there).
        @inline(__always) func store(_ out: UnsafeMutablePointer<Float>, rowStride: Int, height: Int, add: Bool = false) {
            for r in 0..<height {
                let p = out + r * rowStride
                store16(add ? load16(p) + self[r] : self[r], p)
            }
        }
    }

    /// `tile[r] += Σ_s Σ_p rows[r][s·segmentStride + p·columnStride] · b[s·bSegmentStride + p·16 ..< +16]`:
    /// B's rows are 16 floats, contiguous within a segment (default: across segments too).
    @inline(__always)
    static func accumulate(_ tile: inout Tile, _ a: Rows, depth: Int, columnStride: Int, segments: Int, segmentStride: Int,
        b: UnsafePointer<Float>, bSegmentStride: Int? = nil) {
        var (c0, c1, c2, c3) = (tile.c0, tile.c1, tile.c2, tile.c3)
        let (a0, a1, a2, a3) = (a.p0, a.p1, a.p2, a.p3)
        let bStep = bSegmentStride ?? depth &* width
        for s in 0..<segments {
            var o = s &* segmentStride
            var pb = UnsafeRawPointer(b + s &* bStep)
            for _ in 0..<depth {
                let bv = pb.loadUnaligned(as: V.self)
                c0.addProduct(V(repeating: a0[o]), bv)
                c1.addProduct(V(repeating: a1[o]), bv)
                c2.addProduct(V(repeating: a2[o]), bv)
                c3.addProduct(V(repeating: a3[o]), bv)
                o &+= columnStride
                pb += 64
            }
        }
        tile = Tile(c0: c0, c1: c1, c2: c2, c3: c3)
    }

    /// Images of `g`'s input as the passes read them: in place when `g` has no padding, else
    /// padded into the worker's slot, `block` images at a time.
    struct Source {
        let g: Conv2DGeometry
        let block: Int
        let unpadded: Bool
        /// Padded height and width.
        let height: Int, width: Int
        var imageSize: Int { height * width * g.inChannels }
        let slots: UnsafeMutablePointer<Float>?
        private let slotsCount: Int

        init(_ g: Conv2DGeometry, block: Int) {
            self.g = g
            self.block = block
            unpadded = g.padTop == 0 && g.padBottom == 0 && g.padLeft == 0 && g.padRight == 0
            height = g.height + g.padTop + g.padBottom
            width = g.width + g.padLeft + g.padRight
            slotsCount = unpadded || block == 0 ? 0 : Parallel.threads * block * height * width * g.inChannels
            slots = slotsCount == 0 ? nil : ThreadScratch.current.take(Float.self, slotsCount)
        }

        /// The first of images `first ..< first + count`, `imageSize` floats apart.
        func images(_ first: Int, count: Int, of input: UnsafeMutablePointer<Float>, worker: Int) -> UnsafeMutablePointer<Float> {
            guard let slots else { return input + first * imageSize }
            let slot = slots + worker * block * imageSize
            for i in 0..<count { CPUConvPadded.pad(g, input: input, image: first + i, width: width, into: slot + i * imageSize) }
            return slot
        }

        /// Gives the slots back to the calling thread's scratch.
        func giveBack() { if let slots { ThreadScratch.current.give(slots, slotsCount) } }
    }

    /// The kernel taps of output row (column) `o` that land inside the image: the first, how
    /// many, and the input row (column) of the first.
    struct Span {
        let first: Int, count: Int, input: Int

        init(_ o: Int, stride: Int, pad: Int, kernel: Int, size: Int) {
            let start = o * stride - pad
            first = max(0, -start)
            count = max(0, min(kernel, size - start) - first)
            input = start + first
        }

        /// The output rows (columns) whose patch puts kernel tap `k` inside the image: the
        /// first, how many, and the input row (column) the tap reads for the first.
        init(tap k: Int, stride: Int, pad: Int, outputs: Int, size: Int) {
            // o·stride − pad + k ∈ [0, size)
            func ceilDiv(_ a: Int, _ b: Int) -> Int { a >= 0 ? (a + b - 1) / b : -((-a) / b) }
            func floorDiv(_ a: Int, _ b: Int) -> Int { a >= 0 ? a / b : -((-a + b - 1) / b) }
            first = max(0, ceilDiv(pad - k, stride))
            count = max(0, min(outputs, floorDiv(size - 1 + pad - k, stride) + 1) - first)
            input = first * stride - pad + k
        }
    }

    /// Forward: a tile is one output pixel of 4 images, so that every row has the same taps
    /// inside the image: the patches are read in place from the input, padding taps skipped.
    static func forward(_ g: Conv2DGeometry, input: UnsafeMutablePointer<Float>, filter: UnsafeMutablePointer<Float>,
        output: UnsafeMutablePointer<Float>) {
        let c = g.inChannels, pixels = g.outHeight * g.outWidth, imageSize = g.height * g.width * c
        let scratch = ThreadScratch.current
        let spansY = scratch.take(Span.self, g.outHeight)
        defer { scratch.give(spansY, g.outHeight) }
        let spansX = scratch.take(Span.self, g.outWidth)
        defer { scratch.give(spansX, g.outWidth) }
        for oy in 0..<g.outHeight {
            (spansY + oy).initialize(to: Span(oy, stride: g.strideY, pad: g.padTop, kernel: g.kernelHeight, size: g.height))
        }
        for ox in 0..<g.outWidth {
            (spansX + ox).initialize(to: Span(ox, stride: g.strideX, pad: g.padLeft, kernel: g.kernelWidth, size: g.width))
        }
        let groups = (g.batch + rows - 1) / rows
        Parallel.forEachRange(groups, ImageGroups(g: g, spansY: UnsafeBufferPointer(start: spansY, count: g.outHeight),
            spansX: UnsafeBufferPointer(start: spansX, count: g.outWidth), input: input, filter: filter, output: output,
            c: c, pixels: pixels, imageSize: imageSize))
    }

    /// Groups of 4 images of a range: every output pixel's tile.
    struct ImageGroups: ParallelLoopBody {
        let g: Conv2DGeometry
        let spansY, spansX: UnsafeBufferPointer<Span>
        let input, filter, output: UnsafeMutablePointer<Float>
        let c, pixels, imageSize: Int

        func callAsFunction(_ range: Range<Int>, _ worker: Int) {
            for group in range {
                let first = group * rows, height = min(rows, g.batch - first)
                let images = input + first * imageSize
                for oy in 0..<g.outHeight {
                    let y = spansY[oy]
                    for ox in 0..<g.outWidth {
                        let x = spansX[ox]
                        var tile = Tile()
                        if y.count > 0 && x.count > 0 {
                            let a = Rows(images + (y.input * g.width + x.input) * c, imageStride: imageSize, height: height)
                            accumulate(&tile, a, depth: x.count * c, columnStride: 1, segments: y.count,
                                segmentStride: g.width * c, b: filter + (y.first * g.kernelWidth + x.first) * c * width,
                                bSegmentStride: g.kernelWidth * c * width)
                        }
                        tile.store(output + (first * pixels + oy * g.outWidth + ox) * width, rowStride: pixels * width,
                            height: height)
                    }
                }
            }
        }
    }

    static func backwardFilter(_ g: Conv2DGeometry, input: UnsafeMutablePointer<Float>,
        gradOutput: UnsafeMutablePointer<Float>, gradFilter: UnsafeMutablePointer<Float>) {
        let c = g.inChannels, taps = g.kernelHeight * g.kernelWidth * c
        let size = taps * width
        // images per block: padded images that stay in L2 while every tap tile runs over them
        let block = max(1, min(g.batch, 8))
        let source = Source(g, block: c % rows == 0 ? 0 : block)
        defer { source.giveBack() }
        let segment = g.kernelWidth * c, rowFloats = source.width * c
        let pixels = g.outHeight * g.outWidth
        let parts = max(1, min(Parallel.threads * Parallel.chunksPerWorker, g.batch))
        let partialCount = parts * size, partial = ThreadScratch.current.take(Float.self, partialCount)
        defer { ThreadScratch.current.give(partial, partialCount) }
        // where each tap lies in a patch: kernel row, then the run of kw·C floats along it
        let offsetsCount = taps, offsets = ThreadScratch.current.take(Int.self, offsetsCount)
        defer { ThreadScratch.current.give(offsets, offsetsCount) }
        for tap in 0..<taps { offsets[tap] = (tap / segment) * rowFloats + tap % segment }
        // With whole tiles of input channels, a tile's taps share (ky, kx) and so the output
        // pixels whose patch puts them inside the image: those are read in place, the rest skipped.
        let inPlace = c % rows == 0
        // (the spans as pointers: arrays shared by the workers would be retained and released in the loop)
        let spansYCount = g.kernelHeight, spansY = ThreadScratch.current.take(Span.self, spansYCount)
        defer { ThreadScratch.current.give(spansY, spansYCount) }
        let spansXCount = g.kernelWidth, spansX = ThreadScratch.current.take(Span.self, spansXCount)
        defer { ThreadScratch.current.give(spansX, spansXCount) }
        for k in 0..<g.kernelHeight {
            spansY[k] = Span(tap: k, stride: g.strideY, pad: g.padTop, outputs: g.outHeight, size: g.height)
        }
        for k in 0..<g.kernelWidth {
            spansX[k] = Span(tap: k, stride: g.strideX, pad: g.padLeft, outputs: g.outWidth, size: g.width)
        }
        let imageSize = g.height * g.width * c
        Parallel.forEachRange(parts, FilterGradientParts(g: g, source: source, input: input, gradOutput: gradOutput,
            partial: partial, offsets: offsets, spansY: spansY, spansX: spansX, inPlace: inPlace, c: c, taps: taps,
            size: size, block: block, pixels: pixels, parts: parts, imageSize: imageSize, rowFloats: rowFloats))
        Parallel.forEachRange(size, grain: 1 << 12, PartsAdded(gradFilter: gradFilter, partial: partial, size: size,
            parts: parts))
    }

    /// Parts (fixed image ranges) of a range, each summed into its own partial gradient.
    struct FilterGradientParts: ParallelLoopBody {
        let g: Conv2DGeometry
        let source: Source
        let input, gradOutput, partial: UnsafeMutablePointer<Float>
        let offsets: UnsafeMutablePointer<Int>
        let spansY, spansX: UnsafeMutablePointer<Span>
        let inPlace: Bool
        let c, taps, size, block, pixels, parts, imageSize, rowFloats: Int

        func callAsFunction(_ range: Range<Int>, _ worker: Int) {
            for part in range {
                let sums = partial + part * size
                sums.update(repeating: 0, count: size)
                let last = g.batch * (part + 1) / parts
                for first in stride(from: g.batch * part / parts, to: last, by: block) {
                    let count = min(block, last - first)
                    if inPlace {
                        for ky in 0..<g.kernelHeight where spansY[ky].count > 0 {
                            let y = spansY[ky]
                            for kx in 0..<g.kernelWidth where spansX[kx].count > 0 {
                                let x = spansX[kx]
                                let offset = (y.input * g.width + x.input) * c
                                let dY = gradOutput + (first * pixels + y.first * g.outWidth + x.first) * width
                                for ci in stride(from: 0, to: c, by: rows) {
                                    var tile = Tile()
                                    for i in 0..<count {
                                        let a = Rows(input + (first + i) * imageSize + offset + ci, imageStride: 1, height: rows)
                                        accumulate(&tile, a, depth: x.count, columnStride: g.strideX * c, segments: y.count,
                                            segmentStride: g.strideY * g.width * c, b: dY + i * pixels * width,
                                            bSegmentStride: g.outWidth * width)
                                    }
                                    tile.store(sums + ((ky * g.kernelWidth + kx) * c + ci) * width, rowStride: width, height: rows,
                                        add: true)
                                }
                            }
                        }
                        continue
                    }
                    let images = source.images(first, count: count, of: input, worker: worker)
                    for j in stride(from: 0, to: taps, by: rows) {
                        let height = min(rows, taps - j)
                        var tile = Tile()
                        for i in 0..<count {
                            let image = images + i * source.imageSize
                            var a = Rows(image)
                            for r in 0..<height { a[r] = UnsafePointer(image + offsets[j + r]) }
                            accumulate(&tile, a, depth: g.outWidth, columnStride: g.strideX * c, segments: g.outHeight,
                                segmentStride: g.strideY * rowFloats, b: gradOutput + (first + i) * pixels * width)
                        }
                        tile.store(sums + j * width, rowStride: width, height: height, add: true)
                    }
                }
            }
        }
    }

    /// A range of the filter gradient: the parts' sums added in part order.
    struct PartsAdded: ParallelLoopBody {
        let gradFilter, partial: UnsafeMutablePointer<Float>
        let size, parts: Int

        func callAsFunction(_ range: Range<Int>, _ worker: Int) {
            let out = gradFilter + range.lowerBound
            out.update(from: partial + range.lowerBound, count: range.count)
            for part in 1..<parts {
                let sums = partial + part * size + range.lowerBound
                for i in 0..<range.count { out[i] += sums[i] }
            }
        }
    }

    /// Strided backward-data by phases (see ``CPUConvPhases``); a tile is one input pixel of a
    /// phase in 4 images, its output-gradient taps read in place, those outside skipped.
    static func backwardData(_ g: Conv2DGeometry, gradOutput: UnsafeMutablePointer<Float>,
        filter: UnsafeMutablePointer<Float>, gradInput: UnsafeMutablePointer<Float>) {
        let cin = g.inChannels, cout = g.outChannels
        let wide = cin == width
        let outImage = g.outHeight * g.outWidth * cout, inImage = g.height * g.width * cin
        let groups = (g.batch + rows - 1) / rows
        // Each phase's sub-filter, flipped (t' = T − 1 − t): [t'y][t'x][co][ci] (16 ci, B's rows)
        // or, for few ci, [ci][t'y][t'x][co] (one run of taps per ci to dot with the patch).
        CPUConvPhases.withPlans(g, floats: { depth in depth * cin }, fill: { sub, py, px in
            let depth = py.taps * px.taps * cout
            for ty in 0..<py.taps {
                for tx in 0..<px.taps {
                    let ky = py.residue + g.strideY * (py.taps - 1 - ty), kx = px.residue + g.strideX * (px.taps - 1 - tx)
                    for co in 0..<cout {
                        let d = (ty * px.taps + tx) * cout + co
                        for ci in 0..<cin {
                            sub[wide ? d * cin + ci : ci * depth + d] = filter[((ky * g.kernelWidth + kx) * cin + ci) * cout + co]
                        }
                    }
                }
            }
        }) { plans in
            Parallel.forEachRange(groups, PhaseGroups(g: g, plans: plans, gradOutput: gradOutput, gradInput: gradInput,
                cin: cin, cout: cout, outImage: outImage, inImage: inImage, wide: wide))
        }
    }

    /// Groups of 4 images of a range: every phase's input pixels.
    struct PhaseGroups: ParallelLoopBody {
        let g: Conv2DGeometry
        let plans: UnsafeBufferPointer<CPUConvPhases.PhasePlan>
        let gradOutput, gradInput: UnsafeMutablePointer<Float>
        let cin, cout, outImage, inImage: Int
        let wide: Bool

        func callAsFunction(_ range: Range<Int>, _ worker: Int) {
            for group in range {
                let first = group * rows, height = min(rows, g.batch - first)
                for plan in plans {
                    let (py, px) = (plan.py, plan.px)
                    guard let sub = plan.weights else {
                        for n in first..<(first + height) { CPUConvPhases.zero(g, n: n, py, px, gradInput) }
                        continue
                    }
                    // Phase pixel j reads output-gradient rows q = firstQ + j − (T − 1) + t' for its taps t'.
                    for j in 0..<py.count {
                        let y = Span(py.firstQ + j, stride: 1, pad: py.taps - 1, kernel: py.taps, size: g.outHeight)
                        for i in 0..<px.count {
                            let x = Span(px.firstQ + i, stride: 1, pad: px.taps - 1, kernel: px.taps, size: g.outWidth)
                            let out = gradInput + (first * g.height * g.width + (py.first + j * g.strideY) * g.width
                                + px.first + i * g.strideX) * cin
                            guard y.count > 0 && x.count > 0 else {
                                for r in 0..<height { (out + r * inImage).update(repeating: 0, count: cin) }
                                continue
                            }
                            let a = Rows(gradOutput + first * outImage + (y.input * g.outWidth + x.input) * cout,
                                imageStride: outImage, height: height)
                            let tap = y.first * px.taps + x.first
                            if wide {
                                var tile = Tile()
                                accumulate(&tile, a, depth: x.count * cout, columnStride: 1, segments: y.count,
                                    segmentStride: g.outWidth * cout, b: sub + tap * cout * width,
                                    bSegmentStride: px.taps * cout * width)
                                tile.store(out, rowStride: inImage, height: height)
                            } else {
                                let depth = py.taps * px.taps * cout
                                for ci in 0..<cin {
                                    let sums = dot(a, segment: x.count * cout, segments: y.count,
                                        segmentStride: g.outWidth * cout, w: sub + ci * depth + tap * cout,
                                        wSegmentStride: px.taps * cout)
                                    for r in 0..<height { out[r * inImage + ci] = sums[r] }
                                }
                            }
                        }
                    }
                }
            }
        }
    }

    /// The four rows' patches (`segments` runs of `segment` floats, a multiple of 16,
    /// `segmentStride` apart) dotted with `w` (its runs `wSegmentStride` apart).
    @inline(__always)
    static func dot(_ a: Rows, segment: Int, segments: Int, segmentStride: Int, w: UnsafePointer<Float>, wSegmentStride: Int)
        -> SIMD4<Float> {
        var (s0, s1, s2, s3) = (V(), V(), V(), V())
        for s in 0..<segments {
            let o = s &* segmentStride
            let pw = w + s &* wSegmentStride
            for u in stride(from: 0, to: segment, by: width) {
                let wv = load16(pw + u)
                s0.addProduct(load16(a.p0 + o + u), wv)
                s1.addProduct(load16(a.p1 + o + u), wv)
                s2.addProduct(load16(a.p2 + o + u), wv)
                s3.addProduct(load16(a.p3 + o + u), wv)
            }
        }
        return SIMD4(s0.horizontalSum, s1.horizontalSum, s2.horizontalSum, s3.horizontalSum)
    }
}
