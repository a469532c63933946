import RDCompute

/// Stride-1 convolutions with square 5×5 and 4×4 kernels by Winograd's minimal filtering
/// (Lavin & Gray, "Fast Algorithms for Convolutional Neural Networks", 2016): F(2×2, 5×5) and
/// F(3×3, 4×4), both on 6×6 input tiles with the interpolation points 0, ±1, ±2 and ∞.
///
/// An m×m output tile is `Aᵀ [Σ_c (G g_c Gᵀ) ⊙ (Bᵀ d_c B)] A`: per image, every tile's input
/// patch is transformed (`V = Bᵀ d B`, 16 channels per vector), then each of the 36 tile
/// positions is one GEMM `M_ξ = V_ξ · U_ξ` (tiles × C by C × K) on ``CPUGemm/microKernel``,
/// then `Aᵀ M A` is written out. That is 36 multiplies per channel pair for 4 (or 9) outputs
/// instead of 100 (or 144). Each worker keeps one image's transforms in L2.
enum CPUConvWinograd {
    /// Tile side: the transforms' `α = m + r − 1`.
    static let alpha = 6

    typealias V = SIMD16<Float>

    /// One F(m×m, r×r) on 6×6 tiles. `Bᵀ` is shared: it depends only on the points.
    protocol Tile {
        /// Output tile side m and kernel side r.
        static var m: Int { get }
        static var r: Int { get }
        /// `G`, 6×r row-major.
        static var g: [Float] { get }
        /// `Aᵀ` applied to a column of 6 vectors: the first m of the result are used.
        static func at(_ x: (V, V, V, V, V, V)) -> (V, V, V)
        /// The filter gradient's F(r×r, m×m), whose "filter" is an m×m tile of dY: its `G`
        /// (6×m) applied to a column of m vectors (the third is ignored when m = 2)...
        static func gradientG(_ x: (V, V, V)) -> (V, V, V, V, V, V)
        /// ...and its `Aᵀ`, r×6 row-major.
        static var gradientAt: [Float] { get }
    }

    /// F(2×2, 5×5): `Aᵀ = [1 1 1 1 1 0; 0 1 −1 2 −2 1]`.
    enum F2x5: Tile {
        static let m = 2, r = 5
        static let g: [Float] = [
            1.0 / 4, 0, 0, 0, 0,
            -1.0 / 6, -1.0 / 6, -1.0 / 6, -1.0 / 6, -1.0 / 6,
            -1.0 / 6, 1.0 / 6, -1.0 / 6, 1.0 / 6, -1.0 / 6,
            1.0 / 24, 1.0 / 12, 1.0 / 6, 1.0 / 3, 2.0 / 3,
            1.0 / 24, -1.0 / 12, 1.0 / 6, -1.0 / 3, 2.0 / 3,
            0, 0, 0, 0, 1,
        ]
        @inline(__always) static func at(_ x: (V, V, V, V, V, V)) -> (V, V, V) {
            let (p, q) = (x.1 + x.2, x.1 - x.2), (u, w) = (x.3 + x.4, x.3 - x.4)
            return (x.0 + p + u, q + 2 * w + x.5, V())
        }
        @inline(__always) static func gradientG(_ x: (V, V, V)) -> (V, V, V, V, V, V) {
            let (s, d) = (x.0 + x.1, x.0 - x.1), (e, h) = (x.0 * (1.0 / 24), x.1 * (1.0 / 12))
            return (x.0 * 0.25, s * (-1.0 / 6), d * (-1.0 / 6), e + h, e - h, x.1)
        }
        static let gradientAt: [Float] = [
            1, 1, 1, 1, 1, 0,
            0, 1, -1, 2, -2, 0,
            0, 1, 1, 4, 4, 0,
            0, 1, -1, 8, -8, 0,
            0, 1, 1, 16, 16, 1,
        ]
    }

    /// F(3×3, 4×4): `Aᵀ = [1 1 1 1 1 0; 0 1 −1 2 −2 0; 0 1 1 4 4 1]`.
    enum F3x4: Tile {
        static let m = 3, r = 4
        static let g: [Float] = [
            1.0 / 4, 0, 0, 0,
            -1.0 / 6, -1.0 / 6, -1.0 / 6, -1.0 / 6,
            -1.0 / 6, 1.0 / 6, -1.0 / 6, 1.0 / 6,
            1.0 / 24, 1.0 / 12, 1.0 / 6, 1.0 / 3,
            1.0 / 24, -1.0 / 12, 1.0 / 6, -1.0 / 3,
            0, 0, 0, 1,
        ]
        @inline(__always) static func at(_ x: (V, V, V, V, V, V)) -> (V, V, V) {
            let (p, q) = (x.1 + x.2, x.1 - x.2), (u, w) = (x.3 + x.4, x.3 - x.4)
            return (x.0 + p + u, q + 2 * w, p + 4 * u + x.5)
        }
        @inline(__always) static func gradientG(_ x: (V, V, V)) -> (V, V, V, V, V, V) {
            let p = x.0 + x.2, q = x.0 * (1.0 / 24) + x.2 * (1.0 / 6), h = x.1 * (1.0 / 12)
            return (x.0 * 0.25, (p + x.1) * (-1.0 / 6), (p - x.1) * (-1.0 / 6), q + h, q - h, x.2)
        }
        static let gradientAt: [Float] = [
            1, 1, 1, 1, 1, 0,
            0, 1, -1, 2, -2, 0,
            0, 1, 1, 4, 4, 0,
            0, 1, -1, 8, -8, 1,
        ]
    }

    /// `Bᵀ` (points 0, ±1, ±2, ∞) applied to a column of 6 vectors:
    /// `[4 0 −5 0 1 0; 0 −4 −4 1 1 0; 0 4 −4 −1 1 0; 0 −2 −1 2 1 0; 0 2 −1 −2 1 0; 0 4 0 −5 0 1]`.
    @inline(__always)
    static func bt(_ d: (V, V, V, V, V, V)) -> (V, V, V, V, V, V) {
        let a = d.4 - 4 * d.2, b = d.3 - 4 * d.1
        let c = d.4 - d.2, e = 2 * (d.3 - d.1)
        return (4 * d.0 - 5 * d.2 + d.4, a + b, a - b, c + e, c - e, 4 * d.1 - 5 * d.3 + d.5)
    }

    /// Runs `body` with the tile type for `g`, or returns false when the shape does not suit
    /// Winograd: stride 1, a square 5×5 or 4×4 kernel, input channels in vectors of 16 and
    /// output channels in panels of 32.
    static func applies(_ g: Conv2DGeometry) -> Bool {
        g.strideY == 1 && g.strideX == 1 && g.kernelHeight == g.kernelWidth && (4...5).contains(g.kernelHeight)
            && g.inChannels % 16 == 0 && g.outChannels % CPUGemm.nr == 0 && g.outHeight > 0 && g.outWidth > 0
    }

    static func forward(_ g: Conv2DGeometry, input: UnsafeMutablePointer<Float>, filter: UnsafeMutablePointer<Float>,
        output: UnsafeMutablePointer<Float>) {
        if g.outHeight >= Wide.minimumSize && g.outWidth >= Wide.minimumSize {
            Wide.forward(g, input: input, filter: filter, output: output)
        } else if g.kernelHeight == 5 {
            forward(F2x5.self, g, input: input, filter: filter, output: output)
        } else {
            forward(F3x4.self, g, input: input, filter: filter, output: output)
        }
    }

    /// How the output is cut into m×m tiles, and per-worker scratch for one padded image whose
    /// last tiles' 6×6 patches are in bounds too.
    struct Tiling {
        let m: Int, tilesX: Int, tiles: Int
        /// Tiles rounded up to the micro-kernel's 8 rows.
        let rows: Int
        let scratch: CPUConvPadded.Scratch

        init(_ g: Conv2DGeometry, m: Int) {
            self.m = m
            let tilesY = (g.outHeight + m - 1) / m
            tilesX = (g.outWidth + m - 1) / m
            tiles = tilesY * tilesX
            rows = CPUGemm.roundUp(tiles, CPUGemm.mr)
            var tiled = g
            tiled.padBottom += tilesY * m - g.outHeight
            tiled.padRight += tilesX * m - g.outWidth
            scratch = CPUConvPadded.Scratch(tiled, slack: 0)
        }

        /// The output pixel at the top left of `tile`.
        func origin(_ tile: Int) -> (y: Int, x: Int) { ((tile / tilesX) * m, (tile % tilesX) * m) }
    }

    /// Stores a column of 6 transformed vectors at `out`, `out + step`, … (one per tile row ξ).
    @inline(__always)
    static func store(_ r: (V, V, V, V, V, V), _ out: UnsafeMutablePointer<Float>, step: Int) {
        store16(r.0, out)
        store16(r.1, out + step)
        store16(r.2, out + 2 * step)
        store16(r.3, out + 3 * step)
        store16(r.4, out + 4 * step)
        store16(r.5, out + 5 * step)
    }

    /// `V_ξ[tile, c] = (Bᵀ d B)[ξ]` for every m-spaced 6×6 patch of a padded image, 16 channels at a
    /// time: `Bᵀ` along each row, then down each column. `V` is [36][rows][channels]; `temp` holds 36 vectors.
    @inline(__always)
    static func transformInput(_ image: CPUConvPadded, _ tiling: Tiling, into transformed: UnsafeMutablePointer<Float>,
        temp t: UnsafeMutablePointer<V>) {
        let (a, cin, wp, rows) = (alpha, image.channels, image.width, tiling.rows)
        for tile in 0..<tiling.tiles {
            let (y, x) = tiling.origin(tile)
            let origin = image.base + (y * wp + x) * cin
            for c in stride(from: 0, to: cin, by: 16) {
                for y in 0..<a {
                    let row = origin + y * wp * cin + c
                    let r = bt((load16(row), load16(row + cin), load16(row + 2 * cin), load16(row + 3 * cin),
                        load16(row + 4 * cin), load16(row + 5 * cin)))
                    (t[y], t[a + y], t[2 * a + y], t[3 * a + y], t[4 * a + y], t[5 * a + y]) = r
                }
                for x in 0..<a {
                    let column = t + x * a
                    store(bt((column[0], column[1], column[2], column[3], column[4], column[5])),
                        transformed + (x * rows + tile) * cin + c, step: a * rows * cin)
                }
            }
        }
    }

    static func forward<T: Tile>(_: T.Type, _ g: Conv2DGeometry, input: UnsafeMutablePointer<Float>,
        filter: UnsafeMutablePointer<Float>, output: UnsafeMutablePointer<Float>) {
        let (m, a, cin, cout) = (T.m, alpha, g.inChannels, g.outChannels)
        let tiling = Tiling(g, m: m)
        defer { tiling.scratch.deallocate() }
        let (tiles, rows) = (tiling.tiles, tiling.rows)
        let u = transformedFilter(g, alpha: a, matrix: T.g, filter: filter)
        defer { u.deallocate() }
        let (inputSize, productSize) = (a * a * rows * cin, a * a * rows * cout)
        let work = UnsafeMutablePointer<Float>.allocate(capacity: Parallel.threads * (inputSize + productSize))
        defer { work.deallocate() }
        // Rows past the last tile feed only products that are never read; zero them once anyway.
        work.update(repeating: 0, count: Parallel.threads * (inputSize + productSize))

        Parallel.forEachRange(g.batch) { images, worker in
            let transformed = work + worker * (inputSize + productSize)
            let products = transformed + inputSize
            withUnsafeTemporaryAllocation(of: V.self, capacity: a * a) { temp in
                let t = temp.baseAddress!
                for n in images {
                    let image = tiling.scratch.image(n, of: input, worker: worker)
                    transformInput(image, tiling, into: transformed, temp: t)
                    multiply(positions: a * a, tiling, cin: cin, cout: cout, transformed, u, into: products)
                    // Output tile = Aᵀ M A, clipped at the image's edge.
                    for tile in 0..<tiles {
                        let (oy, ox) = tiling.origin(tile)
                        let (height, width) = (min(m, g.outHeight - oy), min(m, g.outWidth - ox))
                        for k in stride(from: 0, to: cout, by: 16) {
                            let product = products + tile * cout + k, step = rows * cout
                            for y in 0..<a {
                                let row = product + y * a * step
                                let r = T.at((load16(row), load16(row + step), load16(row + 2 * step), load16(row + 3 * step),
                                    load16(row + 4 * step), load16(row + 5 * step)))
                                (t[y], t[a + y], t[2 * a + y]) = r
                            }
                            for j in 0..<width {
                                let column = t + j * a
                                let r = T.at((column[0], column[1], column[2], column[3], column[4], column[5]))
                                let out = output + ((n * g.outHeight + oy) * g.outWidth + ox + j) * cout + k
                                let rowStep = g.outWidth * cout
                                store16(r.0, out)
                                if height > 1 { store16(r.1, out + rowStep) }
                                if height > 2 { store16(r.2, out + 2 * rowStep) }
                            }
                        }
                    }
                }
            }
        }
    }

    static func backwardFilter(_ g: Conv2DGeometry, input: UnsafeMutablePointer<Float>,
        gradOutput: UnsafeMutablePointer<Float>, gradFilter: UnsafeMutablePointer<Float>) {
        if g.kernelHeight == 5 {
            backwardFilter(F2x5.self, g, input: input, gradOutput: gradOutput, gradFilter: gradFilter)
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
        defer { tiling.scratch.deallocate() }
        let (tiles, rows) = (tiling.tiles, tiling.rows)
        let (inputSize, gradSize, sumsSize) = (a * a * rows * cin, a * a * rows * cout, a * a * cin * cout)
        let work = UnsafeMutablePointer<Float>.allocate(capacity: Parallel.threads * (inputSize + gradSize))
        defer { work.deallocate() }
        let parts = max(1, min(Parallel.threads * Parallel.chunksPerWorker, g.batch))
        let partial = UnsafeMutablePointer<Float>.allocate(capacity: parts * sumsSize)
        defer { partial.deallocate() }
        partial.update(repeating: 0, count: parts * sumsSize)

        Parallel.forEachRange(parts) { range, worker in
            let transformed = work + worker * (inputSize + gradSize)
            let grads = transformed + inputSize
            withUnsafeTemporaryAllocation(of: V.self, capacity: a * a) { temp in
                let t = temp.baseAddress!
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
                                    var r = (V(), V(), V())
                                    if y < height {
                                        let row = dy + y * rowStep
                                        r.0 = load16(row)
                                        if width > 1 { r.1 = load16(row + cout) }
                                        if width > 2 { r.2 = load16(row + 2 * cout) }
                                    }
                                    (t[y], t[a + y], t[2 * a + y], t[3 * a + y], t[4 * a + y], t[5 * a + y]) = T.gradientG(r)
                                }
                                for x in 0..<a {
                                    let column = t + x * a
                                    store(T.gradientG((column[0], column[1], m > 2 ? column[2] : V())),
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
        // Parts in order, then dW = A′ᵀ M A′ per (c, 16 output channels).
        Parallel.forEachRange(sumsSize, grain: 1 << 14) { range, _ in
            for part in 1..<parts {
                let sums = partial + part * sumsSize
                for i in range { partial[i] += sums[i] }
            }
        }
        let r = T.r
        T.gradientAt.withUnsafeBufferPointer { at in
            let at = UnsafeSendable(at.baseAddress!)
            Parallel.forEachRange(cin) { channels, _ in
                withUnsafeTemporaryAllocation(of: V.self, capacity: a * r) { left in
                    let (left, at) = (left.baseAddress!, at.value)
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
    }

    /// F(4×4, 5×5) and F(5×5, 4×4) on 8×8 tiles (points 0, ±1, ±2, ±½, ∞), for forward passes
    /// over maps at least ``minimumSize`` wide: 64 multiplies per 16 (25) outputs against
    /// 36 per 4 (9) on 6×6 tiles. Smaller maps waste too much of the wider tiles.
    enum Wide {
        static let alpha = 8
        static let minimumSize = 12
        /// `G` of F(4×4, 5×5), 8×5.
        static let g4x5: [Float] = [
            -1, 0, 0, 0, 0,
            -2.0 / 9, -2.0 / 9, -2.0 / 9, -2.0 / 9, -2.0 / 9,
            -2.0 / 9, 2.0 / 9, -2.0 / 9, 2.0 / 9, -2.0 / 9,
            1.0 / 90, 1.0 / 45, 2.0 / 45, 4.0 / 45, 8.0 / 45,
            1.0 / 90, -1.0 / 45, 2.0 / 45, -4.0 / 45, 8.0 / 45,
            32.0 / 45, 16.0 / 45, 8.0 / 45, 4.0 / 45, 2.0 / 45,
            32.0 / 45, -16.0 / 45, 8.0 / 45, -4.0 / 45, 2.0 / 45,
            0, 0, 0, 0, 1,
        ]
        /// `G` of F(5×5, 4×4), 8×4.
        static let g5x4: [Float] = [
            -1, 0, 0, 0,
            -2.0 / 9, -2.0 / 9, -2.0 / 9, -2.0 / 9,
            -2.0 / 9, 2.0 / 9, -2.0 / 9, 2.0 / 9,
            1.0 / 90, 1.0 / 45, 2.0 / 45, 4.0 / 45,
            1.0 / 90, -1.0 / 45, 2.0 / 45, -4.0 / 45,
            32.0 / 45, 16.0 / 45, 8.0 / 45, 4.0 / 45,
            32.0 / 45, -16.0 / 45, 8.0 / 45, -4.0 / 45,
            0, 0, 0, 1,
        ]

        typealias Column = (V, V, V, V, V, V, V, V)

        /// `Bᵀ` applied to 8 vectors `d[0], d[s], …, d[7s]`.
        @inline(__always)
        static func bt(_ d: UnsafePointer<Float>, _ s: Int) -> Column {
            let (d0, d1, d2, d3) = (load16(d), load16(d + s), load16(d + 2 * s), load16(d + 3 * s))
            let (d4, d5, d6, d7) = (load16(d + 4 * s), load16(d + 5 * s), load16(d + 6 * s), load16(d + 7 * s))
            let a = d2 + d6 - 4.25 * d4, b = d1 + d5 - 4.25 * d3
            let c = 0.25 * d2 - 1.25 * d4 + d6, e = 0.5 * d1 - 2.5 * d3 + 2 * d5
            let f = 4 * d2 - 5 * d4 + d6, h = 2 * d1 - 2.5 * d3 + 0.5 * d5
            return (d6 - d0 + 5.25 * (d2 - d4), a + b, a - b, c + e, c - e, f + h, f - h, d7 - d1 + 5.25 * (d3 - d5))
        }

        /// `Aᵀ` (m×8, m = 4 or 5) applied to 8 vectors `x[0], x[s], …, x[7s]`: rows
        /// `[1 1 1 1 1 1 1 0; 0 1 −1 2 −2 ½ −½ 0; 0 1 1 4 4 ¼ ¼ 0; 0 1 −1 8 −8 ⅛ −⅛ (1 if m = 4);
        /// 0 1 1 16 16 1/16 1/16 1]`, the last only for m = 5.
        @inline(__always)
        static func at(_ x: UnsafePointer<Float>, _ s: Int, m: Int) -> (V, V, V, V, V) {
            let (m0, m1, m2, m3) = (load16(x), load16(x + s), load16(x + 2 * s), load16(x + 3 * s))
            let (m4, m5, m6, m7) = (load16(x + 4 * s), load16(x + 5 * s), load16(x + 6 * s), load16(x + 7 * s))
            let (p1, q1, p2, q2, p3, q3) = (m1 + m2, m1 - m2, m3 + m4, m3 - m4, m5 + m6, m5 - m6)
            let y3 = q1 + 8 * q2 + 0.125 * q3
            return (m0 + p1 + p2 + p3, q1 + 2 * q2 + 0.5 * q3, p1 + 4 * p2 + 0.25 * p3,
                m == 4 ? y3 + m7 : y3, p1 + 16 * p2 + 0.0625 * p3 + m7)
        }

        static func forward(_ g: Conv2DGeometry, input: UnsafeMutablePointer<Float>, filter: UnsafeMutablePointer<Float>,
            output: UnsafeMutablePointer<Float>) {
            let (a, cin, cout) = (alpha, g.inChannels, g.outChannels)
            let m = g.kernelHeight == 5 ? 4 : 5
            let tiling = Tiling(g, m: m)
            defer { tiling.scratch.deallocate() }
            let (tiles, rows) = (tiling.tiles, tiling.rows)
            let u = transformedFilter(g, alpha: a, matrix: m == 4 ? g4x5 : g5x4, filter: filter)
            defer { u.deallocate() }
            let (inputSize, productSize) = (a * a * rows * cin, a * a * rows * cout)
            let work = UnsafeMutablePointer<Float>.allocate(capacity: Parallel.threads * (inputSize + productSize))
            defer { work.deallocate() }
            work.update(repeating: 0, count: Parallel.threads * (inputSize + productSize))
            Parallel.forEachRange(g.batch) { images, worker in
                let transformed = work + worker * (inputSize + productSize)
                let products = transformed + inputSize
                withUnsafeTemporaryAllocation(of: Float.self, capacity: a * a * 16) { temp in
                    let t = temp.baseAddress!
                    for n in images {
                        let image = tiling.scratch.image(n, of: input, worker: worker)
                        let wp = image.width
                        // V = Bᵀ d B: along each row into t (column-major), then down each column.
                        for tile in 0..<tiles {
                            let (y0, x0) = tiling.origin(tile)
                            let origin = image.base + (y0 * wp + x0) * cin
                            for c in stride(from: 0, to: cin, by: 16) {
                                for y in 0..<a {
                                    let r = bt(origin + y * wp * cin + c, cin)
                                    store(r, t + y * 16, step: a * 16)
                                }
                                for x in 0..<a {
                                    store(bt(t + x * a * 16, 16), transformed + (x * rows + tile) * cin + c, step: a * rows * cin)
                                }
                            }
                        }
                        multiply(positions: a * a, tiling, cin: cin, cout: cout, transformed, u, into: products)
                        // Output tile = Aᵀ M A, clipped at the image's edge.
                        for tile in 0..<tiles {
                            let (oy, ox) = tiling.origin(tile)
                            let (height, width) = (min(m, g.outHeight - oy), min(m, g.outWidth - ox))
                            for k in stride(from: 0, to: cout, by: 16) {
                                let product = products + tile * cout + k, step = rows * cout
                                for y in 0..<a {
                                    let r = at(product + y * a * step, step, m: m)
                                    store16(r.0, t + y * 16)
                                    store16(r.1, t + (a + y) * 16)
                                    store16(r.2, t + (2 * a + y) * 16)
                                    store16(r.3, t + (3 * a + y) * 16)
                                    store16(r.4, t + (4 * a + y) * 16)
                                }
                                for j in 0..<width {
                                    let r = at(t + j * a * 16, 16, m: m)
                                    let out = output + ((n * g.outHeight + oy) * g.outWidth + ox + j) * cout + k
                                    let rowStep = g.outWidth * cout
                                    store16(r.0, out)
                                    if height > 1 { store16(r.1, out + rowStep) }
                                    if height > 2 { store16(r.2, out + 2 * rowStep) }
                                    if height > 3 { store16(r.3, out + 3 * rowStep) }
                                    if height > 4 { store16(r.4, out + 4 * rowStep) }
                                }
                            }
                        }
                    }
                }
            }
        }

        /// Stores 8 vectors at `out`, `out + step`, ….
        @inline(__always)
        static func store(_ r: Column, _ out: UnsafeMutablePointer<Float>, step: Int) {
            store16(r.0, out)
            store16(r.1, out + step)
            store16(r.2, out + 2 * step)
            store16(r.3, out + 3 * step)
            store16(r.4, out + 4 * step)
            store16(r.5, out + 5 * step)
            store16(r.6, out + 6 * step)
            store16(r.7, out + 7 * step)
        }
    }

    /// `M_ξ = V_ξ · U_ξ` for every tile position ξ: (tiles × C) by (C × K), the micro-kernel's
    /// A read in place from V's rows, its B the packed `U_ξ`.
    @inline(__always)
    static func multiply(positions: Int, _ tiling: Tiling, cin: Int, cout: Int, _ transformed: UnsafeMutablePointer<Float>,
        _ u: UnsafeMutablePointer<Float>, into products: UnsafeMutablePointer<Float>) {
        let (tiles, rows) = (tiling.tiles, tiling.rows)
        for xi in 0..<positions {
            for i in stride(from: 0, to: tiles, by: CPUGemm.mr) {
                for panel in stride(from: 0, to: cout, by: CPUGemm.nr) {
                    CPUGemm.microKernel(
                        depth: cin, a: transformed + (xi * rows + i) * cin, aRowStride: cin, aColumnStride: 1,
                        b: u + xi * cin * cout + panel * cin, alpha: 1,
                        c: products + (xi * rows + i) * cout + panel, rowStride: cout, columnStride: 1,
                        height: min(CPUGemm.mr, tiles - i), width: CPUGemm.nr, overwrite: true)
                }
            }
        }
    }

    /// `U_ξ = (G g Gᵀ)[ξ]` for every input/output channel pair, packed as the micro-kernel's B:
    /// for each ξ, `cout / 32` panels of `cin` rows of 32 floats. Vectorised over 16 output channels.
    static func transformedFilter(_ g: Conv2DGeometry, alpha a: Int, matrix: [Float], filter: UnsafeMutablePointer<Float>)
        -> UnsafeMutablePointer<Float> {
        let (r, cin, cout, nr) = (g.kernelHeight, g.inChannels, g.outChannels, CPUGemm.nr)
        let u = UnsafeMutablePointer<Float>.allocate(capacity: a * a * cin * cout)
        matrix.withUnsafeBufferPointer { gm in
            let gm = UnsafeSendable(gm.baseAddress!)
            Parallel.forEachRange(cin) { channels, _ in
                withUnsafeTemporaryAllocation(of: V.self, capacity: a * r) { left in
                    let left = left.baseAddress!, gm = gm.value
                    for c in channels {
                        for k in stride(from: 0, to: cout, by: 16) {
                            // left = G · w (α×r), then U = left · Gᵀ (α×α)
                            for i in 0..<a {
                                for x in 0..<r {
                                    var sum = V()
                                    for y in 0..<r where gm[i * r + y] != 0 {
                                        sum.addProduct(load16(filter + ((y * g.kernelWidth + x) * cin + c) * cout + k),
                                            V(repeating: gm[i * r + y]))
                                    }
                                    left[i * r + x] = sum
                                }
                            }
                            for i in 0..<a {
                                for j in 0..<a {
                                    var sum = V()
                                    for x in 0..<r where gm[j * r + x] != 0 {
                                        sum.addProduct(left[i * r + x], V(repeating: gm[j * r + x]))
                                    }
                                    store16(sum, u + (i * a + j) * cin * cout + (k / nr) * cin * nr + c * nr + k % nr)
                                }
                            }
                        }
                    }
                }
            }
        }
        return u
    }
}
