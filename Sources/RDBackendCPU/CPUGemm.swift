import RDCompute

/// Single-precision GEMM for the CPU backend: packed panels, cache blocking, an 8×32
/// register-blocked `SIMD16<Float>` micro-kernel (16 FMA accumulators) and static threading.
///
/// The loop nest follows BLIS: for each column block (NC) and depth block (KC) B is packed
/// once into 32-wide panels; tasks (row block × column range) then pack their A block into
/// 8-high panels (scaled by alpha) and run the micro-kernel over every panel pair.
/// Matrices are addressed through (row stride, column stride) pairs, so transposes cost
/// nothing but a different packing loop, and a GEMM with fewer than 16 columns is computed
/// transposed (Cᵀ = Bᵀ·Aᵀ) to keep the 32-wide micro-kernel busy.
enum CPUGemm {
    static let mr = 8
    static let nr = 32
    static let kc = 256
    static let mc = 144
    static let nc = 3072

    /// A strided view of a matrix: element (i, j) at `base[i·rowStride + j·columnStride]`.
    struct View {
        var base: UnsafeMutablePointer<Float>
        var rowStride: Int
        var columnStride: Int
        var transposed: View { View(base: base, rowStride: columnStride, columnStride: rowStride) }
    }

    /// `C = alpha·op(A)·op(B) + beta·C` on row-major buffers.
    static func run(_ d: GemmDescriptor, a: UnsafeMutablePointer<Float>, b: UnsafeMutablePointer<Float>,
        c: UnsafeMutablePointer<Float>) {
        let viewA = d.transposeA ? View(base: a, rowStride: 1, columnStride: d.m) : View(base: a, rowStride: d.k, columnStride: 1)
        let viewB = d.transposeB ? View(base: b, rowStride: 1, columnStride: d.k) : View(base: b, rowStride: d.n, columnStride: 1)
        let viewC = View(base: c, rowStride: d.n, columnStride: 1)
        scale(c, count: d.m * d.n, by: d.beta)
        guard d.k > 0, d.alpha != 0 else { return }
        if d.n < 16 && d.m > d.n {
            multiply(m: d.n, n: d.m, k: d.k, alpha: d.alpha, a: viewB.transposed, b: viewA.transposed, c: viewC.transposed)
        } else {
            multiply(m: d.m, n: d.n, k: d.k, alpha: d.alpha, a: viewA, b: viewB, c: viewC)
        }
    }

    static func scale(_ c: UnsafeMutablePointer<Float>, count: Int, by beta: Float) {
        guard beta != 1 else { return }
        Parallel.forEachRange(count, grain: 1 << 16) { range, _ in
            if beta == 0 {
                (c + range.lowerBound).update(repeating: 0, count: range.count)
            } else {
                for i in range { c[i] *= beta }
            }
        }
    }

    /// C += alpha·A·B with A m×k, B k×n (views).
    static func multiply(m: Int, n: Int, k: Int, alpha: Float, a: View, b: View, c: View) {
        let threads = Parallel.threads
        let rowBlocks = (m + mc - 1) / mc
        let packedB = UnsafeMutablePointer<Float>.allocate(capacity: kc * roundUp(min(n, nc), nr))
        defer { packedB.deallocate() }
        let packedA = UnsafeMutablePointer<Float>.allocate(capacity: threads * mc * kc)
        defer { packedA.deallocate() }

        for jc in stride(from: 0, to: n, by: nc) {
            let nb = min(nc, n - jc)
            let panels = (nb + nr - 1) / nr
            // Split columns too when there are too few row blocks to feed every thread.
            let columnSplits = rowBlocks >= threads ? 1 : min(panels, (threads + rowBlocks - 1) / rowBlocks)
            let tasks = rowBlocks * columnSplits
            for pc in stride(from: 0, to: k, by: kc) {
                let kb = min(kc, k - pc)
                packB(b, row: pc, column: jc, depth: kb, width: nb, into: packedB)
                Parallel.forEachRange(tasks) { taskRange, worker in
                    let myA = packedA + worker * mc * kc
                    var packedBlock = -1
                    for task in taskRange {
                        let block = task / columnSplits
                        let split = task % columnSplits
                        let ic = block * mc
                        let mb = min(mc, m - ic)
                        if packedBlock != block {
                            packA(a, row: ic, column: pc, height: mb, depth: kb, alpha: alpha, into: myA)
                            packedBlock = block
                        }
                        let firstPanel = panels * split / columnSplits
                        let lastPanel = panels * (split + 1) / columnSplits
                        for panel in firstPanel..<lastPanel {
                            let j = panel * nr
                            let width = min(nr, nb - j)
                            for i in stride(from: 0, to: mb, by: mr) {
                                let height = min(mr, mb - i)
                                microKernel(
                                    depth: kb, a: myA + i * kb, b: packedB + j * kb,
                                    c: c.base + (ic + i) * c.rowStride + (jc + j) * c.columnStride,
                                    rowStride: c.rowStride, columnStride: c.columnStride, height: height, width: width)
                            }
                        }
                    }
                }
            }
        }
    }

    static func roundUp(_ x: Int, _ to: Int) -> Int { (x + to - 1) / to * to }

    /// Packs B[row ..< row+depth, column ..< column+width] into nr-wide panels, zero-padded:
    /// panel p holds depth rows of nr floats.
    static func packB(_ b: View, row: Int, column: Int, depth: Int, width: Int, into dst: UnsafeMutablePointer<Float>) {
        let panels = (width + nr - 1) / nr
        Parallel.forEachRange(panels, grain: max(1, 65536 / max(depth * nr, 1))) { range, _ in
            for panel in range {
                let j0 = panel * nr
                let w = min(nr, width - j0)
                let out = dst + panel * depth * nr
                let src = b.base + row * b.rowStride + (column + j0) * b.columnStride
                if b.columnStride == 1 {
                    for p in 0..<depth {
                        let s = src + p * b.rowStride
                        let o = out + p * nr
                        if w == nr {
                            o.update(from: s, count: nr)
                        } else {
                            o.update(from: s, count: w)
                            (o + w).update(repeating: 0, count: nr - w)
                        }
                    }
                } else {
                    if w < nr {
                        for p in 0..<depth { (out + p * nr + w).update(repeating: 0, count: nr - w) }
                    }
                    for jj in 0..<w {
                        let s = src + jj * b.columnStride
                        for p in 0..<depth { out[p * nr + jj] = s[p * b.rowStride] }
                    }
                }
            }
        }
    }

    /// Packs alpha·A[row ..< row+height, column ..< column+depth] into mr-high panels,
    /// zero-padded: panel q holds depth columns of mr floats.
    static func packA(_ a: View, row: Int, column: Int, height: Int, depth: Int, alpha: Float,
        into dst: UnsafeMutablePointer<Float>) {
        for i0 in stride(from: 0, to: height, by: mr) {
            let h = min(mr, height - i0)
            let out = dst + i0 * depth
            let src = a.base + (row + i0) * a.rowStride + column * a.columnStride
            if a.rowStride == 1 {
                for p in 0..<depth {
                    let s = src + p * a.columnStride
                    let o = out + p * mr
                    for ii in 0..<h { o[ii] = alpha * s[ii] }
                    for ii in h..<mr { o[ii] = 0 }
                }
            } else {
                if h < mr {
                    for p in 0..<depth { for ii in h..<mr { out[p * mr + ii] = 0 } }
                }
                for ii in 0..<h {
                    let s = src + ii * a.rowStride
                    if a.columnStride == 1 {
                        for p in 0..<depth { out[p * mr + ii] = alpha * s[p] }
                    } else {
                        for p in 0..<depth { out[p * mr + ii] = alpha * s[p * a.columnStride] }
                    }
                }
            }
        }
    }

    /// C[0..<height, 0..<width] += Ã·B̃ for one 8×32 tile; Ã is depth×8, B̃ depth×32 (packed).
    @inline(__always)
    static func microKernel(depth: Int, a: UnsafePointer<Float>, b: UnsafePointer<Float>, c: UnsafeMutablePointer<Float>,
        rowStride: Int, columnStride: Int, height: Int, width: Int) {
        typealias V = SIMD16<Float>
        var c00 = V(), c01 = V(), c10 = V(), c11 = V(), c20 = V(), c21 = V(), c30 = V(), c31 = V()
        var c40 = V(), c41 = V(), c50 = V(), c51 = V(), c60 = V(), c61 = V(), c70 = V(), c71 = V()
        var pa = a
        var pb = UnsafeRawPointer(b)
        for _ in 0..<depth {
            let b0 = pb.loadUnaligned(as: V.self)
            let b1 = pb.loadUnaligned(fromByteOffset: 64, as: V.self)
            var s = V(repeating: pa[0])
            c00.addProduct(s, b0); c01.addProduct(s, b1)
            s = V(repeating: pa[1])
            c10.addProduct(s, b0); c11.addProduct(s, b1)
            s = V(repeating: pa[2])
            c20.addProduct(s, b0); c21.addProduct(s, b1)
            s = V(repeating: pa[3])
            c30.addProduct(s, b0); c31.addProduct(s, b1)
            s = V(repeating: pa[4])
            c40.addProduct(s, b0); c41.addProduct(s, b1)
            s = V(repeating: pa[5])
            c50.addProduct(s, b0); c51.addProduct(s, b1)
            s = V(repeating: pa[6])
            c60.addProduct(s, b0); c61.addProduct(s, b1)
            s = V(repeating: pa[7])
            c70.addProduct(s, b0); c71.addProduct(s, b1)
            pa += 8
            pb += 128
        }
        let fast = columnStride == 1 && width == 32
        @inline(__always) func store(_ i: Int, _ lo: V, _ hi: V) {
            guard i < height else { return }
            if fast {
                let row = UnsafeMutableRawPointer(c + i * rowStride)
                row.storeBytes(of: row.loadUnaligned(as: V.self) + lo, as: V.self)
                row.storeBytes(of: row.loadUnaligned(fromByteOffset: 64, as: V.self) + hi, toByteOffset: 64, as: V.self)
            } else {
                for j in 0..<width {
                    c[i * rowStride + j * columnStride] += j < 16 ? lo[j] : hi[j - 16]
                }
            }
        }
        store(0, c00, c01); store(1, c10, c11); store(2, c20, c21); store(3, c30, c31)
        store(4, c40, c41); store(5, c50, c51); store(6, c60, c61); store(7, c70, c71)
    }
}
