@testable import BLASBackend
import RDCompute
import Testing

/// The backend in process, against naive Double references (rdlab's selftest checks the same
/// ops through the plugin loader, on shapes too small to need more than one im2col chunk).
struct BLASBackendTests {
    static func backend(budget: Int = ConvChunks.budget) -> OpenBLASBackend {
        OpenBLASBackend(device: OpenBLASBackendFactory.device, columnBudget: budget)
    }

    /// Deterministic values in [−1, 1).
    static func values(_ count: Int, seed: UInt64) -> [Float] {
        var state = seed &* 0x9E37_79B9_7F4A_7C15 | 1
        return (0..<count).map { _ in
            state = state &* 6_364_136_223_846_793_005 &+ 1_442_695_040_888_963_407
            return Float(Int(state >> 40) % 2000 - 1000) / 1000
        }
    }

    static func close(_ a: [Float], _ b: [Double], tolerance: Double = 1e-5) -> Bool {
        a.count == b.count && zip(a, b).allSatisfy { abs(Double($0) - $1) <= tolerance * max(1, abs($1)) }
    }

    // MARK: GEMM

    @Test(arguments: [(false, false), (true, false), (false, true), (true, true)])
    func gemmMatchesTheReference(_ transposes: (Bool, Bool)) throws {
        let (m, n, k) = (13, 7, 11)
        let d = GemmDescriptor(m: m, n: n, k: k, transposeA: transposes.0, transposeB: transposes.1, alpha: 0.5, beta: 2)
        let backend = Self.backend()
        let (a, b, c) = (Self.values(m * k, seed: 1), Self.values(k * n, seed: 2), Self.values(m * n, seed: 3))
        let out = try backend.makeBuffer(c)
        try backend.gemm(d, a: try backend.makeBuffer(a), b: try backend.makeBuffer(b), c: out)
        var expected = [Double](repeating: 0, count: m * n)
        for i in 0..<m {
            for j in 0..<n {
                var sum = 0.0
                for p in 0..<k {
                    sum += Double(d.transposeA ? a[p * m + i] : a[i * k + p]) * Double(d.transposeB ? b[j * k + p] : b[p * n + j])
                }
                expected[i * n + j] = 0.5 * sum + 2 * Double(c[i * n + j])
            }
        }
        #expect(Self.close(try backend.download(out), expected))
    }

    @Test func betaZeroOverwritesAndEmptySizesAreNoOps() throws {
        let backend = Self.backend()
        let c = try backend.makeBuffer([Float](repeating: .nan, count: 6))
        try backend.gemm(GemmDescriptor(m: 2, n: 3, k: 2), a: try backend.makeBuffer([1, 2, 3, 4]),
            b: try backend.makeBuffer([1, 0, 0, 0, 1, 0]), c: c)
        #expect(try backend.download(c) == [1, 2, 0, 3, 4, 0])
        try backend.gemm(GemmDescriptor(m: 2, n: 3, k: 0, beta: 3), a: try backend.makeBuffer(count: 0),
            b: try backend.makeBuffer(count: 0), c: c)
        #expect(try backend.download(c) == [3, 6, 0, 9, 12, 0])
        try backend.gemm(GemmDescriptor(m: 2, n: 3, k: 0), a: try backend.makeBuffer(count: 0), b: try backend.makeBuffer(count: 0), c: c)
        #expect(try backend.download(c) == [0, 0, 0, 0, 0, 0])
        let empty = try backend.makeBuffer(count: 0)
        try backend.gemm(GemmDescriptor(m: 0, n: 5, k: 4), a: empty, b: try backend.makeBuffer(count: 20), c: empty)
    }

    // MARK: Convolutions

    /// Forward, backward-data and backward-filter by their definitions, in Double.
    struct Reference {
        let g: Conv2DGeometry

        func taps(_ body: (_ n: Int, _ oy: Int, _ ox: Int, _ ky: Int, _ kx: Int, _ iy: Int, _ ix: Int) -> Void) {
            for n in 0..<g.batch {
                for oy in 0..<g.outHeight {
                    for ox in 0..<g.outWidth {
                        for ky in 0..<g.kernelHeight {
                            for kx in 0..<g.kernelWidth {
                                let iy = oy * g.strideY - g.padTop + ky, ix = ox * g.strideX - g.padLeft + kx
                                if iy >= 0 && iy < g.height && ix >= 0 && ix < g.width { body(n, oy, ox, ky, kx, iy, ix) }
                            }
                        }
                    }
                }
            }
        }

        func input(_ n: Int, _ iy: Int, _ ix: Int, _ ci: Int) -> Int { ((n * g.height + iy) * g.width + ix) * g.inChannels + ci }
        func output(_ n: Int, _ oy: Int, _ ox: Int, _ co: Int) -> Int { ((n * g.outHeight + oy) * g.outWidth + ox) * g.outChannels + co }
        func filter(_ ky: Int, _ kx: Int, _ ci: Int, _ co: Int) -> Int { ((ky * g.kernelWidth + kx) * g.inChannels + ci) * g.outChannels + co }

        func forward(_ x: [Float], _ w: [Float]) -> [Double] {
            var y = [Double](repeating: 0, count: g.outputCount)
            taps { n, oy, ox, ky, kx, iy, ix in
                for ci in 0..<g.inChannels {
                    for co in 0..<g.outChannels {
                        y[output(n, oy, ox, co)] += Double(x[input(n, iy, ix, ci)]) * Double(w[filter(ky, kx, ci, co)])
                    }
                }
            }
            return y
        }

        func backwardData(_ dy: [Float], _ w: [Float]) -> [Double] {
            var dx = [Double](repeating: 0, count: g.inputCount)
            taps { n, oy, ox, ky, kx, iy, ix in
                for ci in 0..<g.inChannels {
                    for co in 0..<g.outChannels {
                        dx[input(n, iy, ix, ci)] += Double(dy[output(n, oy, ox, co)]) * Double(w[filter(ky, kx, ci, co)])
                    }
                }
            }
            return dx
        }

        func backwardFilter(_ x: [Float], _ dy: [Float]) -> [Double] {
            var dw = [Double](repeating: 0, count: g.filterCount)
            taps { n, oy, ox, ky, kx, iy, ix in
                for ci in 0..<g.inChannels {
                    for co in 0..<g.outChannels {
                        dw[filter(ky, kx, ci, co)] += Double(x[input(n, iy, ix, ci)]) * Double(dy[output(n, oy, ox, co)])
                    }
                }
            }
            return dw
        }
    }

    static let geometries: [Conv2DGeometry] = [
        // asymmetric padding and strides
        Conv2DGeometry(batch: 3, height: 7, width: 5, inChannels: 2, outChannels: 3, kernelHeight: 3, kernelWidth: 2,
            strideY: 2, strideX: 1, padTop: 1, padBottom: 0, padLeft: 0, padRight: 1),
        // padding wider than the stride, a kernel the size of the image
        Conv2DGeometry(batch: 2, height: 5, width: 5, inChannels: 1, outChannels: 4, kernelHeight: 5, kernelWidth: 5,
            strideY: 3, strideX: 3, padTop: 2, padBottom: 2, padLeft: 2, padRight: 2),
        // a transposed conv's geometry (Keras same, stride 2)
        Conv2DGeometry.transposed(batch: 2, inHeight: 3, inWidth: 4, inChannels: 3, outChannels: 2, kernel: 3, stride: 2, padding: .same),
        // the input is the column matrix: 1×1 stride 1, and a whole-image kernel
        Conv2DGeometry(batch: 2, height: 6, width: 6, inChannels: 3, outChannels: 2, kernelHeight: 1, kernelWidth: 1),
        Conv2DGeometry(batch: 3, height: 4, width: 3, inChannels: 2, outChannels: 2, kernelHeight: 4, kernelWidth: 3),
    ]

    /// Every pass against the reference, with the im2col scratch at one row, a few rows (chunks
    /// that split images) and the default; outputs start as NaN, so each pass must overwrite.
    @Test(arguments: geometries.indices, [1, 37, ConvChunks.budget])
    func convolutionsMatchTheReference(_ index: Int, budget: Int) throws {
        let g = Self.geometries[index], reference = Reference(g: g), backend = Self.backend(budget: budget)
        let (x, w, dy) = (Self.values(g.inputCount, seed: 4), Self.values(g.filterCount, seed: 5), Self.values(g.outputCount, seed: 6))
        let (bx, bw, bdy) = (try backend.makeBuffer(x), try backend.makeBuffer(w), try backend.makeBuffer(dy))
        let y = try backend.makeBuffer([Float](repeating: .nan, count: g.outputCount))
        try backend.conv2dForward(g, input: bx, filter: bw, output: y)
        #expect(Self.close(try backend.download(y), reference.forward(x, w)), "forward \(g) budget \(budget)")
        let dx = try backend.makeBuffer([Float](repeating: .nan, count: g.inputCount))
        try backend.conv2dBackwardData(g, gradOutput: bdy, filter: bw, gradInput: dx)
        #expect(Self.close(try backend.download(dx), reference.backwardData(dy, w)), "backward-data \(g) budget \(budget)")
        let dw = try backend.makeBuffer([Float](repeating: .nan, count: g.filterCount))
        try backend.conv2dBackwardFilter(g, input: bx, gradOutput: bdy, gradFilter: dw)
        #expect(Self.close(try backend.download(dw), reference.backwardFilter(x, dy)), "backward-filter \(g) budget \(budget)")
    }

    // MARK: Bad input throws

    @Test func badSizesThrowInsteadOfTrapping() throws {
        let backend = Self.backend()
        let small = try backend.makeBuffer(count: 4)
        for d in [GemmDescriptor(m: -1, n: 2, k: 2), GemmDescriptor(m: Int.max, n: Int.max, k: Int.max),
            GemmDescriptor(m: 1 << 31, n: 1, k: 1), GemmDescriptor(m: 3, n: 3, k: 3), GemmDescriptor(m: Int.min, n: 2, k: 2)] {
            #expect(throws: ComputeError.self) { try backend.gemm(d, a: small, b: small, c: small) }
        }
        let huge = Int(Int32.max)
        let geometries = [
            Conv2DGeometry(batch: huge, height: huge, width: huge, inChannels: huge, outChannels: 1, kernelHeight: 1, kernelWidth: 1),
            Conv2DGeometry(batch: 1, height: 4, width: 4, inChannels: 1, outChannels: 1, kernelHeight: 3, kernelWidth: 3,
                padTop: Int.max, padBottom: Int.max),
            Conv2DGeometry(batch: 1, height: 4, width: 4, inChannels: 1, outChannels: 1, kernelHeight: 3, kernelWidth: 3, padLeft: -1),
            Conv2DGeometry(batch: 1, height: 2, width: 2, inChannels: 1, outChannels: 1, kernelHeight: 3, kernelWidth: 3),
            Conv2DGeometry(batch: 1, height: 4, width: 4, inChannels: 1, outChannels: 1, kernelHeight: 3, kernelWidth: 3, strideY: 0),
            Conv2DGeometry(batch: 1, height: 4, width: 4, inChannels: 1, outChannels: 1, kernelHeight: 1, kernelWidth: 1),
        ]
        for g in geometries {
            #expect(throws: ComputeError.self) { try backend.conv2dForward(g, input: small, filter: small, output: small) }
            #expect(throws: ComputeError.self) { try backend.conv2dBackwardData(g, gradOutput: small, filter: small, gradInput: small) }
            #expect(throws: ComputeError.self) { try backend.conv2dBackwardFilter(g, input: small, gradOutput: small, gradFilter: small) }
        }
        #expect(throws: ComputeError.self) { try backend.makeBuffer(count: -1) }
        #expect(throws: ComputeError.self) { try backend.makeBuffer(count: Int.max) }
        let other = Self.backend()
        #expect(throws: ComputeError.self) {
            try backend.gemm(GemmDescriptor(m: 1, n: 1, k: 1), a: try other.makeBuffer(count: 1), b: small, c: small)
        }
    }
}
