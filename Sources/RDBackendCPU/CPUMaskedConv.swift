import RDCompute

/// Masked convolutions on the CPU: im2col over the active taps only, then ``CPUGemm`` with
/// the `[taps · in, out]` filter, so masked-out taps cost neither copies nor multiply-adds.
/// Batch chunks keep the column matrix within ``CPUConv/columnBudget``.
enum CPUMaskedConv {
    static func patchSize(_ s: MaskedConv2DShape) -> Int { s.taps.count * s.geometry.inChannels }

    /// Calls `body(firstImage, images, columns)` per batch chunk with scratch for its columns.
    static func forEachChunk(_ s: MaskedConv2DShape, _ body: (Int, Int, UnsafeMutablePointer<Float>) -> Void) {
        let g = s.geometry
        let rowsPerImage = g.outHeight * g.outWidth
        let chunk = max(1, min(g.batch, CPUConv.columnBudget / max(1, rowsPerImage * patchSize(s))))
        let columns = UnsafeMutablePointer<Float>.allocate(capacity: chunk * rowsPerImage * patchSize(s))
        defer { columns.deallocate() }
        for first in stride(from: 0, to: g.batch, by: chunk) { body(first, min(chunk, g.batch - first), columns) }
    }

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
        Parallel.forEachRange(images * pixels, grain: 64) { range, _ in
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
        Parallel.forEachRange(images) { range, _ in
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

    static func forward(_ s: MaskedConv2DShape, input: UnsafeMutablePointer<Float>, filter: UnsafeMutablePointer<Float>,
        output: UnsafeMutablePointer<Float>) {
        let g = s.geometry, pixels = g.outHeight * g.outWidth
        forEachChunk(s) { first, images, columns in
            im2col(s, input: input, firstImage: first, images: images, columns: columns)
            CPUGemm.run(GemmDescriptor(m: images * pixels, n: g.outChannels, k: patchSize(s)), a: columns, b: filter,
                c: output + first * pixels * g.outChannels)
        }
    }

    static func backwardData(_ s: MaskedConv2DShape, gradOutput: UnsafeMutablePointer<Float>,
        filter: UnsafeMutablePointer<Float>, gradInput: UnsafeMutablePointer<Float>) {
        let g = s.geometry, pixels = g.outHeight * g.outWidth
        forEachChunk(s) { first, images, columns in
            CPUGemm.run(GemmDescriptor(m: images * pixels, n: patchSize(s), k: g.outChannels, transposeB: true),
                a: gradOutput + first * pixels * g.outChannels, b: filter, c: columns)
            col2im(s, columns: columns, firstImage: first, images: images, gradInput: gradInput)
        }
    }

    static func backwardFilter(_ s: MaskedConv2DShape, input: UnsafeMutablePointer<Float>,
        gradOutput: UnsafeMutablePointer<Float>, gradFilter: UnsafeMutablePointer<Float>) {
        let g = s.geometry, pixels = g.outHeight * g.outWidth
        forEachChunk(s) { first, images, columns in
            im2col(s, input: input, firstImage: first, images: images, columns: columns)
            CPUGemm.run(GemmDescriptor(m: patchSize(s), n: g.outChannels, k: images * pixels, transposeA: true,
                beta: first == 0 ? 0 : 1), a: columns, b: gradOutput + first * pixels * g.outChannels, c: gradFilter)
        }
    }
}
