import RDCompute

/// Masked convolutions on the CPU. When each kernel row's active taps are one contiguous run
/// (PixelCNN's masks, the causal first layers) and the output has ≥ 16 channels, the forward
/// pass is an implicit GEMM like ``CPUConvImplicit``'s that visits only the active runs, and
/// stride-1 backward-data is the forward pass of the flipped mask. Otherwise, and for the
/// filter gradient: im2col over the active taps only, then ``CPUGemm`` with the `[taps · in,
/// out]` filter. Masked-out taps cost neither copies nor multiply-adds either way. 3×3 masks
/// with Winograd-sized channels are the exception: see ``densePass(_:)``.
enum CPUMaskedConv {
    /// One kernel row's active taps: columns `first..<first + count`, filter rows from `tap`.
    struct Run { let ky: Int, first: Int, count: Int, tap: Int }

    /// The active taps as one run per kernel row, or nil when a row's taps have a gap.
    static func runs(_ s: MaskedConv2DShape) -> [Run]? {
        let kw = s.geometry.kernelWidth
        var runs: [Run] = []
        for (t, tap) in s.taps.enumerated() {
            let (ky, kx) = (tap / kw, tap % kw)
            if let last = runs.last, last.ky == ky {
                guard last.first + last.count == kx else { return nil }
                runs[runs.count - 1] = Run(ky: ky, first: last.first, count: last.count + 1, tap: last.tap)
            } else {
                runs.append(Run(ky: ky, first: kx, count: 1, tap: t))
            }
        }
        return runs
    }

    /// The implicit-GEMM forward pass over the active runs; false when it does not apply.
    static func forwardImplicit(_ s: MaskedConv2DShape, input: UnsafeMutablePointer<Float>,
        filter: UnsafeMutablePointer<Float>, output: UnsafeMutablePointer<Float>) -> Bool {
        let g = s.geometry, c = g.inChannels
        guard g.outChannels >= 16, let runs = runs(s) else { return false }
        let padded = CPUConvPadded(g, input: input, slack: (CPUGemm.mr * g.strideX + g.kernelWidth) * c)
        defer { padded.giveBack() }
        let depth = patchSize(s), nr = CPUGemm.nr
        let panels = (g.outChannels + nr - 1) / nr
        let packedFilterCount = depth * panels * nr, packedFilter = ThreadScratch.current.take(Float.self, packedFilterCount)
        defer { ThreadScratch.current.give(packedFilter, packedFilterCount) }
        CPUGemm.packB(CPUGemm.View(base: filter, rowStride: g.outChannels, columnStride: 1), row: 0, column: 0,
            depth: depth, width: g.outChannels, into: packedFilter)
        Parallel.forEachRange(g.batch, MaskedImplicitImages(g: g, padded: padded, packedFilter: packedFilter,
            output: output, runs: runs, c: c, depth: depth, nr: nr, panels: panels))
        return true
    }

    /// Output images of a range: micro-kernels over the active runs' padded input.
    struct MaskedImplicitImages: ParallelLoopBody {
        let g: Conv2DGeometry
        let padded: CPUConvPadded
        let packedFilter, output: UnsafeMutablePointer<Float>
        let runs: [Run]
        let c, depth, nr, panels: Int

        func callAsFunction(_ images: Range<Int>, _ worker: Int) {
            for n in images {
                for panel in 0..<panels {
                    let width = min(nr, g.outChannels - panel * nr)
                    for (index, run) in runs.enumerated() {
                        let b = packedFilter + (panel * depth + run.tap * c) * nr
                        for oy in 0..<g.outHeight {
                            let out = output + (n * g.outHeight + oy) * g.outWidth * g.outChannels + panel * nr
                            for ox in stride(from: 0, to: g.outWidth, by: CPUGemm.mr) {
                                CPUGemm.microKernel(
                                    depth: run.count * c,
                                    a: padded.patch(g, n: n, oy: oy, ox: ox) + (run.ky * padded.width + run.first) * c,
                                    aRowStride: g.strideX * c, aColumnStride: 1, b: b, alpha: 1,
                                    c: out + ox * g.outChannels, rowStride: g.outChannels, columnStride: 1,
                                    height: min(CPUGemm.mr, g.outWidth - ox), width: width, overwrite: index == 0)
                            }
                        }
                    }
                }
            }
        }
    }

    /// Stride-1 backward-data as the forward pass of the flipped mask over the output gradient
    /// (padding k − 1 − p, filter `[taps, out, in]`); false when it does not apply.
    static func backwardDataAsForward(_ s: MaskedConv2DShape, gradOutput: UnsafeMutablePointer<Float>,
        filter: UnsafeMutablePointer<Float>, gradInput: UnsafeMutablePointer<Float>) -> Bool {
        let g = s.geometry, (kh, kw) = (g.kernelHeight, g.kernelWidth)
        guard g.inChannels >= 16, let flippedGeometry = CPUConv.asForward(g),
            let flipped = try? MaskedConv2DShape(flippedGeometry,
                taps: s.taps.map { (ky: kh - 1 - $0 / kw, kx: kw - 1 - $0 % kw) }),
            runs(flipped) != nil
        else { return false }
        // flipped tap t' is original tap T − 1 − t (raster order reverses)
        let (taps, cin, cout) = (s.taps.count, g.inChannels, g.outChannels)
        let swappedCount = s.filterCount, swapped = ThreadScratch.current.take(Float.self, swappedCount)
        defer { ThreadScratch.current.give(swapped, swappedCount) }
        for t in 0..<taps {
            for ci in 0..<cin {
                for co in 0..<cout { swapped[((taps - 1 - t) * cout + co) * cin + ci] = filter[(t * cin + ci) * cout + co] }
            }
        }
        return forwardImplicit(flipped, input: gradOutput, filter: swapped, output: gradInput)
    }
    static func patchSize(_ s: MaskedConv2DShape) -> Int { s.taps.count * s.geometry.inChannels }

    /// The image offset of tap `tap` at output row `row` of the chunk, or nil in the padding.
    @inline(__always)
    static func source(_ g: Conv2DGeometry, tap: Int, image n: Int, oy: Int, ox: Int) -> Int? {
        let iy = oy * g.strideY - g.padTop + tap / g.kernelWidth
        let ix = ox * g.strideX - g.padLeft + tap % g.kernelWidth
        guard iy >= 0, iy < g.height, ix >= 0, ix < g.width else { return nil }
        return ((n * g.height + iy) * g.width + ix) * g.inChannels
    }

    /// Rows (n, oy, ox) of the active taps' input vectors, zero in the padding.
    static func im2col(_ s: MaskedConv2DShape, input: UnsafeMutablePointer<Float>, firstImage: Int, images: Int,
        columns: UnsafeMutablePointer<Float>) {
        let g = s.geometry, cin = g.inChannels, k = patchSize(s), pixels = g.outHeight * g.outWidth
        Parallel.forEachRange(images * pixels, grain: 64, MaskedImagesToColumns(s: s, g: g, input: input,
            columns: columns, firstImage: firstImage, pixels: pixels, k: k, cin: cin))
    }

    /// Rows of a range: the active taps' input vectors.
    struct MaskedImagesToColumns: ParallelLoopBody {
        let s: MaskedConv2DShape
        let g: Conv2DGeometry
        let input, columns: UnsafeMutablePointer<Float>
        let firstImage, pixels, k, cin: Int

        func callAsFunction(_ range: Range<Int>, _ worker: Int) {
            for row in range {
                let n = firstImage + row / pixels, oy = (row % pixels) / g.outWidth, ox = row % g.outWidth
                var dst = columns + row * k
                for tap in s.taps {
                    if let offset = source(g, tap: tap, image: n, oy: oy, ox: ox) {
                        dst.update(from: input + offset, count: cin)
                    } else {
                        dst.update(repeating: 0, count: cin)
                    }
                    dst += cin
                }
            }
        }
    }

    /// Scatter-adds column rows into the chunk's images (overwritten first); threads own images.
    static func col2im(_ s: MaskedConv2DShape, columns: UnsafeMutablePointer<Float>, firstImage: Int, images: Int,
        gradInput: UnsafeMutablePointer<Float>) {
        let g = s.geometry, cin = g.inChannels, k = patchSize(s), pixels = g.outHeight * g.outWidth
        let imageSize = g.height * g.width * cin
        Parallel.forEachRange(images, MaskedColumnsToImages(s: s, g: g, columns: columns, gradInput: gradInput,
            firstImage: firstImage, pixels: pixels, k: k, cin: cin, imageSize: imageSize))
    }

    /// Images of a range, each overwritten with its column rows' scatter-added sums.
    struct MaskedColumnsToImages: ParallelLoopBody {
        let s: MaskedConv2DShape
        let g: Conv2DGeometry
        let columns, gradInput: UnsafeMutablePointer<Float>
        let firstImage, pixels, k, cin, imageSize: Int

        func callAsFunction(_ range: Range<Int>, _ worker: Int) {
            for local in range {
                let n = firstImage + local
                (gradInput + n * imageSize).update(repeating: 0, count: imageSize)
                for p in 0..<pixels {
                    var src = columns + (local * pixels + p) * k
                    for tap in s.taps {
                        if let offset = source(g, tap: tap, image: n, oy: p / g.outWidth, ox: p % g.outWidth) {
                            let dst = gradInput + offset
                            for c in 0..<cin { dst[c] += src[c] }
                        }
                        src += cin
                    }
                }
            }
        }
    }

    /// Whether a 3×3 mask runs as the dense F(4×4, 3×3) Winograd convolution over its filter
    /// with zeros at the masked taps: 2.25 multiplies per output and channel pair, against 4 or
    /// 5 for the active taps of PixelCNN's masks. Larger kernels keep the masked passes
    /// (F(2×2, 5×5) spends 9 multiplies; a 5×5 type-B mask has 13 taps, and measured no faster).
    static func densePass(_ g: Conv2DGeometry) -> Bool {
        g.kernelHeight == 3 && g.kernelWidth == 3 && CPUConvWinograd.applies(g)
    }

    /// Calls `body` with room for a dense `[kh][kw][in][out]` filter from the calling thread's scratch.
    static func withDenseFilter(_ g: Conv2DGeometry, _ body: (UnsafeMutablePointer<Float>) -> Void) {
        let dense = ThreadScratch.current.take(Float.self, g.filterCount)
        defer { ThreadScratch.current.give(dense, g.filterCount) }
        body(dense)
    }

    /// The filter `[taps · in, out]` written to `dense` as a dense `[kh][kw][in][out]` one,
    /// zero at the masked taps.
    static func expand(_ s: MaskedConv2DShape, _ filter: UnsafeMutablePointer<Float>, into dense: UnsafeMutablePointer<Float>) {
        let g = s.geometry, block = g.inChannels * g.outChannels
        dense.update(repeating: 0, count: g.filterCount)
        for (t, tap) in s.taps.enumerated() { (dense + tap * block).update(from: filter + t * block, count: block) }
    }

    static func forward(_ s: MaskedConv2DShape, input: UnsafeMutablePointer<Float>, filter: UnsafeMutablePointer<Float>,
        output: UnsafeMutablePointer<Float>) {
        if densePass(s.geometry) {
            withDenseFilter(s.geometry) { dense in
                expand(s, filter, into: dense)
                CPUConv.forward(s.geometry, input: input, filter: dense, output: output)
            }
            return
        }
        if forwardImplicit(s, input: input, filter: filter, output: output) { return }
        let g = s.geometry, pixels = g.outHeight * g.outWidth
        CPUConv.forEachChunk(s.geometry, patch: patchSize(s)) { first, images, columns in
            im2col(s, input: input, firstImage: first, images: images, columns: columns)
            CPUGemm.run(GemmDescriptor(m: images * pixels, n: g.outChannels, k: patchSize(s)), a: columns, b: filter,
                c: output + first * pixels * g.outChannels)
        }
    }

    static func backwardData(_ s: MaskedConv2DShape, gradOutput: UnsafeMutablePointer<Float>,
        filter: UnsafeMutablePointer<Float>, gradInput: UnsafeMutablePointer<Float>) {
        if densePass(s.geometry), let flipped = CPUConv.asForward(s.geometry), CPUConvWinograd.applies(flipped) {
            withDenseFilter(s.geometry) { dense in
                expand(s, filter, into: dense)
                CPUConv.backwardData(s.geometry, gradOutput: gradOutput, filter: dense, gradInput: gradInput)
            }
            return
        }
        if backwardDataAsForward(s, gradOutput: gradOutput, filter: filter, gradInput: gradInput) { return }
        let g = s.geometry, pixels = g.outHeight * g.outWidth
        CPUConv.forEachChunk(s.geometry, patch: patchSize(s)) { first, images, columns in
            CPUGemm.run(GemmDescriptor(m: images * pixels, n: patchSize(s), k: g.outChannels, transposeB: true),
                a: gradOutput + first * pixels * g.outChannels, b: filter, c: columns)
            col2im(s, columns: columns, firstImage: first, images: images, gradInput: gradInput)
        }
    }

    static func backwardFilter(_ s: MaskedConv2DShape, input: UnsafeMutablePointer<Float>,
        gradOutput: UnsafeMutablePointer<Float>, gradFilter: UnsafeMutablePointer<Float>) {
        let g = s.geometry, pixels = g.outHeight * g.outWidth
        if densePass(g) {
            withDenseFilter(g) { dense in
                CPUConv.backwardFilter(g, input: input, gradOutput: gradOutput, gradFilter: dense)
                let block = g.inChannels * g.outChannels
                for (t, tap) in s.taps.enumerated() { (gradFilter + t * block).update(from: dense + tap * block, count: block) }
            }
            return
        }
        CPUConv.forEachChunk(s.geometry, patch: patchSize(s)) { first, images, columns in
            im2col(s, input: input, firstImage: first, images: images, columns: columns)
            CPUGemm.run(GemmDescriptor(m: patchSize(s), n: g.outChannels, k: images * pixels, transposeA: true,
                beta: first == 0 ? 0 : 1), a: columns, b: gradOutput + first * pixels * g.outChannels, c: gradFilter)
        }
    }
}

// MARK: Masked convolution on the CPU backend

extension CPUBackend {
    public func maskedConv2dForward(_ shape: MaskedConv2DShape, input: DeviceBuffer, filter: DeviceBuffer,
        output: DeviceBuffer) throws {
        try OpValidation.maskedConv(shape, input: input, filter: filter, output: output, op: "maskedConv2dForward")
        CPUMaskedConv.forward(shape, input: try pointer(input), filter: try pointer(filter), output: try pointer(output))
    }

    public func maskedConv2dBackwardData(_ shape: MaskedConv2DShape, gradOutput: DeviceBuffer, filter: DeviceBuffer,
        gradInput: DeviceBuffer) throws {
        try OpValidation.maskedConv(shape, input: gradInput, filter: filter, output: gradOutput, op: "maskedConv2dBackwardData")
        CPUMaskedConv.backwardData(shape, gradOutput: try pointer(gradOutput), filter: try pointer(filter),
            gradInput: try pointer(gradInput))
    }

    public func maskedConv2dBackwardFilter(_ shape: MaskedConv2DShape, input: DeviceBuffer, gradOutput: DeviceBuffer,
        gradFilter: DeviceBuffer) throws {
        try OpValidation.maskedConv(shape, input: input, filter: gradFilter, output: gradOutput, op: "maskedConv2dBackwardFilter")
        CPUMaskedConv.backwardFilter(shape, input: try pointer(input), gradOutput: try pointer(gradOutput),
            gradFilter: try pointer(gradFilter))
    }
}
