import RDCompute

extension CPUConvWinograd {
    /// F(5×5, 4×4) on 8×8 tiles (points 0, ±1, ±2, ±½, ∞), for forward passes of 4×4 kernels
    /// over maps at least ``minimumSize`` wide: 64 multiplies per 25 outputs against 36 per 9 on
    /// 6×6 tiles. Smaller maps waste too much of the wider tiles.
    ///
    /// F(4×4, 5×5) on the same tiles was tried and left out: its parity error was as small
    /// (NMSE 1e-11), but a 20-step CPU/OpenCL training trajectory drifted to 1.2e-4 relative
    /// (the bound is 1e-4; 6×6 tiles: 8e-8).
    enum Wide {
        static let alpha = 8, m = 5
        static let minimumSize = 12
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

        /// `Aᵀ` (5×8) applied to 8 vectors `x[0], x[s], …, x[7s]`: rows `[1 1 1 1 1 1 1 0;
        /// 0 1 −1 2 −2 ½ −½ 0; 0 1 1 4 4 ¼ ¼ 0; 0 1 −1 8 −8 ⅛ −⅛ 0; 0 1 1 16 16 1/16 1/16 1]`.
        @inline(__always)
        static func at(_ x: UnsafePointer<Float>, _ s: Int) -> (V, V, V, V, V) {
            let (m0, m1, m2, m3) = (load16(x), load16(x + s), load16(x + 2 * s), load16(x + 3 * s))
            let (m4, m5, m6, m7) = (load16(x + 4 * s), load16(x + 5 * s), load16(x + 6 * s), load16(x + 7 * s))
            let (p1, q1, p2, q2, p3, q3) = (m1 + m2, m1 - m2, m3 + m4, m3 - m4, m5 + m6, m5 - m6)
            return (m0 + p1 + p2 + p3, q1 + 2 * q2 + 0.5 * q3, p1 + 4 * p2 + 0.25 * p3, q1 + 8 * q2 + 0.125 * q3,
                p1 + 16 * p2 + 0.0625 * p3 + m7)
        }

        static func forward<E: ConvOutputEpilogue>(_ g: Conv2DGeometry, input: UnsafeMutablePointer<Float>,
            filter: UnsafeMutablePointer<Float>, output: UnsafeMutablePointer<Float>, epilogue: E) {
            forwardTiles(g, alpha: alpha, m: m, matrix: g5x4, input: input, filter: filter,
                transforms: Transforms(g: g, output: output), epilogue: epilogue)
        }

        /// `Bᵀ d B` and `Aᵀ M A` of F(5×5, 4×4), into `output`.
        struct Transforms: ForwardTransforms {
            let g: Conv2DGeometry
            let output: UnsafeMutablePointer<Float>

            @inline(__always)
            func transformInput(_ image: CPUConvPadded, _ tiling: Tiling, into transformed: UnsafeMutablePointer<Float>,
                temp: UnsafeMutablePointer<V>) {
                let (a, cin) = (alpha, g.inChannels)
                // V = Bᵀ d B: along each row into t (column-major), then down each column.
                let (t, wp, rows) = (UnsafeMutableRawPointer(temp).assumingMemoryBound(to: Float.self), image.width, tiling.rows)
                for tile in 0..<tiling.tiles {
                    let (y0, x0) = tiling.origin(tile)
                    let origin = image.base + (y0 * wp + x0) * cin
                    for c in stride(from: 0, to: cin, by: 16) {
                        for y in 0..<a { store(bt(origin + y * wp * cin + c, cin), t + y * 16, step: a * 16) }
                        for x in 0..<a {
                            store(bt(t + x * a * 16, 16), transformed + (x * rows + tile) * cin + c, step: a * rows * cin)
                        }
                    }
                }
            }

            @inline(__always)
            func transformOutput(_ n: Int, _ tiling: Tiling, _ products: UnsafeMutablePointer<Float>,
                temp: UnsafeMutablePointer<V>) {
                let (a, cout) = (alpha, g.outChannels)
                // Output tile = Aᵀ M A, clipped at the image's edge.
                let t = UnsafeMutableRawPointer(temp).assumingMemoryBound(to: Float.self)
                for tile in 0..<tiling.tiles {
                    let (oy, ox) = tiling.origin(tile)
                    let (height, width) = (min(m, g.outHeight - oy), min(m, g.outWidth - ox))
                    for k in stride(from: 0, to: cout, by: 16) {
                        let product = products + tile * cout + k, step = tiling.rows * cout
                        for y in 0..<a {
                            let r = at(product + y * a * step, step)
                            store16(r.0, t + y * 16)
                            store16(r.1, t + (a + y) * 16)
                            store16(r.2, t + (2 * a + y) * 16)
                            store16(r.3, t + (3 * a + y) * 16)
                            store16(r.4, t + (4 * a + y) * 16)
                        }
                        for j in 0..<width {
                            let r = at(t + j * a * 16, 16)
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
}
