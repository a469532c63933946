import RDCompute

/// Convolutions on the CPU as im2col + ``CPUGemm``, in batch chunks whose column matrix
/// stays within a few MiB. The forward pass skips im2col when the patch matrix is the
/// input itself (1×1 stride-1 kernels, and kernels that cover the whole unpadded image).
enum CPUConv {
    /// Floats of column matrix per chunk (16 MiB).
    static let columnBudget = 1 << 22

    static func patchSize(_ g: Conv2DGeometry) -> Int { g.kernelHeight * g.kernelWidth * g.inChannels }

    /// Whether the column matrix of an image equals the image (no copy needed).
    static func inputIsColumns(_ g: Conv2DGeometry) -> Bool {
        let unpadded = g.padTop == 0 && g.padBottom == 0 && g.padLeft == 0 && g.padRight == 0
        let pointwise = g.kernelHeight == 1 && g.kernelWidth == 1 && g.strideY == 1 && g.strideX == 1
        let whole = g.kernelHeight == g.height && g.kernelWidth == g.width
        return unpadded && (pointwise || whole)
    }

    /// Calls `body(firstImage, images, columns)` for each batch chunk with a scratch column
    /// matrix of `patch` floats per output pixel (default: every tap) for the chunk's images.
    static func forEachChunk(_ g: Conv2DGeometry, patch: Int? = nil, _ body: (Int, Int, UnsafeMutablePointer<Float>) -> Void) {
        let rowsPerImage = g.outHeight * g.outWidth, k = patch ?? patchSize(g)
        let chunk = max(1, min(g.batch, columnBudget / max(1, rowsPerImage * k)))
        let columnsCount = chunk * rowsPerImage * k, columns = ThreadScratch.current.take(Float.self, columnsCount)
        defer { ThreadScratch.current.give(columns, columnsCount) }
        for first in stride(from: 0, to: g.batch, by: chunk) {
            body(first, min(chunk, g.batch - first), columns)
        }
    }

    /// For a stride-1 geometry, the forward convolution that computes its backward-data pass:
    /// input = the output gradient, padding k − 1 − p on each side (nil when that would be negative).
    static func asForward(_ g: Conv2DGeometry) -> Conv2DGeometry? {
        guard g.strideY == 1, g.strideX == 1 else { return nil }
        let (top, bottom) = (g.kernelHeight - 1 - g.padTop, g.kernelHeight - 1 - g.padBottom)
        let (left, right) = (g.kernelWidth - 1 - g.padLeft, g.kernelWidth - 1 - g.padRight)
        guard min(top, bottom, left, right) >= 0 else { return nil }
        return Conv2DGeometry(batch: g.batch, height: g.outHeight, width: g.outWidth, inChannels: g.outChannels,
            outChannels: g.inChannels, kernelHeight: g.kernelHeight, kernelWidth: g.kernelWidth, padTop: top,
            padBottom: bottom, padLeft: left, padRight: right)
    }

    static func forward(_ g: Conv2DGeometry, input: UnsafeMutablePointer<Float>, filter: UnsafeMutablePointer<Float>,
        output: UnsafeMutablePointer<Float>) {
        forward(g, input: input, filter: filter, output: output, epilogue: NoEpilogue())
    }

    /// The forward pass, then `epilogue` on its output: on each image or tile as it is written
    /// (Winograd, implicit GEMM), else over the whole output after the pass.
    static func forward<E: ConvOutputEpilogue>(_ g: Conv2DGeometry, input: UnsafeMutablePointer<Float>,
        filter: UnsafeMutablePointer<Float>, output: UnsafeMutablePointer<Float>, epilogue: E) {
        let pixels = g.outHeight * g.outWidth
        let k = patchSize(g)
        if inputIsColumns(g) {
            CPUGemm.run(GemmDescriptor(m: g.batch * pixels, n: g.outChannels, k: k), a: input, b: filter, c: output)
        } else if CPUConvNarrow.applies(g) {
            CPUConvNarrow.forward(g, input: input, filter: filter, output: output)
        } else if CPUConvSixteen.appliesForward(g) {
            CPUConvSixteen.forward(g, input: input, filter: filter, output: output)
        } else if CPUConvWinograd.applies(g) {
            CPUConvWinograd.forward(g, input: input, filter: filter, output: output, epilogue: epilogue)
            return
        } else if CPUConvImplicit.applies(g) {
            CPUConvImplicit.forward(g, input: input, filter: filter, output: output, epilogue: epilogue)
            return
        } else {
            forEachChunk(g) { first, images, columns in
                im2col(g, input: input, firstImage: first, images: images, columns: columns)
                CPUGemm.run(GemmDescriptor(m: images * pixels, n: g.outChannels, k: k), a: columns, b: filter,
                    c: output + first * pixels * g.outChannels)
            }
        }
        epilogue.finishAll(pixels: g.batch * pixels)
    }

    static func backwardData(_ g: Conv2DGeometry, gradOutput: UnsafeMutablePointer<Float>,
        filter: UnsafeMutablePointer<Float>, gradInput: UnsafeMutablePointer<Float>) {
        backwardData(g, gradOutput: gradOutput, filter: filter, gradInput: gradInput, epilogue: NoEpilogue())
    }

    /// The backward-data pass, then `epilogue` on the input gradient: at stride 1 as the forward
    /// paths apply it (the flipped forward), per image by the phases, else over all of it after the pass.
    static func backwardData<E: ConvOutputEpilogue>(_ g: Conv2DGeometry, gradOutput: UnsafeMutablePointer<Float>,
        filter: UnsafeMutablePointer<Float>, gradInput: UnsafeMutablePointer<Float>, epilogue: E) {
        if let flipped = asForward(g), !inputIsColumns(g) {
            // Stride 1: a forward conv of the output gradient with the flipped, in/out-swapped
            // filter — a gather (im2col) instead of a scatter-add (col2im).
            let swappedCount = g.filterCount, swapped = ThreadScratch.current.take(Float.self, swappedCount)
            defer { ThreadScratch.current.give(swapped, swappedCount) }
            for ky in 0..<g.kernelHeight {
                for kx in 0..<g.kernelWidth {
                    for ci in 0..<g.inChannels {
                        for co in 0..<g.outChannels {
                            swapped[(((g.kernelHeight - 1 - ky) * g.kernelWidth + (g.kernelWidth - 1 - kx)) * g.outChannels + co)
                                * g.inChannels + ci] = filter[((ky * g.kernelWidth + kx) * g.inChannels + ci) * g.outChannels + co]
                        }
                    }
                }
            }
            forward(flipped, input: gradOutput, filter: swapped, output: gradInput, epilogue: epilogue)
            return
        }
        let pixels = g.outHeight * g.outWidth
        let k = patchSize(g)
        if CPUConvSixteen.appliesPhases(g) {
            CPUConvSixteen.backwardData(g, gradOutput: gradOutput, filter: filter, gradInput: gradInput)
        } else if CPUConvPhases.applies(g) {
            CPUConvPhases.backwardData(g, gradOutput: gradOutput, filter: filter, gradInput: gradInput, epilogue: epilogue)
            return
        } else if inputIsColumns(g) {
            CPUGemm.run(GemmDescriptor(m: g.batch * pixels, n: k, k: g.outChannels, transposeB: true),
                a: gradOutput, b: filter, c: gradInput)
        } else {
            forEachChunk(g) { first, images, columns in
                CPUGemm.run(GemmDescriptor(m: images * pixels, n: k, k: g.outChannels, transposeB: true),
                    a: gradOutput + first * pixels * g.outChannels, b: filter, c: columns)
                col2im(g, columns: columns, firstImage: first, images: images, gradInput: gradInput)
            }
        }
        epilogue.finishAll(pixels: g.batch * g.height * g.width)
    }

    static func backwardFilter(_ g: Conv2DGeometry, input: UnsafeMutablePointer<Float>,
        gradOutput: UnsafeMutablePointer<Float>, gradFilter: UnsafeMutablePointer<Float>) {
        let pixels = g.outHeight * g.outWidth
        let k = patchSize(g)
        if inputIsColumns(g) {
            CPUGemm.run(GemmDescriptor(m: k, n: g.outChannels, k: g.batch * pixels, transposeA: true),
                a: input, b: gradOutput, c: gradFilter)
            return
        }
        if CPUConvWinograd.applies(g) {
            CPUConvWinograd.backwardFilter(g, input: input, gradOutput: gradOutput, gradFilter: gradFilter)
            return
        }
        if CPUConvSixteen.appliesFilterGradient(g) {
            CPUConvSixteen.backwardFilter(g, input: input, gradOutput: gradOutput, gradFilter: gradFilter)
            return
        }
        if CPUConvFilterGradient.applies(g) {
            CPUConvFilterGradient.backwardFilter(g, input: input, gradOutput: gradOutput, gradFilter: gradFilter)
            return
        }
        if CPUConvNarrow.applies(g) {
            CPUConvNarrow.backwardFilter(g, input: input, gradOutput: gradOutput, gradFilter: gradFilter)
            return
        }
        forEachChunk(g) { first, images, columns in
            im2col(g, input: input, firstImage: first, images: images, columns: columns)
            CPUGemm.run(GemmDescriptor(m: k, n: g.outChannels, k: images * pixels, transposeA: true,
                beta: first == 0 ? 0 : 1), a: columns, b: gradOutput + first * pixels * g.outChannels, c: gradFilter)
        }
    }

    /// Rows (n, oy, ox) of patches [ky][kx][ci], zero outside the image.
    static func im2col(_ g: Conv2DGeometry, input: UnsafeMutablePointer<Float>, firstImage: Int, images: Int,
        columns: UnsafeMutablePointer<Float>) {
        let pixels = g.outHeight * g.outWidth
        let k = patchSize(g)
        let cin = g.inChannels
        Parallel.forEachRange(images * pixels, grain: 64, ImagesToColumns(g: g, input: input, columns: columns,
            firstImage: firstImage, pixels: pixels, k: k, cin: cin))
    }

    /// Patch rows of a range.
    struct ImagesToColumns: ParallelLoopBody {
        let g: Conv2DGeometry
        let input, columns: UnsafeMutablePointer<Float>
        let firstImage, pixels, k, cin: Int

        func callAsFunction(_ range: Range<Int>, _ worker: Int) {
            for row in range {
                let n = firstImage + row / pixels
                let oy = (row % pixels) / g.outWidth
                let ox = row % g.outWidth
                var dst = columns + row * k
                // A kernel row's taps are adjacent in the image: one copy per kernel row.
                let x0 = ox * g.strideX - g.padLeft
                let first = max(0, -x0), last = min(g.kernelWidth, g.width - x0)
                for ky in 0..<g.kernelHeight {
                    let iy = oy * g.strideY - g.padTop + ky
                    if iy >= 0 && iy < g.height && first < last {
                        dst.update(repeating: 0, count: first * cin)
                        (dst + first * cin).update(from: input + ((n * g.height + iy) * g.width + x0 + first) * cin,
                            count: (last - first) * cin)
                        (dst + last * cin).update(repeating: 0, count: (g.kernelWidth - last) * cin)
                    } else {
                        dst.update(repeating: 0, count: g.kernelWidth * cin)
                    }
                    dst += g.kernelWidth * cin
                }
            }
        }
    }

    /// Scatter-adds column rows back into images (overwrites those images); threads own images.
    static func col2im(_ g: Conv2DGeometry, columns: UnsafeMutablePointer<Float>, firstImage: Int, images: Int,
        gradInput: UnsafeMutablePointer<Float>) {
        let pixels = g.outHeight * g.outWidth
        let k = patchSize(g)
        let cin = g.inChannels
        let imageSize = g.height * g.width * cin
        Parallel.forEachRange(images, ColumnsToImages(g: g, columns: columns, gradInput: gradInput,
            firstImage: firstImage, pixels: pixels, k: k, cin: cin, imageSize: imageSize))
    }

    /// Images of a range, each overwritten with its column rows' scatter-added sums.
    struct ColumnsToImages: ParallelLoopBody {
        let g: Conv2DGeometry
        let columns, gradInput: UnsafeMutablePointer<Float>
        let firstImage, pixels, k, cin, imageSize: Int

        func callAsFunction(_ range: Range<Int>, _ worker: Int) {
            for local in range {
                let n = firstImage + local
                let image = gradInput + n * imageSize
                image.update(repeating: 0, count: imageSize)
                for p in 0..<pixels {
                    let oy = p / g.outWidth
                    let ox = p % g.outWidth
                    var src = columns + (local * pixels + p) * k
                    for ky in 0..<g.kernelHeight {
                        let iy = oy * g.strideY - g.padTop + ky
                        for kx in 0..<g.kernelWidth {
                            let ix = ox * g.strideX - g.padLeft + kx
                            if iy >= 0 && iy < g.height && ix >= 0 && ix < g.width {
                                let dst = image + (iy * g.width + ix) * cin
                                for c in 0..<cin { dst[c] += src[c] }
                            }
                            src += cin
                        }
                    }
                }
            }
        }
    }
}

// MARK: Convolution on the CPU backend

extension CPUBackend {
    public func conv2dForward(_ g: Conv2DGeometry, input: DeviceBuffer, filter: DeviceBuffer, output: DeviceBuffer) throws {
        try OpValidation.conv(g, input: input, filter: filter, output: output, op: "conv2dForward")
        CPUConv.forward(g, input: try pointer(input), filter: try pointer(filter), output: try pointer(output))
    }

    public func conv2dBackwardData(_ g: Conv2DGeometry, gradOutput: DeviceBuffer, filter: DeviceBuffer,
        gradInput: DeviceBuffer) throws {
        try OpValidation.conv(g, input: gradInput, filter: filter, output: gradOutput, op: "conv2dBackwardData")
        CPUConv.backwardData(g, gradOutput: try pointer(gradOutput), filter: try pointer(filter),
            gradInput: try pointer(gradInput))
    }

    public func conv2dBackwardFilter(_ g: Conv2DGeometry, input: DeviceBuffer, gradOutput: DeviceBuffer,
        gradFilter: DeviceBuffer) throws {
        try OpValidation.conv(g, input: input, filter: gradFilter, output: gradOutput, op: "conv2dBackwardFilter")
        CPUConv.backwardFilter(g, input: try pointer(input), gradOutput: try pointer(gradOutput),
            gradFilter: try pointer(gradFilter))
    }
}
