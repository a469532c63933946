import RDCompute

extension CPUConvWinograd {
    static func backwardFilter(_ g: Conv2DGeometry, input: UnsafeMutablePointer<Float>,
        gradOutput: UnsafeMutablePointer<Float>, gradFilter: UnsafeMutablePointer<Float>) {
        if g.kernelHeight == 5 {
            backwardFilter(F2x5.self, g, input: input, gradOutput: gradOutput, gradFilter: gradFilter)
        } else if g.kernelHeight == 3 {
            backwardFilter(F4x3.self, g, input: input, gradOutput: gradOutput, gradFilter: gradFilter)
        } else {
            backwardFilter(F3x4.self, g, input: input, gradOutput: gradOutput, gradFilter: gradFilter)
        }
    }

    /// The filter gradient as F(r×r, m×m) over the forward pass's tiles: each tile adds the
    /// correlation of its 6×6 input patch with its m×m tile of dY, so with `V` as in the forward
    /// pass and `W = G′ dy G′ᵀ`, `dW = A′ᵀ [Σ_tiles V ⊙ W] A′`. The sum over tiles is 36 GEMMs of
    /// depth = tiles per image (C × tiles by tiles × K, both read in place). Images are split into
    /// fixed parts with private sums added in part order: deterministic for a given thread count.
    static func backwardFilter<T: Tile>(_: T.Type, _ g: Conv2DGeometry, input: UnsafeMutablePointer<Float>,
        gradOutput: UnsafeMutablePointer<Float>, gradFilter: UnsafeMutablePointer<Float>) {
        let (m, a, cin, cout) = (T.m, alpha, g.inChannels, g.outChannels)
        let tiling = Tiling(g, m: m)
        defer { tiling.scratch.giveBack() }
        let (tiles, rows) = (tiling.tiles, tiling.rows)
        let (inputSize, gradSize, sumsSize) = (a * a * rows * cin, a * a * rows * cout, a * a * cin * cout)
        let workCount = Parallel.threads * (inputSize + gradSize), work = ThreadScratch.current.take(Float.self, workCount)
        defer { ThreadScratch.current.give(work, workCount) }
        let parts = max(1, min(Parallel.threads * Parallel.chunksPerWorker, g.batch))
        let partialCount = parts * sumsSize, partial = ThreadScratch.current.take(Float.self, partialCount)
        defer { ThreadScratch.current.give(partial, partialCount) }
        partial.update(repeating: 0, count: parts * sumsSize)

        Parallel.forEachRange(parts, FilterGradientParts<T>(g: g, tiling: tiling, input: input, gradOutput: gradOutput,
            work: work, partial: partial, m: m, a: a, cin: cin, cout: cout, tiles: tiles, rows: rows,
            inputSize: inputSize, gradSize: gradSize, sumsSize: sumsSize, parts: parts))
        // Parts in order, then dW = A′ᵀ M A′ per (c, 16 output channels).
        Parallel.forEachRange(sumsSize, grain: 1 << 14, PartsAddedToFirst(partial: partial, sumsSize: sumsSize,
            parts: parts))
        let r = T.r
        T.gradientAt.withUnsafeBufferPointer { at in
            Parallel.forEachRange(cin, FilterGradientChannels(g: g, at: at.baseAddress!, partial: partial,
                gradFilter: gradFilter, a: a, r: r, cin: cin, cout: cout))
        }
    }

    /// Parts (fixed image ranges) of a range, each summed into its own partial sums_ξ.
    struct FilterGradientParts<T: Tile>: ParallelLoopBody {
        let g: Conv2DGeometry
        let tiling: Tiling
        let input, gradOutput, work, partial: UnsafeMutablePointer<Float>
        let m, a, cin, cout, tiles, rows, inputSize, gradSize, sumsSize, parts: Int

        func callAsFunction(_ range: Range<Int>, _ worker: Int) {
            let transformed = work + worker * (inputSize + gradSize)
            let grads = transformed + inputSize
            let scratch = ThreadScratch.current, t = scratch.take(V.self, a * a)
            defer { scratch.give(t, a * a) }
            for part in range {
                let sums = partial + part * sumsSize
                for n in (g.batch * part / parts)..<(g.batch * (part + 1) / parts) {
                    let image = tiling.scratch.image(n, of: input, worker: worker)
                    transformInput(image, tiling, into: transformed, temp: t)
                    // W_ξ[tile, k] = (G′ dy G′ᵀ)[ξ], dy zero past the image's edge.
                    for tile in 0..<tiles {
                        let (oy, ox) = tiling.origin(tile)
                        let (height, width) = (min(m, g.outHeight - oy), min(m, g.outWidth - ox))
                        for k in stride(from: 0, to: cout, by: 16) {
                            let dy = gradOutput + ((n * g.outHeight + oy) * g.outWidth + ox) * cout + k
                            let rowStep = g.outWidth * cout
                            for y in 0..<m {
                                var r = (V(), V(), V(), V())
                                if y < height {
                                    let row = dy + y * rowStep
                                    r.0 = load16(row)
                                    if width > 1 { r.1 = load16(row + cout) }
                                    if width > 2 { r.2 = load16(row + 2 * cout) }
                                    if width > 3 { r.3 = load16(row + 3 * cout) }
                                }
                                (t[y], t[a + y], t[2 * a + y], t[3 * a + y], t[4 * a + y], t[5 * a + y]) = T.gradientG(r)
                            }
                            for x in 0..<a {
                                let column = t + x * a
                                store(T.gradientG((column[0], column[1], m > 2 ? column[2] : V(), m > 3 ? column[3] : V())),
                                    grads + (x * rows + tile) * cout + k, step: a * rows * cout)
                            }
                        }
                    }
                    // sums_ξ += V_ξᵀ · W_ξ: 8 input channels (adjacent in V's rows) × 32 output channels.
                    for xi in 0..<(a * a) {
                        for c in stride(from: 0, to: cin, by: CPUGemm.mr) {
                            for panel in stride(from: 0, to: cout, by: CPUGemm.nr) {
                                CPUGemm.microKernel(
                                    depth: tiles, a: transformed + xi * rows * cin + c, aRowStride: 1, aColumnStride: cin,
                                    b: grads + xi * rows * cout + panel, bRowStride: cout, alpha: 1,
                                    c: sums + (xi * cin + c) * cout + panel, rowStride: cout, columnStride: 1,
                                    height: CPUGemm.mr, width: CPUGemm.nr)
                            }
                        }
                    }
                }
            }
        }
    }

    /// A range of the sums: the other parts' sums added into part 0's in part order.
    struct PartsAddedToFirst: ParallelLoopBody {
        let partial: UnsafeMutablePointer<Float>
        let sumsSize, parts: Int

        func callAsFunction(_ range: Range<Int>, _ worker: Int) {
            for part in 1..<parts {
                let sums = partial + part * sumsSize
                for i in range { partial[i] += sums[i] }
            }
        }
    }

    /// dW = A′ᵀ M A′ for the input channels of a range.
    struct FilterGradientChannels: ParallelLoopBody {
        let g: Conv2DGeometry
        let at: UnsafePointer<Float>
        let partial, gradFilter: UnsafeMutablePointer<Float>
        let a, r, cin, cout: Int

        func callAsFunction(_ channels: Range<Int>, _ worker: Int) {
            let scratch = ThreadScratch.current, left = scratch.take(V.self, a * r)
            defer { scratch.give(left, a * r) }
            for c in channels {
                for k in stride(from: 0, to: cout, by: 16) {
                    for i in 0..<r {
                        for x in 0..<a {
                            var sum = V()
                            for y in 0..<a where at[i * a + y] != 0 {
                                sum.addProduct(load16(partial + ((y * a + x) * cin + c) * cout + k), V(repeating: at[i * a + y]))
                            }
                            left[i * a + x] = sum
                        }
                    }
                    for i in 0..<r {
                        for j in 0..<r {
                            var sum = V()
                            for x in 0..<a where at[j * a + x] != 0 { sum.addProduct(left[i * a + x], V(repeating: at[j * a + x])) }
                            store16(sum, gradFilter + ((i * g.kernelWidth + j) * cin + c) * cout + k)
                        }
                    }
                }
            }
        }
    }
}
