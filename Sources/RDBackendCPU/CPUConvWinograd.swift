import RDCompute

/// Stride-1 convolutions with square 3×3, 4×4 and 5×5 kernels by Winograd's minimal filtering
/// (Lavin & Gray, "Fast Algorithms for Convolutional Neural Networks", 2016).
///
/// An m×m output tile is `Aᵀ [Σ_c (G g_c Gᵀ) ⊙ (Bᵀ d_c B)] A`: per image, every tile's input
/// patch is transformed (`V = Bᵀ d B`, 16 channels per vector), then each of the α² tile
/// positions is one GEMM `M_ξ = V_ξ · U_ξ` (tiles × C by C × K) on ``CPUGemm/microKernel``,
/// then `Aᵀ M A` is written out. Each worker keeps one image's transforms in L2.
///
/// - This file: F(2×2, 5×5), F(4×4, 3×3) and F(3×3, 4×4) on 6×6 tiles (points 0, ±1, ±2, ∞):
///   every 5×5 and 3×3 kernel, and 4×4 kernels on maps narrower than 12; and the parts every
///   variant shares.
/// - `CPUConvWinogradWide.swift`: F(5×5, 4×4) on 8×8 tiles for 4×4 kernels on wider maps.
/// - `CPUConvWinogradFilterGradient.swift`: the filter gradient over the 6×6 tiles.
enum CPUConvWinograd {
    /// Tile side of the 6×6 variants: `α = m + r − 1`.
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
        static func at(_ x: (V, V, V, V, V, V)) -> (V, V, V, V)
        /// The filter gradient's F(r×r, m×m), whose "filter" is an m×m tile of dY: its `G`
        /// (6×m) applied to a column of m vectors (those past the m-th are ignored)...
        static func gradientG(_ x: (V, V, V, V)) -> (V, V, V, V, V, V)
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
        @inline(__always) static func at(_ x: (V, V, V, V, V, V)) -> (V, V, V, V) {
            let (p, q) = (x.1 + x.2, x.1 - x.2), (u, w) = (x.3 + x.4, x.3 - x.4)
            return (x.0 + p + u, q + 2 * w + x.5, V(), V())
        }
        @inline(__always) static func gradientG(_ x: (V, V, V, V)) -> (V, V, V, V, V, V) {
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
        @inline(__always) static func at(_ x: (V, V, V, V, V, V)) -> (V, V, V, V) {
            let (p, q) = (x.1 + x.2, x.1 - x.2), (u, w) = (x.3 + x.4, x.3 - x.4)
            return (x.0 + p + u, q + 2 * w, p + 4 * u + x.5, V())
        }
        @inline(__always) static func gradientG(_ x: (V, V, V, V)) -> (V, V, V, V, V, V) {
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

    /// F(4×4, 3×3): `Aᵀ = [1 1 1 1 1 0; 0 1 −1 2 −2 0; 0 1 1 4 4 0; 0 1 −1 8 −8 1]`. Its filter
    /// gradient is F(3×3, 4×4), with ``F3x4``'s `G` and `Aᵀ`.
    enum F4x3: Tile {
        static let m = 4, r = 3
        static let g: [Float] = [
            1.0 / 4, 0, 0,
            -1.0 / 6, -1.0 / 6, -1.0 / 6,
            -1.0 / 6, 1.0 / 6, -1.0 / 6,
            1.0 / 24, 1.0 / 12, 1.0 / 6,
            1.0 / 24, -1.0 / 12, 1.0 / 6,
            0, 0, 1,
        ]
        @inline(__always) static func at(_ x: (V, V, V, V, V, V)) -> (V, V, V, V) {
            let (p, q) = (x.1 + x.2, x.1 - x.2), (u, w) = (x.3 + x.4, x.3 - x.4)
            return (x.0 + p + u, q + 2 * w, p + 4 * u, q + 8 * w + x.5)
        }
        @inline(__always) static func gradientG(_ x: (V, V, V, V)) -> (V, V, V, V, V, V) {
            let (s, d) = (x.0 + x.2, x.1 + x.3)
            let (e, h) = (x.0 * (1.0 / 24) + x.2 * (1.0 / 6), x.1 * (1.0 / 12) + x.3 * (1.0 / 3))
            return (x.0 * 0.25, (s + d) * (-1.0 / 6), (s - d) * (-1.0 / 6), e + h, e - h, x.3)
        }
        static let gradientAt: [Float] = [
            1, 1, 1, 1, 1, 0,
            0, 1, -1, 2, -2, 0,
            0, 1, 1, 4, 4, 1,
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

    /// Output pixels × channels (in + out) of one image above which a worker's transforms
    /// (about 9× that on 6×6 tiles) would no longer fit in L2: such maps take the implicit GEMM.
    static let maximumImageFloats = 1 << 19

    /// Whether `g` suits Winograd: stride 1, a square 3×3, 4×4 or 5×5 kernel, input channels in
    /// vectors of 16, output channels in panels of 32, and one image small enough to transform
    /// in a worker's cache.
    static func applies(_ g: Conv2DGeometry) -> Bool {
        g.strideY == 1 && g.strideX == 1 && g.kernelHeight == g.kernelWidth && (3...5).contains(g.kernelHeight)
            && g.inChannels % 16 == 0 && g.outChannels % CPUGemm.nr == 0 && g.outHeight > 0 && g.outWidth > 0
            && g.outHeight * g.outWidth * (g.inChannels + g.outChannels) <= maximumImageFloats
    }

    /// The pass, with `epilogue` on each image once its output is written.
    static func forward<E: ConvOutputEpilogue>(_ g: Conv2DGeometry, input: UnsafeMutablePointer<Float>,
        filter: UnsafeMutablePointer<Float>, output: UnsafeMutablePointer<Float>, epilogue: E) {
        if g.kernelHeight == 4 && g.outHeight >= Wide.minimumSize && g.outWidth >= Wide.minimumSize {
            Wide.forward(g, input: input, filter: filter, output: output, epilogue: epilogue)
        } else if g.kernelHeight == 5 {
            forward(F2x5.self, g, input: input, filter: filter, output: output, epilogue: epilogue)
        } else if g.kernelHeight == 3 {
            forward(F4x3.self, g, input: input, filter: filter, output: output, epilogue: epilogue)
        } else {
            forward(F3x4.self, g, input: input, filter: filter, output: output, epilogue: epilogue)
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

    static func forward<T: Tile, E: ConvOutputEpilogue>(_: T.Type, _ g: Conv2DGeometry, input: UnsafeMutablePointer<Float>,
        filter: UnsafeMutablePointer<Float>, output: UnsafeMutablePointer<Float>, epilogue: E) {
        forwardTiles(g, alpha: alpha, m: T.m, matrix: T.g, input: input, filter: filter,
            transforms: TileTransforms<T>(g: g, output: output), epilogue: epilogue)
    }

    /// The two per-image transforms of a forward pass, around its α² GEMMs; `temp` holds α² vectors.
    protocol ForwardTransforms {
        /// `V` of a padded image, into `transformed`.
        func transformInput(_ image: CPUConvPadded, _ tiling: Tiling, into transformed: UnsafeMutablePointer<Float>,
            temp: UnsafeMutablePointer<V>)
        /// Image `n`'s output from its products `M`.
        func transformOutput(_ n: Int, _ tiling: Tiling, _ products: UnsafeMutablePointer<Float>,
            temp: UnsafeMutablePointer<V>)
    }

    /// F(m×m, r×r) on 6×6 tiles: ``transformInput(_:_:into:temp:)``, then `Aᵀ M A` into `output`.
    struct TileTransforms<T: Tile>: ForwardTransforms {
        let g: Conv2DGeometry
        let output: UnsafeMutablePointer<Float>

        @inline(__always)
        func transformInput(_ image: CPUConvPadded, _ tiling: Tiling, into transformed: UnsafeMutablePointer<Float>,
            temp: UnsafeMutablePointer<V>) {
            CPUConvWinograd.transformInput(image, tiling, into: transformed, temp: temp)
        }

        @inline(__always)
        func transformOutput(_ n: Int, _ tiling: Tiling, _ products: UnsafeMutablePointer<Float>,
            temp t: UnsafeMutablePointer<V>) {
            let (m, a, cout) = (T.m, alpha, g.outChannels)
            // Output tile = Aᵀ M A, clipped at the image's edge.
            for tile in 0..<tiling.tiles {
                let (oy, ox) = tiling.origin(tile)
                let (height, width) = (min(m, g.outHeight - oy), min(m, g.outWidth - ox))
                for k in stride(from: 0, to: cout, by: 16) {
                    let product = products + tile * cout + k, step = tiling.rows * cout
                    for y in 0..<a {
                        let row = product + y * a * step
                        let r = T.at((load16(row), load16(row + step), load16(row + 2 * step), load16(row + 3 * step),
                            load16(row + 4 * step), load16(row + 5 * step)))
                        (t[y], t[a + y], t[2 * a + y]) = (r.0, r.1, r.2)
                        if m > 3 { t[3 * a + y] = r.3 }
                    }
                    for j in 0..<width {
                        let column = t + j * a
                        let r = T.at((column[0], column[1], column[2], column[3], column[4], column[5]))
                        let out = output + ((n * g.outHeight + oy) * g.outWidth + ox + j) * cout + k
                        let rowStep = g.outWidth * cout
                        store16(r.0, out)
                        if height > 1 { store16(r.1, out + rowStep) }
                        if height > 2 { store16(r.2, out + 2 * rowStep) }
                        if height > 3 { store16(r.3, out + 3 * rowStep) }
                    }
                }
            }
        }
    }

    /// The forward pass around its two transforms: the filter transform, then per image, in one
    /// worker's workspace that stays in L2, `transforms.transformInput` (padded image → V), the
    /// α² GEMMs (V → M), `transforms.transformOutput` (M → the image's output) and `epilogue`
    /// on that output.
    @inline(__always)
    static func forwardTiles<Transforms: ForwardTransforms, E: ConvOutputEpilogue>(_ g: Conv2DGeometry, alpha a: Int,
        m: Int, matrix: [Float], input: UnsafeMutablePointer<Float>, filter: UnsafeMutablePointer<Float>,
        transforms: Transforms, epilogue: E) {
        let (cin, cout) = (g.inChannels, g.outChannels)
        let tiling = Tiling(g, m: m)
        defer { tiling.scratch.giveBack() }
        let uCount = a * a * cin * cout, u = ThreadScratch.current.take(Float.self, uCount)
        defer { ThreadScratch.current.give(u, uCount) }
        transformFilter(g, alpha: a, matrix: matrix, filter: filter, into: u)
        let (inputSize, productSize) = (a * a * tiling.rows * cin, a * a * tiling.rows * cout)
        let workCount = Parallel.threads * (inputSize + productSize), work = ThreadScratch.current.take(Float.self, workCount)
        defer { ThreadScratch.current.give(work, workCount) }
        // V's rows past the last tile (up to the micro-kernel's 8) feed only products that are
        // never stored or read; zero them so they hold numbers. The rest is written before it is read.
        let padRows = (tiling.rows - tiling.tiles) * cin
        for worker in 0..<Parallel.threads where padRows > 0 {
            for xi in 0..<(a * a) {
                (work + worker * (inputSize + productSize) + (xi * tiling.rows + tiling.tiles) * cin)
                    .update(repeating: 0, count: padRows)
            }
        }
        Parallel.forEachRange(g.batch, ForwardImages(transforms: transforms, tiling: tiling, input: input, work: work, u: u,
            a: a, cin: cin, cout: cout, inputSize: inputSize, productSize: productSize,
            pixels: g.outHeight * g.outWidth, epilogue: epilogue))
    }

    /// Images of a range, each in the worker's workspace: V, the α² GEMMs, then the output.
    struct ForwardImages<Transforms: ForwardTransforms, Epilogue: ConvOutputEpilogue>: ParallelLoopBody {
        let transforms: Transforms
        let tiling: Tiling
        let input, work, u: UnsafeMutablePointer<Float>
        let a, cin, cout, inputSize, productSize, pixels: Int
        let epilogue: Epilogue

        func callAsFunction(_ images: Range<Int>, _ worker: Int) {
            let transformed = work + worker * (inputSize + productSize)
            let products = transformed + inputSize
            let scratch = ThreadScratch.current, temp = scratch.take(V.self, a * a)
            defer { scratch.give(temp, a * a) }
            for n in images {
                transforms.transformInput(tiling.scratch.image(n, of: input, worker: worker), tiling, into: transformed,
                    temp: temp)
                multiply(positions: a * a, tiling, cin: cin, cout: cout, transformed, u, into: products)
                transforms.transformOutput(n, tiling, products, temp: temp)
                epilogue.finish((n * pixels)..<((n + 1) * pixels))
            }
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
    /// for each ξ, `cout / 32` panels of `cin` rows of 32 floats (α²·cin·cout floats at `u`).
    /// Vectorised over 16 output channels.
    static func transformFilter(_ g: Conv2DGeometry, alpha a: Int, matrix: [Float], filter: UnsafeMutablePointer<Float>,
        into u: UnsafeMutablePointer<Float>) {
        let (r, cin, cout, nr) = (g.kernelHeight, g.inChannels, g.outChannels, CPUGemm.nr)
        matrix.withUnsafeBufferPointer { gm in
            Parallel.forEachRange(cin, TransformedFilterChannels(g: g, gm: gm.baseAddress!, filter: filter, u: u, a: a,
                r: r, cin: cin, cout: cout, nr: nr))
        }
    }

    /// U for the input channels of a range.
    struct TransformedFilterChannels: ParallelLoopBody {
        let g: Conv2DGeometry
        let gm: UnsafePointer<Float>
        let filter, u: UnsafeMutablePointer<Float>
        let a, r, cin, cout, nr: Int

        func callAsFunction(_ channels: Range<Int>, _ worker: Int) {
            let scratch = ThreadScratch.current, left = scratch.take(V.self, a * r)
            defer { scratch.give(left, a * r) }
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
