import RDCompute

/// The linear backward ops (convolution, GEMM, bias) and the elementwise ones, against central
/// differences of their forward passes.
extension GradientCase {
    /// A strided 'same' convolution and a transposed one (stride 2, kernel 4).
    public static let geometries: [Conv2DGeometry] = [
        Conv2DGeometry(batch: 2, height: 5, width: 4, inChannels: 2, outChannels: 3, kernel: 3, stride: 2, padding: .same),
        .transposed(batch: 1, inHeight: 3, inWidth: 3, inChannels: 2, outChannels: 2, kernel: 4, stride: 2, padding: .same),
    ]

    public static var linearCases: [GradientCase] { convCases + [gemmCase, biasCase, biasReLUCase] }

    /// L(x, W) = ⟨r, conv(x, W)⟩: ∂L/∂x from conv2dBackwardData, ∂L/∂W from
    /// conv2dBackwardFilter, each at about a dozen sampled coordinates.
    static var convCases: [GradientCase] {
        geometries.flatMap { g in
            /// x, W and r of seed 61, and the loss at (x, W) on `b`.
            @Sendable func setup(_ b: any Backend) -> (x: [Float], w: [Float], r: [Float], loss: ([Float], [Float]) throws -> Double) {
                var data = TestData(seed: 61)
                let x = data.values(g.inputCount), w = data.values(g.filterCount), r = data.values(g.outputCount)
                return (x, w, r, { x, w in
                    let y = try b.makeBuffer(count: g.outputCount)
                    try b.conv2dForward(g, input: try b.makeBuffer(x), filter: try b.makeBuffer(w), output: y)
                    return FiniteDifference.dot(r, try b.download(y))
                })
            }
            return [
                GradientCase(.conv2dBackwardData, forward: [.conv2dForward], name: "conv2dBackwardData \(g)", step: 0.25,
                    tolerance: linear) { b, h in
                    let (x, w, r, loss) = setup(b)
                    let gx = try b.makeBuffer(count: g.inputCount)
                    try b.conv2dBackwardData(g, gradOutput: try b.makeBuffer(r), filter: try b.makeBuffer(w), gradInput: gx)
                    return try FiniteDifference.probes("dx", analytic: try b.download(gx), values: x,
                        at: FiniteDifference.sampled(x.count), h: h) { try loss($0, w) }
                },
                GradientCase(.conv2dBackwardFilter, forward: [.conv2dForward], name: "conv2dBackwardFilter \(g)", step: 0.25,
                    tolerance: linear) { b, h in
                    let (x, w, r, loss) = setup(b)
                    let gw = try b.makeBuffer(count: g.filterCount)
                    try b.conv2dBackwardFilter(g, input: try b.makeBuffer(x), gradOutput: try b.makeBuffer(r), gradFilter: gw)
                    return try FiniteDifference.probes("dw", analytic: try b.download(gw), values: w,
                        at: FiniteDifference.sampled(w.count), h: h) { try loss(x, $0) }
                },
            ]
        }
    }

    /// GEMM's backward is GEMM with transposes: for L = ⟨R, A·B⟩, dA = R·Bᵀ and dB = Aᵀ·R, at
    /// every coordinate.
    static var gemmCase: GradientCase {
        let (m, n, k) = (5, 4, 7)
        return GradientCase(.gemm, forward: [], name: "gemm dA = R·Bᵀ, dB = Aᵀ·R (\(m)x\(n)x\(k))", step: 0.25,
            tolerance: linear) { b, h in
            var data = TestData(seed: 62)
            let a = data.values(m * k), bm = data.values(k * n), r = data.values(m * n)
            func loss(_ a: [Float], _ bm: [Float]) throws -> Double {
                let c = try b.makeBuffer(count: m * n)
                try b.gemm(GemmDescriptor(m: m, n: n, k: k), a: try b.makeBuffer(a), b: try b.makeBuffer(bm), c: c)
                return FiniteDifference.dot(r, try b.download(c))
            }
            let da = try b.makeBuffer(count: m * k), db = try b.makeBuffer(count: k * n)
            try b.gemm(GemmDescriptor(m: m, n: k, k: n, transposeB: true), a: try b.makeBuffer(r), b: try b.makeBuffer(bm), c: da)
            try b.gemm(GemmDescriptor(m: k, n: n, k: m, transposeA: true), a: try b.makeBuffer(a), b: try b.makeBuffer(r), c: db)
            return try FiniteDifference.probes("dA", analytic: try b.download(da), values: a, at: a.indices, h: h) { try loss($0, bm) }
                + FiniteDifference.probes("dB", analytic: try b.download(db), values: bm, at: bm.indices, h: h) { try loss(a, $0) }
        }
    }

    /// L(bias) = ⟨r, x + bias⟩ (bias broadcast over rows): dbias = Σ_rows r from biasGradient.
    static var biasCase: GradientCase {
        let (rows, channels) = (6, 5)
        return GradientCase(.biasGradient, forward: [.biasAdd], name: "biasGradient \(rows)x\(channels)", step: 0.25,
            tolerance: linear) { b, h in
            var data = TestData(seed: 63)
            let x = data.values(rows * channels), bias = data.values(channels), r = data.values(rows * channels)
            let gb = try b.makeBuffer(count: channels)
            try b.biasGradient(try b.makeBuffer(r), gradBias: gb)
            return try FiniteDifference.probes("dbias", analytic: try b.download(gb), values: bias, at: bias.indices, h: h) { bias in
                let y = try b.makeBuffer(count: x.count)
                try b.biasAdd(try b.makeBuffer(x), bias: try b.makeBuffer(bias), output: y)
                return FiniteDifference.dot(r, try b.download(y))
            }
        }
    }

    /// L(x, bias) = ⟨r, max(x + bias, 0)⟩ with every x + bias at least 0.05 from the kink, so
    /// L is linear within ±h: dx and dbias from biasReLUBackward, given the forward's output.
    static var biasReLUCase: GradientCase {
        let (rows, channels) = (6, 5)
        return GradientCase(.biasReLUBackward, forward: [.biasReLU], name: "biasReLUBackward \(rows)x\(channels)", step: 1e-2,
            tolerance: linear) { b, h in
            var data = TestData(seed: 70)
            let bias = data.values(channels)
            let x = data.values(rows * channels).enumerated().map { i, v in
                abs(v + bias[i % channels]) < 0.05 ? v + 0.1 : v
            }
            let r = data.values(rows * channels)
            func forward(_ x: [Float], _ bias: [Float]) throws -> DeviceBuffer {
                let y = try b.makeBuffer(count: x.count)
                try b.biasReLU(try b.makeBuffer(x), bias: try b.makeBuffer(bias), output: y)
                return y
            }
            func loss(_ x: [Float], _ bias: [Float]) throws -> Double { FiniteDifference.dot(r, try b.download(try forward(x, bias))) }
            let gx = try b.makeBuffer(count: x.count), gb = try b.makeBuffer(count: channels)
            try b.biasReLUBackward(output: try forward(x, bias), gradOutput: try b.makeBuffer(r), gradInput: gx, gradBias: gb)
            return try FiniteDifference.probes("dx", analytic: try b.download(gx), values: x, at: x.indices, h: h) { try loss($0, bias) }
                + FiniteDifference.probes("dbias", analytic: try b.download(gb), values: bias, at: bias.indices, h: h) {
                    try loss(x, $0)
                }
        }
    }

    /// Elementwise f: the Jacobian is diagonal, so one forward at x + h and one at x − h give
    /// every coordinate, numericᵢ = rᵢ·(f(xᵢ + h) − f(xᵢ − h)) / ((xᵢ + h) − (xᵢ − h)); ReLU's
    /// inputs are kept off the kink, log's and sqrt's off 0.
    public static var unaryCases: [GradientCase] {
        UnaryOp.allCases.map { op in
            GradientCase(.unaryBackward, forward: [.unary], name: "unaryBackward \(op) n=64", step: 1e-2,
                tolerance: curved) { b, h in
                var data = TestData(seed: 64)
                var x = ParityCase.unaryInputs(op, count: 64, seed: 65).map { $0 / 3 }
                if op == .relu { x = x.map { abs($0) < 0.05 ? $0 + 0.1 : $0 } }
                if op == .log || op == .sqrt { x = x.map { $0 + 0.2 } }
                let r = data.values(x.count)
                func forward(_ shift: Float) throws -> [Float] {
                    let y = try b.makeBuffer(count: x.count)
                    try b.unary(op, try b.makeBuffer(x.map { $0 + shift }), output: y)
                    return try b.download(y)
                }
                let (plus, minus) = (try forward(h), try forward(-h))
                let gx = try b.makeBuffer(count: x.count)
                try b.unaryBackward(op, x: try b.makeBuffer(x), gradOutput: try b.makeBuffer(r), gradInput: gx)
                let analytic = try b.download(gx)
                return x.indices.map { i in
                    GradientProbe("\(op)'(\(x[i]))", analytic: analytic[i],
                        numeric: Double(r[i]) * (Double(plus[i]) - Double(minus[i])) / Double((x[i] + h) - (x[i] - h)))
                }
            }
        }
    }
}
