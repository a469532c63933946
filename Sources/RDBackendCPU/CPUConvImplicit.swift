import RDCompute

/// Forward convolution as an implicit GEMM: no im2col. The input is copied once into a
/// zero-padded image; then for 8 output pixels of one output row, the patch rows of kernel
/// row `ky` are 8 contiguous runs of `kw·C` floats at stride `sx·C` — exactly the strided
/// A tile ``CPUGemm/microKernel`` reads in place. Each tile accumulates `kh` such segments
/// against the packed filter.
enum CPUConvImplicit {
    /// Worth it when a kernel row's run is long enough to feed the micro-kernel.
    static func applies(_ g: Conv2DGeometry) -> Bool { g.kernelWidth * g.inChannels >= 64 && g.outChannels >= 16 }

    static func forward(_ g: Conv2DGeometry, input: UnsafeMutablePointer<Float>, filter: UnsafeMutablePointer<Float>,
        output: UnsafeMutablePointer<Float>) {
        let c = g.inChannels
        let hp = g.height + g.padTop + g.padBottom, wp = g.width + g.padLeft + g.padRight
        let imageSize = hp * wp * c
        // slack after the last image: a partial tile's unused rows read (and discard) past it
        let slack = (CPUGemm.mr * g.strideX + g.kernelWidth) * c
        let padded = UnsafeMutablePointer<Float>.allocate(capacity: g.batch * imageSize + slack)
        defer { padded.deallocate() }
        (padded + g.batch * imageSize).update(repeating: 0, count: slack)
        Parallel.forEachRange(g.batch) { images, _ in
            for n in images {
                let image = padded + n * imageSize
                image.update(repeating: 0, count: imageSize)
                for y in 0..<g.height {
                    (image + ((y + g.padTop) * wp + g.padLeft) * c)
                        .update(from: input + ((n * g.height + y) * g.width) * c, count: g.width * c)
                }
            }
        }
        let depth = g.kernelHeight * g.kernelWidth * c
        let nr = CPUGemm.nr
        let panels = (g.outChannels + nr - 1) / nr
        let packedFilter = UnsafeMutablePointer<Float>.allocate(capacity: depth * panels * nr)
        defer { packedFilter.deallocate() }
        CPUGemm.packB(CPUGemm.View(base: filter, rowStride: g.outChannels, columnStride: 1), row: 0, column: 0,
            depth: depth, width: g.outChannels, into: packedFilter)
        output.update(repeating: 0, count: g.outputCount)
        let segment = g.kernelWidth * c
        Parallel.forEachRange(g.batch * g.outHeight) { rows, _ in
            for row in rows {
                let n = row / g.outHeight, oy = row % g.outHeight
                let rowBase = padded + n * imageSize + (oy * g.strideY * wp) * c
                for ox in stride(from: 0, to: g.outWidth, by: CPUGemm.mr) {
                    let height = min(CPUGemm.mr, g.outWidth - ox)
                    let tile = rowBase + ox * g.strideX * c
                    let out = output + (row * g.outWidth + ox) * g.outChannels
                    for panel in 0..<panels {
                        for ky in 0..<g.kernelHeight {
                            CPUGemm.microKernel(
                                depth: segment, a: tile + ky * wp * c, aRowStride: g.strideX * c, aColumnStride: 1,
                                b: packedFilter + (panel * depth + ky * segment) * nr, alpha: 1,
                                c: out + panel * nr, rowStride: g.outChannels, columnStride: 1, height: height,
                                width: min(nr, g.outChannels - panel * nr))
                        }
                    }
                }
            }
        }
    }
}
