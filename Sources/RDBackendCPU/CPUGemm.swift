import RDCompute

/// Single-precision GEMM for the CPU backend: packed B panels, cache blocking, an 8×32
/// register-blocked `SIMD16<Float>` micro-kernel (16 FMA accumulators; on AVX2 builds four
/// 4×16 quarters of 4, see ``quarterKernel``) and static threading.
///
/// The loop nest follows BLIS: for each column block (NC) and depth block (KC) B is packed
/// once into 32-wide panels; tasks (row block × column range) then run the micro-kernel
/// over every 8-row tile of their block and every panel: panel by panel when A is packed
/// (the B panel stays in L1 while the A tiles stream), tile by tile when A is read in place
/// (few panels). How A reaches the micro-kernel
/// depends on its reuse: when C is narrow (≤ 64 columns, as in the im2col GEMMs of a conv
/// layer) a row-major A is read in place, 8 rows broadcast per step, and only ragged edge
/// tiles are copied; a wider C reuses each A tile across many panels, so the block is
/// packed into 8-row tiles (avoiding L1 set conflicts of power-of-two row strides); a
/// transposed A (one long stride per step, as in a weight gradient) is packed with
/// contiguous copies.
///
/// Transposes are a different pair of strides. A GEMM with fewer than 16 columns (a conv
/// with few output channels) takes ``narrow(m:n:k:alpha:a:b:c:)`` instead: SIMD dot
/// products or row-vector updates against B's columns.
enum CPUGemm {
    static let mr = 8
    static let nr = 32
    static let nc = 3072

    /// Depth block: deep enough that C is revisited rarely, shallow enough that a B panel
    /// (depth × 32 floats) stays in L2 beside the A tiles.
    static func depthBlock(k: Int, n: Int) -> Int { n <= 64 ? min(k, 1024) : min(k, 256) }

    /// Rows per task: at most 144 when A is read in place or packed row-major, 512 for a
    /// transposed A (long contiguous copies); sized so the blocks split evenly over threads.
    static func rowBlock(m: Int, packed: Bool) -> Int {
        // A short A is one block; threads then split the column panels, the same ranges
        // that each packed, so every thread reads B panels from its own cache.
        if m <= 64 { return roundUp(m, mr) }
        let cap = packed ? 512 : 144
        let threads = Parallel.threads
        let blocksPerThread = max(1, (m + threads * cap - 1) / (threads * cap))
        return min(cap, roundUp((m + threads * blocksPerThread - 1) / (threads * blocksPerThread), mr))
    }

    /// How A is fed to the micro-kernel (see the type's documentation).
    enum Packing { case inPlace, rowMajor, transposed }

    /// A strided view of a matrix: element (i, j) at `base[i·rowStride + j·columnStride]`.
    struct View {
        var base: UnsafeMutablePointer<Float>
        var rowStride: Int
        var columnStride: Int
    }

    /// `C = alpha·op(A)·op(B) + beta·C` on row-major buffers.
    static func run(_ d: GemmDescriptor, a: UnsafeMutablePointer<Float>, b: UnsafeMutablePointer<Float>,
        c: UnsafeMutablePointer<Float>) {
        let viewA = d.transposeA ? View(base: a, rowStride: 1, columnStride: d.m) : View(base: a, rowStride: d.k, columnStride: 1)
        let viewB = d.transposeB ? View(base: b, rowStride: 1, columnStride: d.k) : View(base: b, rowStride: d.n, columnStride: 1)
        let viewC = View(base: c, rowStride: d.n, columnStride: 1)
        scale(c, count: d.m * d.n, by: d.beta)
        guard d.k > 0, d.alpha != 0 else { return }
        if d.n < 16 {
            narrow(m: d.m, n: d.n, k: d.k, alpha: d.alpha, a: viewA, b: viewB, c: viewC)
        } else {
            multiply(m: d.m, n: d.n, k: d.k, alpha: d.alpha, a: viewA, b: viewB, c: viewC)
        }
    }

    static func scale(_ c: UnsafeMutablePointer<Float>, count: Int, by beta: Float) {
        guard beta != 1 else { return }
        Parallel.forEachRange(count, grain: 1 << 16, Scaling(c: c, beta: beta))
    }

    /// C's elements of a range, times beta.
    struct Scaling: ParallelLoopBody {
        let c: UnsafeMutablePointer<Float>
        let beta: Float

        func callAsFunction(_ range: Range<Int>, _ worker: Int) {
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
        let packing: Packing = a.columnStride != 1 ? .transposed : n <= 64 ? .inPlace : .rowMajor
        let kc = packing == .transposed ? min(k, 256) : depthBlock(k: k, n: n)
        let mc = rowBlock(m: m, packed: packing == .transposed)
        let rowBlocks = (m + mc - 1) / mc
        let scratch = ThreadScratch.current, packedBCount = kc * roundUp(min(n, nc), nr)
        let packedB = scratch.take(Float.self, packedBCount)
        defer { scratch.give(packedB, packedBCount) }
        let packSize = packing == .inPlace ? mr * kc : roundUp(mc, mr) * kc
        let packedA = scratch.take(Float.self, threads * packSize)
        defer { scratch.give(packedA, threads * packSize) }

        for jc in stride(from: 0, to: n, by: nc) {
            let nb = min(nc, n - jc)
            let panels = (nb + nr - 1) / nr
            // Split columns too when there are too few row blocks to feed every thread.
            let columnSplits = rowBlocks >= threads ? 1 : min(panels, (threads + rowBlocks - 1) / rowBlocks)
            let tasks = rowBlocks * columnSplits
            for pc in stride(from: 0, to: k, by: kc) {
                let kb = min(kc, k - pc)
                packB(b, row: pc, column: jc, depth: kb, width: nb, into: packedB)
                Parallel.forEachRange(tasks, BlockTasks(a: a, c: c, packing: packing, packedA: packedA,
                    packedB: packedB, alpha: alpha, m: m, mc: mc, packSize: packSize, columnSplits: columnSplits,
                    panels: panels, pc: pc, kb: kb, jc: jc, nb: nb))
            }
        }
    }

    /// A range of (row block, column split) tasks of one depth block: A packed per worker, then micro-kernels.
    struct BlockTasks: ParallelLoopBody {
        let a, c: View
        let packing: Packing
        let packedA, packedB: UnsafeMutablePointer<Float>
        let alpha: Float
        let m, mc, packSize, columnSplits, panels, pc, kb, jc, nb: Int

        func callAsFunction(_ taskRange: Range<Int>, _ worker: Int) {
            let pack = packedA + worker * packSize
            for task in taskRange {
                let ic = (task / columnSplits) * mc
                let mb = min(mc, m - ic)
                let split = task % columnSplits
                let firstPanel = panels * split / columnSplits
                let lastPanel = panels * (split + 1) / columnSplits
                switch packing {
                case .transposed: packTransposed(a, row: ic, column: pc, height: mb, depth: kb, into: pack)
                case .rowMajor: packRowMajor(a, row: ic, column: pc, height: mb, depth: kb, into: pack)
                case .inPlace: break
                }
                /// A's 8-row tile at row i of the block, and its strides.
                func tile(_ i: Int) -> (UnsafeMutablePointer<Float>, row: Int, column: Int) {
                    switch packing {
                    case .transposed: return (pack + i, 1, roundUp(mb, mr))
                    case .rowMajor: return (pack + i * kb, 1, mr)
                    case .inPlace:
                        guard mb - i < mr else {
                            return (a.base + (ic + i) * a.rowStride + pc * a.columnStride, a.rowStride, a.columnStride)
                        }
                        packEdge(a, row: ic + i, column: pc, height: mb - i, depth: kb, into: pack)
                        return (pack, 1, mr)
                    }
                }
                func run(_ i: Int, _ panel: Int, _ t: (UnsafeMutablePointer<Float>, row: Int, column: Int)) {
                    let j = panel * nr
                    microKernel(
                        depth: kb, a: t.0, aRowStride: t.row, aColumnStride: t.column, b: packedB + j * kb, alpha: alpha,
                        c: c.base + (ic + i) * c.rowStride + (jc + j) * c.columnStride, rowStride: c.rowStride,
                        columnStride: c.columnStride, height: min(mr, mb - i), width: min(nr, nb - j))
                }
                if packing == .inPlace {
                    // Few panels (n ≤ 64): each A tile (an edge tile copied once) against them.
                    for i in stride(from: 0, to: mb, by: mr) {
                        let t = tile(i)
                        for panel in firstPanel..<lastPanel { run(i, panel, t) }
                    }
                } else {
                    // BLIS order: one B panel stays in L1 while the packed A tiles stream from L2.
                    for panel in firstPanel..<lastPanel {
                        for i in stride(from: 0, to: mb, by: mr) { run(i, panel, tile(i)) }
                    }
                }
            }
        }
    }

    /// C += alpha·A·B for n < 16: B's columns are copied contiguous, then each thread takes
    /// a row range and either dots A's rows with them (row-major A) or accumulates 64 rows
    /// at a time along k (transposed A, whose columns are contiguous).
    static func narrow(m: Int, n: Int, k: Int, alpha: Float, a: View, b: View, c: View) {
        let scratch = ThreadScratch.current, columns = scratch.take(Float.self, n * k)
        defer { scratch.give(columns, n * k) }
        for j in 0..<n { for p in 0..<k { columns[j * k + p] = alpha * b.base[p * b.rowStride + j * b.columnStride] } }
        if a.columnStride == 1 {
            Parallel.forEachRange(m, grain: max(1, 8192 / max(k, 1)), NarrowRows(a: a, c: c, columns: columns, n: n, k: k))
        } else {
            let blocks = (m + 63) / 64
            Parallel.forEachRange(blocks, TransposedNarrowBlocks(a: a, c: c, columns: columns, m: m, n: n, k: k))
        }
    }

    /// C's rows of a range (row-major A): dot products with B's columns.
    struct NarrowRows: ParallelLoopBody {
        typealias V = SIMD16<Float>

        let a, c: View
        let columns: UnsafeMutablePointer<Float>
        let n, k: Int

        func callAsFunction(_ rows: Range<Int>, _ worker: Int) {
            for i in rows {
                let row = a.base + i * a.rowStride
                for j in 0..<n {
                    let column = columns + j * k
                    var s0 = V(), s1 = V(), s2 = V(), s3 = V()
                    var p = 0
                    while p + 64 <= k {
                        s0.addProduct(UnsafeRawPointer(row + p).loadUnaligned(as: V.self), UnsafeRawPointer(column + p).loadUnaligned(as: V.self))
                        s1.addProduct(UnsafeRawPointer(row + p + 16).loadUnaligned(as: V.self), UnsafeRawPointer(column + p + 16).loadUnaligned(as: V.self))
                        s2.addProduct(UnsafeRawPointer(row + p + 32).loadUnaligned(as: V.self), UnsafeRawPointer(column + p + 32).loadUnaligned(as: V.self))
                        s3.addProduct(UnsafeRawPointer(row + p + 48).loadUnaligned(as: V.self), UnsafeRawPointer(column + p + 48).loadUnaligned(as: V.self))
                        p += 64
                    }
                    while p + 16 <= k {
                        s0.addProduct(UnsafeRawPointer(row + p).loadUnaligned(as: V.self), UnsafeRawPointer(column + p).loadUnaligned(as: V.self))
                        p += 16
                    }
                    var sum = ((s0 + s1) + (s2 + s3)).horizontalSum
                    while p < k {
                        sum += row[p] * column[p]
                        p += 1
                    }
                    c.base[i * c.rowStride + j * c.columnStride] += sum
                }
            }
        }
    }

    /// C's 64-row blocks of a range (transposed A).
    struct TransposedNarrowBlocks: ParallelLoopBody {
        typealias V = SIMD16<Float>

        let a, c: View
        let columns: UnsafeMutablePointer<Float>
        let m, n, k: Int

        func callAsFunction(_ range: Range<Int>, _ worker: Int) {
            for block in range {
                let i0 = block * 64
                let rows = min(64, m - i0)
                for j in 0..<n {
                    let column = columns + j * k
                    if rows == 64 && a.rowStride == 1 {
                        var s0 = V(), s1 = V(), s2 = V(), s3 = V()
                        for p in 0..<k {
                            let x = a.base + p * a.columnStride + i0
                            let w = V(repeating: column[p])
                            s0.addProduct(UnsafeRawPointer(x).loadUnaligned(as: V.self), w)
                            s1.addProduct(UnsafeRawPointer(x + 16).loadUnaligned(as: V.self), w)
                            s2.addProduct(UnsafeRawPointer(x + 32).loadUnaligned(as: V.self), w)
                            s3.addProduct(UnsafeRawPointer(x + 48).loadUnaligned(as: V.self), w)
                        }
                        for (q, s) in [s0, s1, s2, s3].enumerated() {
                            for l in 0..<16 { c.base[(i0 + q * 16 + l) * c.rowStride + j * c.columnStride] += s[l] }
                        }
                    } else {
                        for i in i0..<(i0 + rows) {
                            var sum: Float = 0
                            for p in 0..<k { sum += a.base[i * a.rowStride + p * a.columnStride] * column[p] }
                            c.base[i * c.rowStride + j * c.columnStride] += sum
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
        Parallel.forEachRange(panels, grain: max(1, 65536 / max(depth * nr, 1)), PackedPanels(b: b, dst: dst, row: row,
            column: column, depth: depth, width: width))
    }

    /// B's panels of a range, packed.
    struct PackedPanels: ParallelLoopBody {
        let b: View
        let dst: UnsafeMutablePointer<Float>
        let row, column, depth, width: Int

        func callAsFunction(_ range: Range<Int>, _ worker: Int) {
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

    /// Copies a transposed A block (rowStride 1) as `depth` contiguous runs of `height`
    /// floats, each padded with zeros to a multiple of 8: one memcpy per depth step, and
    /// the micro-kernel then reads it with strides (1, padded height) from cache.
    static func packTransposed(_ a: View, row: Int, column: Int, height: Int, depth: Int,
        into dst: UnsafeMutablePointer<Float>) {
        let padded = roundUp(height, mr)
        for p in 0..<depth {
            let out = dst + p * padded
            out.update(from: a.base + row + (column + p) * a.columnStride, count: height)
            if padded > height { (out + height).update(repeating: 0, count: padded - height) }
        }
    }

    /// Packs a row-major A block into 8-row tiles of depth×8 floats; the last tile is zero-padded.
    static func packRowMajor(_ a: View, row: Int, column: Int, height: Int, depth: Int,
        into dst: UnsafeMutablePointer<Float>) {
        for i0 in stride(from: 0, to: height, by: mr) {
            let tile = dst + i0 * depth
            let h = min(mr, height - i0)
            for ii in 0..<h {
                let src = a.base + (row + i0 + ii) * a.rowStride + column
                for p in 0..<depth { tile[p * mr + ii] = src[p] }
            }
            if h < mr {
                for p in 0..<depth { for ii in h..<mr { tile[p * mr + ii] = 0 } }
            }
        }
    }

    /// Copies A[row ..< row+height, column ..< column+depth] (height < 8) as depth columns
    /// of 8 floats, the rows past `height` zero.
    static func packEdge(_ a: View, row: Int, column: Int, height: Int, depth: Int, into dst: UnsafeMutablePointer<Float>) {
        let src = a.base + row * a.rowStride + column * a.columnStride
        for p in 0..<depth {
            let s = src + p * a.columnStride
            let o = dst + p * mr
            for ii in 0..<height { o[ii] = s[ii * a.rowStride] }
            for ii in height..<mr { o[ii] = 0 }
        }
    }

    /// C[0..<height, 0..<width] += alpha·A·B̃ for one 8×32 tile: A(i, p) at
    /// `a[i·aRowStride + p·aColumnStride]` (8 rows, zero-padded if fewer), B̃ depth rows of 32
    /// floats `bRowStride` apart (packed panels: 32). With `segments` > 1 the depth is that
    /// many runs of `depth` steps, run s starting at `a + s·segmentStride` (the kernel rows of
    /// a conv patch), B̃'s rows continuing at the same stride.
    /// `overwrite` stores alpha·A·B̃ instead of adding it (C need not be initialised).
    @inline(__always)
    static func microKernel(depth: Int, a: UnsafePointer<Float>, aRowStride: Int, aColumnStride: Int,
        b: UnsafePointer<Float>, bRowStride: Int = nr, alpha: Float, c: UnsafeMutablePointer<Float>, rowStride: Int,
        columnStride: Int, height: Int, width: Int, segments: Int = 1, segmentStride: Int = 0, overwrite: Bool = false) {
        #if RDLAB_CPU_TARGET_HASWELL
        quarterKernel(depth: depth, a: a, aRowStride: aRowStride, aColumnStride: aColumnStride, b: b, bRowStride: bRowStride,
            alpha: alpha, c: c, rowStride: rowStride, columnStride: columnStride, height: height, width: width,
            segments: segments, segmentStride: segmentStride, overwrite: overwrite)
        #else
        wideKernel(depth: depth, a: a, aRowStride: aRowStride, aColumnStride: aColumnStride, b: b, bRowStride: bRowStride,
            alpha: alpha, c: c, rowStride: rowStride, columnStride: columnStride, height: height, width: width,
            segments: segments, segmentStride: segmentStride, overwrite: overwrite)
        #endif
    }

    /// ``microKernel(depth:a:aRowStride:aColumnStride:b:bRowStride:alpha:c:rowStride:columnStride:height:width:segments:segmentStride:overwrite:)``
    /// for 16 vector registers (AVX2): the 8×32 tile as four 4×16 quarters, one after another,
    /// each with 4 `SIMD16` accumulators (8 registers) so that B's row and the broadcasts fit
    /// beside them; the 8×32 tile's 32 registers of accumulators would spill. Every element is
    /// the same chain of multiply-adds in the same order, then stored the same way: the results
    /// are those of the 8×32 kernel bit for bit.
    @inline(__always)
    static func quarterKernel(depth: Int, a: UnsafePointer<Float>, aRowStride: Int, aColumnStride: Int,
        b: UnsafePointer<Float>, bRowStride: Int, alpha: Float, c: UnsafeMutablePointer<Float>, rowStride: Int,
        columnStride: Int, height: Int, width: Int, segments: Int, segmentStride: Int, overwrite: Bool) {
        typealias V = SIMD16<Float>
        /// Rows `first ..< first + 4` of the tile against B's columns `half ..< half + 16`.
        @inline(__always) func quarter<Rows: TileRows>(_ rows: Rows, _ first: Int, _ half: Int) -> (V, V, V, V) {
            var (x0, x1, x2, x3) = (V(), V(), V(), V())
            var pb = UnsafeRawPointer(b + half)
            let bStep = bRowStride &* 4
            for segment in 0..<segments {
                var pa = a + segment &* segmentStride
                for _ in 0..<depth {
                    let bv = pb.loadUnaligned(as: V.self)
                    x0.addProduct(V(repeating: rows.element(pa, first)), bv)
                    x1.addProduct(V(repeating: rows.element(pa, first + 1)), bv)
                    x2.addProduct(V(repeating: rows.element(pa, first + 2)), bv)
                    x3.addProduct(V(repeating: rows.element(pa, first + 3)), bv)
                    pa += aColumnStride
                    pb += bStep
                }
            }
            return (x0, x1, x2, x3)
        }
        let fast = columnStride == 1 && width == 32
        @inline(__always) func store(_ i: Int, _ half: Int, _ v: V) {
            guard i < height else { return }
            if fast {
                let p = UnsafeMutableRawPointer(c + i * rowStride + half)
                p.storeBytes(of: overwrite ? v * alpha : p.loadUnaligned(as: V.self).addingProduct(v, alpha), as: V.self)
            } else {
                for j in half..<min(width, half + 16) {
                    let value = alpha * v[j - half]
                    c[i * rowStride + j * columnStride] = overwrite ? value : c[i * rowStride + j * columnStride] + value
                }
            }
        }
        @inline(__always) func run<Rows: TileRows>(_ rows: Rows) {
            for half in [0, 16] where half < width {
                var q = quarter(rows, 0, half)
                store(0, half, q.0); store(1, half, q.1); store(2, half, q.2); store(3, half, q.3)
                if height > 4 {
                    q = quarter(rows, 4, half)
                    store(4, half, q.0); store(5, half, q.1); store(6, half, q.2); store(7, half, q.3)
                }
            }
        }
        if aRowStride == 1 { run(ContiguousRows()) } else { run(StridedRows(stride: aRowStride)) }
    }

    /// The 8×32 kernel: 16 `SIMD16` accumulators (AVX-512's 32 registers).
    @inline(__always)
    static func wideKernel(depth: Int, a: UnsafePointer<Float>, aRowStride: Int, aColumnStride: Int,
        b: UnsafePointer<Float>, bRowStride: Int, alpha: Float, c: UnsafeMutablePointer<Float>, rowStride: Int,
        columnStride: Int, height: Int, width: Int, segments: Int, segmentStride: Int, overwrite: Bool) {
        typealias V = SIMD16<Float>
        var c00 = V(), c01 = V(), c10 = V(), c11 = V(), c20 = V(), c21 = V(), c30 = V(), c31 = V()
        var c40 = V(), c41 = V(), c50 = V(), c51 = V(), c60 = V(), c61 = V(), c70 = V(), c71 = V()
        @inline(__always) func accumulate<Rows: TileRows>(_ rows: Rows) {
            var pb = UnsafeRawPointer(b)
            let bStep = bRowStride &* 4
            for segment in 0..<segments {
                var pa = a + segment &* segmentStride
                for _ in 0..<depth {
                    let b0 = pb.loadUnaligned(as: V.self)
                    let b1 = pb.loadUnaligned(fromByteOffset: 64, as: V.self)
                    var s = V(repeating: rows.element(pa, 0))
                    c00.addProduct(s, b0); c01.addProduct(s, b1)
                    s = V(repeating: rows.element(pa, 1))
                    c10.addProduct(s, b0); c11.addProduct(s, b1)
                    s = V(repeating: rows.element(pa, 2))
                    c20.addProduct(s, b0); c21.addProduct(s, b1)
                    s = V(repeating: rows.element(pa, 3))
                    c30.addProduct(s, b0); c31.addProduct(s, b1)
                    s = V(repeating: rows.element(pa, 4))
                    c40.addProduct(s, b0); c41.addProduct(s, b1)
                    s = V(repeating: rows.element(pa, 5))
                    c50.addProduct(s, b0); c51.addProduct(s, b1)
                    s = V(repeating: rows.element(pa, 6))
                    c60.addProduct(s, b0); c61.addProduct(s, b1)
                    s = V(repeating: rows.element(pa, 7))
                    c70.addProduct(s, b0); c71.addProduct(s, b1)
                    pa += aColumnStride
                    pb += bStep
                }
            }
        }
        if aRowStride == 1 { accumulate(ContiguousRows()) } else { accumulate(StridedRows(stride: aRowStride)) }
        let fast = columnStride == 1 && width == 32
        @inline(__always) func store(_ i: Int, _ lo: V, _ hi: V) {
            guard i < height else { return }
            if fast {
                let row = UnsafeMutableRawPointer(c + i * rowStride)
                if overwrite {
                    row.storeBytes(of: lo * alpha, as: V.self)
                    row.storeBytes(of: hi * alpha, toByteOffset: 64, as: V.self)
                } else {
                    row.storeBytes(of: row.loadUnaligned(as: V.self).addingProduct(lo, alpha), as: V.self)
                    row.storeBytes(of: row.loadUnaligned(fromByteOffset: 64, as: V.self).addingProduct(hi, alpha),
                        toByteOffset: 64, as: V.self)
                }
            } else {
                for j in 0..<width {
                    let value = alpha * (j < 16 ? lo[j] : hi[j - 16])
                    c[i * rowStride + j * columnStride] = overwrite ? value : c[i * rowStride + j * columnStride] + value
                }
            }
        }
        store(0, c00, c01); store(1, c10, c11); store(2, c20, c21); store(3, c30, c31)
        store(4, c40, c41); store(5, c50, c51); store(6, c60, c61); store(7, c70, c71)
    }
}

/// How the micro-kernel finds element (i, p) of its 8-row A tile from the column pointer:
/// specialised so that unit-stride rows use constant offsets, and strided rows use two
/// base pointers with indexed addressing instead of a serial chain of pointer increments.
protocol TileRows {
    func element(_ column: UnsafePointer<Float>, _ row: Int) -> Float
}

/// Rows adjacent in memory (packed tiles, a transposed A read in place).
struct ContiguousRows: TileRows {
    @inline(__always) func element(_ column: UnsafePointer<Float>, _ row: Int) -> Float { column[row] }
}

/// Rows `stride` floats apart (a row-major A or patch rows read in place).
struct StridedRows: TileRows {
    let stride: Int
    let stride3: Int
    init(stride: Int) {
        self.stride = stride
        stride3 = 3 &* stride
    }

    @inline(__always) func element(_ column: UnsafePointer<Float>, _ row: Int) -> Float {
        let base = row < 4 ? column : column + 4 &* stride
        switch row & 3 {
        case 0: return base[0]
        case 1: return base[stride]
        case 2: return base[2 &* stride]
        default: return base[stride3]
        }
    }
}

// MARK: Linear algebra on the CPU backend

extension CPUBackend {
    public func gemm(_ descriptor: GemmDescriptor, a: DeviceBuffer, b: DeviceBuffer, c: DeviceBuffer) throws {
        try OpValidation.gemm(descriptor, a: a, b: b, c: c)
        CPUGemm.run(descriptor, a: try pointer(a), b: try pointer(b), c: try pointer(c))
    }
}
