import RDCompute

/// Forward convolution as an implicit GEMM: no im2col. The input is copied once into a
/// zero-padded image; then for 8 output pixels of one output row, the patch rows of kernel
/// row `ky` are 8 contiguous runs of `kw·C` floats at stride `sx·C` — exactly the strided
/// A tile ``CPUGemm/microKernel`` reads in place. Each tile accumulates `kh` such segments
/// against the packed filter.
enum CPUConvImplicit {
    /// Worth it when the output has enough channels to fill the micro-kernel's columns.
    static func applies(_ g: Conv2DGeometry) -> Bool { g.outChannels >= 16 }

    /// The pass, with `epilogue` on each tile (short kernel rows) or image (long) once written.
    static func forward<E: ConvOutputEpilogue>(_ g: Conv2DGeometry, input: UnsafeMutablePointer<Float>,
        filter: UnsafeMutablePointer<Float>, output: UnsafeMutablePointer<Float>, epilogue: E) {
        let c = g.inChannels
        // slack after the last image: a partial tile's unused rows read (and discard) past it
        let slack = (CPUGemm.mr * g.strideX + g.kernelWidth) * c
        let wp = g.width + g.padLeft + g.padRight
        let depth = g.kernelHeight * g.kernelWidth * c
        let nr = CPUGemm.nr
        let panels = (g.outChannels + nr - 1) / nr
        let packedFilterCount = depth * panels * nr, packedFilter = ThreadScratch.current.take(Float.self, packedFilterCount)
        defer { ThreadScratch.current.give(packedFilter, packedFilterCount) }
        CPUGemm.packB(CPUGemm.View(base: filter, rowStride: g.outChannels, columnStride: 1), row: 0, column: 0,
            depth: depth, width: g.outChannels, into: packedFilter)
        let segment = g.kernelWidth * c
        let tiles = (g.outWidth + CPUGemm.mr - 1) / CPUGemm.mr
        if segment < 64 {
            // Short kernel rows (few input channels): the whole filter fits in L1, and each
            // tile runs all kernel rows in one call, its accumulators staying in registers.
            let padded = CPUConvPadded(g, input: input, slack: slack)
            defer { padded.giveBack() }
            Parallel.forEachRange(g.batch * g.outHeight * tiles, ImplicitTiles(g: g, padded: padded, output: output,
                packedFilter: packedFilter, c: c, wp: wp, depth: depth, nr: nr, panels: panels, segment: segment,
                tiles: tiles, epilogue: epilogue))
            return
        }
        // Long kernel rows: per image, padded into the worker's scratch, one kernel row's filter
        // segment (kw·C × 32 floats) stays in L1 while every 8-pixel tile of the image
        // accumulates against it.
        let scratch = CPUConvPadded.Scratch(g, slack: slack)
        defer { scratch.giveBack() }
        Parallel.forEachRange(g.batch, ImplicitImages(g: g, scratch: scratch, input: input, output: output,
            packedFilter: packedFilter, c: c, wp: wp, depth: depth, nr: nr, panels: panels, segment: segment,
            epilogue: epilogue))
    }

    /// Output images of a range, each padded into the worker's scratch: per panel and kernel row, every tile's segment.
    struct ImplicitImages<Epilogue: ConvOutputEpilogue>: ParallelLoopBody {
        let g: Conv2DGeometry
        let scratch: CPUConvPadded.Scratch
        let input, output, packedFilter: UnsafeMutablePointer<Float>
        let c, wp, depth, nr, panels, segment: Int
        let epilogue: Epilogue

        func callAsFunction(_ images: Range<Int>, _ worker: Int) {
            for n in images {
                let image = scratch.image(n, of: input, worker: worker)
                for panel in 0..<panels {
                    let width = min(nr, g.outChannels - panel * nr)
                    for ky in 0..<g.kernelHeight {
                        let b = packedFilter + (panel * depth + ky * segment) * nr
                        for oy in 0..<g.outHeight {
                            let out = output + (n * g.outHeight + oy) * g.outWidth * g.outChannels + panel * nr
                            for ox in stride(from: 0, to: g.outWidth, by: CPUGemm.mr) {
                                CPUGemm.microKernel(
                                    depth: segment, a: image.patch(g, n: 0, oy: oy, ox: ox) + ky * wp * c,
                                    aRowStride: g.strideX * c, aColumnStride: 1, b: b, alpha: 1,
                                    c: out + ox * g.outChannels, rowStride: g.outChannels, columnStride: 1,
                                    height: min(CPUGemm.mr, g.outWidth - ox), width: width, overwrite: ky == 0)
                            }
                        }
                    }
                }
                let pixels = g.outHeight * g.outWidth
                epilogue.finish((n * pixels)..<((n + 1) * pixels))
            }
        }
    }

    /// 8-pixel output tiles of a range, all kernel rows in one micro-kernel call per panel.
    struct ImplicitTiles<Epilogue: ConvOutputEpilogue>: ParallelLoopBody {
        let g: Conv2DGeometry
        let padded: CPUConvPadded
        let output, packedFilter: UnsafeMutablePointer<Float>
        let c, wp, depth, nr, panels, segment, tiles: Int
        let epilogue: Epilogue

        func callAsFunction(_ range: Range<Int>, _ worker: Int) {
            for tile in range {
                let row = tile / tiles, ox = (tile % tiles) * CPUGemm.mr
                let out = output + (row * g.outWidth + ox) * g.outChannels
                for panel in 0..<panels {
                    CPUGemm.microKernel(
                        depth: segment, a: padded.patch(g, n: row / g.outHeight, oy: row % g.outHeight, ox: ox),
                        aRowStride: g.strideX * c, aColumnStride: 1, b: packedFilter + panel * depth * nr, alpha: 1,
                        c: out + panel * nr, rowStride: g.outChannels, columnStride: 1,
                        height: min(CPUGemm.mr, g.outWidth - ox), width: min(nr, g.outChannels - panel * nr),
                        segments: g.kernelHeight, segmentStride: wp * c, overwrite: true)
                }
                let first = row * g.outWidth + ox
                epilogue.finish(first..<(first + min(CPUGemm.mr, g.outWidth - ox)))
            }
        }
    }
}
