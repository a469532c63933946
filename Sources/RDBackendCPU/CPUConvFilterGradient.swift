import RDCompute

/// Backward-filter as an implicit GEMM, without an im2col matrix.
///
/// When every kernel row holds a multiple of 8 floats and the output channels are a multiple
/// of 32, ``backwardFilterInPlace(_:input:gradOutput:gradFilter:)`` reads both operands where
/// they lie: `dW[j, co] = Σ_pixels patch[pixel, j] · dY[pixel, co]`, 8 patch columns
/// (contiguous in the padded image) against 32 channels of dY's rows, a block of output rows
/// per call. Nothing is packed.
///
/// Otherwise it computes `dWᵀ[co, j] = Σ_pixels dY[pixel, co] · patch[pixel, j]`: the output gradient is the micro-kernel's A, read in place (8 output channels per tile,
/// stride `outChannels` along the pixels). Patch columns are gathered 32 at a time from the
/// zero-padded input into a panel of ``depthBlock`` pixels that stays in L1 and is reused by
/// every 8-channel tile; when `kernelWidth·inChannels` is a multiple of 32 each panel row is
/// one contiguous run of the image. Fixed pixel ranges (a few per thread) keep private sums that
/// are added in a fixed order, so the result is deterministic for a given thread count.
enum CPUConvFilterGradient {
    /// Pixels per packed panel (256 × 32 floats = 32 KiB).
    static let depthBlock = 256

    static func applies(_ g: Conv2DGeometry) -> Bool { g.outChannels % CPUGemm.mr == 0 }

    /// Whether 8 adjacent patch columns never straddle two kernel rows, and dY's rows split
    /// into whole 32-channel panels: the conditions for reading both operands in place.
    static func readsInPlace(_ g: Conv2DGeometry) -> Bool {
        (g.kernelWidth * g.inChannels) % CPUGemm.mr == 0 && g.outChannels % CPUGemm.nr == 0
    }

    static func backwardFilter(_ g: Conv2DGeometry, input: UnsafeMutablePointer<Float>,
        gradOutput: UnsafeMutablePointer<Float>, gradFilter: UnsafeMutablePointer<Float>) {
        if readsInPlace(g) {
            backwardFilterInPlace(g, input: input, gradOutput: gradOutput, gradFilter: gradFilter)
            return
        }
        let nr = CPUGemm.nr, cout = g.outChannels
        let padded = CPUConvPadded(g, input: input, slack: 0)
        defer { padded.giveBack() }
        let patchSize = g.kernelHeight * g.kernelWidth * g.inChannels
        let panels = (patchSize + nr - 1) / nr
        let ldc = panels * nr
        // Offset of patch column j from the patch's first float; -1 for the zero padding past the patch.
        let segment = g.kernelWidth * g.inChannels
        let scratch = ThreadScratch.current
        let offsets = scratch.take(Int.self, ldc)
        defer { scratch.give(offsets, ldc) }
        for j in 0..<ldc { offsets[j] = j < patchSize ? (j / segment) * padded.width * padded.channels + j % segment : -1 }
        // Panels whose 32 columns are one contiguous run of the image.
        let contiguous = scratch.take(Bool.self, panels)
        defer { scratch.give(contiguous, panels) }
        for p in 0..<panels { contiguous[p] = offsets[p * nr + nr - 1] - offsets[p * nr] == nr - 1 && offsets[p * nr] >= 0 }

        let pixels = g.batch * g.outHeight * g.outWidth
        let parts = min(Parallel.threads * Parallel.chunksPerWorker, max(1, pixels / depthBlock))
        let partialCount = parts * cout * ldc, partial = scratch.take(Float.self, partialCount)
        defer { scratch.give(partial, partialCount) }
        partial.update(repeating: 0, count: parts * cout * ldc)
        Parallel.forEachRange(parts, PackedParts(g: g, padded: padded, offsets: offsets, contiguous: contiguous,
            gradOutput: gradOutput, partial: partial, nr: nr, cout: cout, ldc: ldc, panels: panels, pixels: pixels,
            parts: parts))
        for j in 0..<patchSize {
            for co in 0..<cout {
                var sum: Float = 0
                for part in 0..<parts { sum += partial[(part * cout + co) * ldc + j] }
                gradFilter[j * cout + co] = sum
            }
        }
    }

    /// Parts (fixed pixel ranges) of a range, each summed into its own partial gradient from packed patch columns.
    struct PackedParts: ParallelLoopBody {
        let g: Conv2DGeometry
        let padded: CPUConvPadded
        let offsets: UnsafeMutablePointer<Int>
        let contiguous: UnsafeMutablePointer<Bool>
        let gradOutput, partial: UnsafeMutablePointer<Float>
        let nr, cout, ldc, panels, pixels, parts: Int

        func callAsFunction(_ range: Range<Int>, _ worker: Int) {
            let scratch = ThreadScratch.current, pack = scratch.take(Float.self, depthBlock * nr)
            defer { scratch.give(pack, depthBlock * nr) }
            let patches = scratch.take(UnsafeMutablePointer<Float>.self, depthBlock)
            defer { scratch.give(patches, depthBlock) }
            for part in range {
                let sums = partial + part * cout * ldc
                let upper = pixels * (part + 1) / parts
                for first in stride(from: pixels * part / parts, to: upper, by: depthBlock) {
                    let depth = min(depthBlock, upper - first)
                    for d in 0..<depth {
                        let pixel = first + d
                        let ox = pixel % g.outWidth, rest = pixel / g.outWidth
                        patches[d] = padded.patch(g, n: rest / g.outHeight, oy: rest % g.outHeight, ox: ox)
                    }
                    for panel in 0..<panels {
                        let columns = offsets + panel * nr
                        if contiguous[panel] {
                            for d in 0..<depth {
                                let src = patches[d] + columns[0], dst = pack + d * nr
                                store16(load16(src), dst)
                                store16(load16(src + 16), dst + 16)
                            }
                        } else {
                            for d in 0..<depth {
                                let src = patches[d], dst = pack + d * nr
                                for j in 0..<nr { dst[j] = columns[j] >= 0 ? src[columns[j]] : 0 }
                            }
                        }
                        for tile in stride(from: 0, to: cout, by: CPUGemm.mr) {
                            CPUGemm.microKernel(
                                depth: depth, a: gradOutput + first * cout + tile, aRowStride: 1, aColumnStride: cout,
                                b: pack, alpha: 1, c: sums + tile * ldc + panel * nr, rowStride: ldc, columnStride: 1,
                                height: CPUGemm.mr, width: nr)
                        }
                    }
                }
            }
        }
    }

    /// Output pixels per micro-kernel call: about 128, whole output rows, so that the block of
    /// dY rows stays in L1 while every 8-column group of the patch runs against it.
    static let pixelsPerCall = 128

    /// The unpacked pass (see the type's documentation). Images are split into fixed parts,
    /// one private sum each, added in part order: deterministic for a given thread count.
    static func backwardFilterInPlace(_ g: Conv2DGeometry, input: UnsafeMutablePointer<Float>,
        gradOutput: UnsafeMutablePointer<Float>, gradFilter: UnsafeMutablePointer<Float>) {
        let (mr, nr, cout) = (CPUGemm.mr, CPUGemm.nr, g.outChannels)
        let scratch = CPUConvPadded.Scratch(g, slack: 0)
        defer { scratch.giveBack() }
        let patchSize = g.kernelHeight * g.kernelWidth * g.inChannels
        let segment = g.kernelWidth * g.inChannels
        let rowFloats = scratch.padded.width * g.inChannels
        let rowsPerCall = max(1, min(g.outHeight, pixelsPerCall / g.outWidth))
        let size = patchSize * cout
        let parts = max(1, min(Parallel.threads * Parallel.chunksPerWorker, g.batch))
        let partialCount = parts * size, partial = ThreadScratch.current.take(Float.self, partialCount)
        defer { ThreadScratch.current.give(partial, partialCount) }
        partial.update(repeating: 0, count: parts * size)
        Parallel.forEachRange(parts, InPlaceParts(g: g, scratch: scratch, input: input, gradOutput: gradOutput,
            partial: partial, mr: mr, nr: nr, cout: cout, patchSize: patchSize, segment: segment, rowFloats: rowFloats,
            rowsPerCall: rowsPerCall, size: size, parts: parts))
        Parallel.forEachRange(size, grain: 1 << 14, PartsAdded(gradFilter: gradFilter, partial: partial, size: size,
            parts: parts))
    }

    /// Parts (fixed image ranges) of a range, each summed into its own partial gradient.
    struct InPlaceParts: ParallelLoopBody {
        let g: Conv2DGeometry
        let scratch: CPUConvPadded.Scratch
        let input, gradOutput, partial: UnsafeMutablePointer<Float>
        let mr, nr, cout, patchSize, segment, rowFloats, rowsPerCall, size, parts: Int

        func callAsFunction(_ range: Range<Int>, _ worker: Int) {
            for part in range {
                let sums = partial + part * size
                for n in (g.batch * part / parts)..<(g.batch * (part + 1) / parts) {
                    let image = scratch.image(n, of: input, worker: worker)
                    for oy in stride(from: 0, to: g.outHeight, by: rowsPerCall) {
                        let dY = gradOutput + (n * g.outHeight + oy) * g.outWidth * cout
                        let patch = image.patch(g, n: 0, oy: oy, ox: 0)
                        for j in stride(from: 0, to: patchSize, by: mr) {
                            let columns = patch + (j / segment) * rowFloats + j % segment
                            for panel in stride(from: 0, to: cout, by: nr) {
                                CPUGemm.microKernel(
                                    depth: g.outWidth, a: columns, aRowStride: 1, aColumnStride: g.strideX * g.inChannels,
                                    b: dY + panel, bRowStride: cout, alpha: 1, c: sums + j * cout + panel, rowStride: cout,
                                    columnStride: 1, height: mr, width: nr, segments: min(rowsPerCall, g.outHeight - oy),
                                    segmentStride: g.strideY * rowFloats)
                            }
                        }
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
}
