import RDCompute
import RDTestSupport
import Testing

/// Every op with a backward, checked against central finite differences of its own forward
/// pass on the same backend (small shapes; sampled coordinates for the linear ops).
@Suite("Finite-difference gradients")
struct GradientTests {
    /// `⟨r, y⟩` in Double: the scalar loss whose gradient the backward ops compute.
    static func dot(_ r: [Float], _ y: [Float]) -> Double { zip(r, y).reduce(0) { $0 + Double($1.0) * Double($1.1) } }

    /// Central difference of `loss` in coordinate `i` of `values`.
    static func central(_ values: [Float], _ i: Int, h: Float, _ loss: ([Float]) throws -> Double) rethrows -> Double {
        var plus = values, minus = values
        plus[i] += h
        minus[i] -= h
        return (try loss(plus) - loss(minus)) / Double(plus[i] - minus[i])
    }

    static func expectClose(_ analytic: Float, _ numeric: Double, _ what: String, relative: Double = 2e-3) {
        let scale = max(1, abs(numeric))
        #expect(abs(Double(analytic) - numeric) <= relative * scale, "\(what): analytic \(analytic), numeric \(numeric)")
    }

    static let geometries: [Conv2DGeometry] = [
        Conv2DGeometry(batch: 2, height: 5, width: 4, inChannels: 2, outChannels: 3, kernel: 3, stride: 2, padding: .same),
        .transposed(batch: 1, inHeight: 3, inWidth: 3, inChannels: 2, outChannels: 2, kernel: 4, stride: 2, padding: .same),
    ]

    @Test(arguments: AvailableBackends.all, geometries)
    func convolution(_ target: BackendUnderTest, _ g: Conv2DGeometry) throws {
        let b = target.backend
        var data = TestData(seed: 61)
        let x = data.values(g.inputCount), w = data.values(g.filterCount), r = data.values(g.outputCount)
        func loss(_ x: [Float], _ w: [Float]) throws -> Double {
            let y = try b.makeBuffer(count: g.outputCount)
            try b.conv2dForward(g, input: try b.makeBuffer(x), filter: try b.makeBuffer(w), output: y)
            return Self.dot(r, try b.download(y))
        }
        let gx = try b.makeBuffer(count: g.inputCount), gw = try b.makeBuffer(count: g.filterCount)
        try b.conv2dBackwardData(g, gradOutput: try b.makeBuffer(r), filter: try b.makeBuffer(w), gradInput: gx)
        try b.conv2dBackwardFilter(g, input: try b.makeBuffer(x), gradOutput: try b.makeBuffer(r), gradFilter: gw)
        let dx = try b.download(gx), dw = try b.download(gw)
        for i in stride(from: 0, to: x.count, by: max(1, x.count / 12)) {
            Self.expectClose(dx[i], try Self.central(x, i, h: 0.25) { try loss($0, w) }, "dx[\(i)]")
        }
        for i in stride(from: 0, to: w.count, by: max(1, w.count / 12)) {
            Self.expectClose(dw[i], try Self.central(w, i, h: 0.25) { try loss(x, $0) }, "dw[\(i)]")
        }
    }

    /// GEMM's backward is GEMM with transposes: dA = R·Bᵀ, dB = Aᵀ·R.
    @Test(arguments: AvailableBackends.all)
    func gemm(_ target: BackendUnderTest) throws {
        let b = target.backend
        let (m, n, k) = (5, 4, 7)
        var data = TestData(seed: 62)
        let a = data.values(m * k), bm = data.values(k * n), r = data.values(m * n)
        func loss(_ a: [Float], _ bm: [Float]) throws -> Double {
            let c = try b.makeBuffer(count: m * n)
            try b.gemm(GemmDescriptor(m: m, n: n, k: k), a: try b.makeBuffer(a), b: try b.makeBuffer(bm), c: c)
            return Self.dot(r, try b.download(c))
        }
        let da = try b.makeBuffer(count: m * k), db = try b.makeBuffer(count: k * n)
        try b.gemm(GemmDescriptor(m: m, n: k, k: n, transposeB: true), a: try b.makeBuffer(r), b: try b.makeBuffer(bm), c: da)
        try b.gemm(GemmDescriptor(m: k, n: n, k: m, transposeA: true), a: try b.makeBuffer(a), b: try b.makeBuffer(r), c: db)
        let dA = try b.download(da), dB = try b.download(db)
        for i in 0..<a.count { Self.expectClose(dA[i], try Self.central(a, i, h: 0.25) { try loss($0, bm) }, "dA[\(i)]") }
        for i in 0..<bm.count { Self.expectClose(dB[i], try Self.central(bm, i, h: 0.25) { try loss(a, $0) }, "dB[\(i)]") }
    }

    @Test(arguments: AvailableBackends.all)
    func bias(_ target: BackendUnderTest) throws {
        let b = target.backend
        let (rows, channels) = (6, 5)
        var data = TestData(seed: 63)
        let x = data.values(rows * channels), bias = data.values(channels), r = data.values(rows * channels)
        func loss(_ bias: [Float]) throws -> Double {
            let y = try b.makeBuffer(count: x.count)
            try b.biasAdd(try b.makeBuffer(x), bias: try b.makeBuffer(bias), output: y)
            return Self.dot(r, try b.download(y))
        }
        let gb = try b.makeBuffer(count: channels)
        try b.biasGradient(try b.makeBuffer(r), gradBias: gb)
        let db = try b.download(gb)
        for i in 0..<channels { Self.expectClose(db[i], try Self.central(bias, i, h: 0.25, loss), "dbias[\(i)]") }
    }

    /// Elementwise: the Jacobian is diagonal, so one ±h evaluation gives every coordinate.
    @Test(arguments: AvailableBackends.all, UnaryOp.allCases)
    func unary(_ target: BackendUnderTest, _ op: UnaryOp) throws {
        let b = target.backend
        var data = TestData(seed: 64)
        var x = ParityCase.unaryInputs(op, count: 64, seed: 65).map { $0 / 3 }
        if op == .relu { x = x.map { abs($0) < 0.05 ? $0 + 0.1 : $0 } }  // away from the kink
        if op == .log || op == .sqrt { x = x.map { $0 + 0.2 } }
        let r = data.values(x.count)
        let h: Float = 1e-2
        func forward(_ shift: Float) throws -> [Float] {
            let y = try b.makeBuffer(count: x.count)
            try b.unary(op, try b.makeBuffer(x.map { $0 + shift }), output: y)
            return try b.download(y)
        }
        let (plus, minus) = (try forward(h), try forward(-h))
        let gx = try b.makeBuffer(count: x.count)
        try b.unaryBackward(op, x: try b.makeBuffer(x), gradOutput: try b.makeBuffer(r), gradInput: gx)
        let analytic = try b.download(gx)
        for i in x.indices {
            let numeric = Double(r[i]) * (Double(plus[i]) - Double(minus[i])) / Double((x[i] + h) - (x[i] - h))
            Self.expectClose(analytic[i], numeric, "\(op)'(\(x[i]))", relative: 5e-3)
        }
    }

    @Test(arguments: AvailableBackends.all)
    func bernoulliNLL(_ target: BackendUnderTest) throws {
        let b = target.backend
        let (rows, columns) = (3, 5)
        var data = TestData(seed: 66)
        let logits = data.values(rows * columns, in: -4...4), targets = data.values(rows * columns, in: 0...1)
        let g = data.values(rows)
        func loss(_ logits: [Float]) throws -> Double {
            let out = try b.makeBuffer(count: rows)
            try b.bernoulliNLL(logits: try b.makeBuffer(logits), targets: try b.makeBuffer(targets), rows: rows, output: out)
            return Self.dot(g, try b.download(out))
        }
        let gl = try b.makeBuffer(count: logits.count)
        try b.bernoulliNLLBackward(logits: try b.makeBuffer(logits), targets: try b.makeBuffer(targets),
            gradOutput: try b.makeBuffer(g), gradLogits: gl)
        let analytic = try b.download(gl)
        for i in logits.indices { Self.expectClose(analytic[i], try Self.central(logits, i, h: 1e-2, loss), "dl[\(i)]", relative: 5e-3) }
    }

    @Test(arguments: AvailableBackends.all)
    func gaussianKL(_ target: BackendUnderTest) throws {
        let b = target.backend
        let (rows, columns) = (2, 4)
        var data = TestData(seed: 67)
        let mean = data.values(rows * columns, in: -2...2), scale = data.values(rows * columns, in: 0.3...2)
        let g = data.values(rows)
        func loss(_ mean: [Float], _ scale: [Float]) throws -> Double {
            let out = try b.makeBuffer(count: rows)
            try b.gaussianKL(mean: try b.makeBuffer(mean), scale: try b.makeBuffer(scale), rows: rows, output: out)
            return Self.dot(g, try b.download(out))
        }
        let gm = try b.makeBuffer(count: mean.count), gs = try b.makeBuffer(count: mean.count)
        try b.gaussianKLBackward(mean: try b.makeBuffer(mean), scale: try b.makeBuffer(scale), gradOutput: try b.makeBuffer(g),
            gradMean: gm, gradScale: gs)
        let dm = try b.download(gm), ds = try b.download(gs)
        for i in mean.indices {
            Self.expectClose(dm[i], try Self.central(mean, i, h: 1e-2) { try loss($0, scale) }, "dmu[\(i)]", relative: 5e-3)
            Self.expectClose(ds[i], try Self.central(scale, i, h: 1e-2) { try loss(mean, $0) }, "dsigma[\(i)]", relative: 5e-3)
        }
    }

    /// The KL between two diagonal Gaussians into all four inputs.
    @Test(arguments: AvailableBackends.all)
    func gaussianKLPair(_ target: BackendUnderTest) throws {
        let b = target.backend
        let (rows, columns) = (2, 4)
        var data = TestData(seed: 68)
        let meanQ = data.values(rows * columns, in: -2...2), scaleQ = data.values(rows * columns, in: 0.3...2)
        let meanP = data.values(rows * columns, in: -2...2), scaleP = data.values(rows * columns, in: 0.5...2)
        let g = data.values(rows)
        func loss(_ inputs: [[Float]]) throws -> Double {
            let out = try b.makeBuffer(count: rows)
            try b.gaussianKLPair(meanQ: try b.makeBuffer(inputs[0]), scaleQ: try b.makeBuffer(inputs[1]),
                meanP: try b.makeBuffer(inputs[2]), scaleP: try b.makeBuffer(inputs[3]), rows: rows, output: out)
            return Self.dot(g, try b.download(out))
        }
        let inputs = [meanQ, scaleQ, meanP, scaleP]
        let grads = try (0..<4).map { _ in try b.makeBuffer(count: meanQ.count) }
        try b.gaussianKLPairBackward(meanQ: try b.makeBuffer(meanQ), scaleQ: try b.makeBuffer(scaleQ),
            meanP: try b.makeBuffer(meanP), scaleP: try b.makeBuffer(scaleP), gradOutput: try b.makeBuffer(g),
            gradMeanQ: grads[0], gradScaleQ: grads[1], gradMeanP: grads[2], gradScaleP: grads[3])
        for (k, name) in ["dmuQ", "dsigmaQ", "dmuP", "dsigmaP"].enumerated() {
            let analytic = try b.download(grads[k])
            for i in meanQ.indices {
                let numeric = try Self.central(inputs[k], i, h: 1e-2) { values in
                    var varied = inputs
                    varied[k] = values
                    return try loss(varied)
                }
                Self.expectClose(analytic[i], numeric, "\(name)[\(i)]", relative: 5e-3)
            }
        }
    }

    /// The AR(1)-prior KL into μ and σ: each step enters its own term and the next one's.
    @Test(arguments: AvailableBackends.all)
    func ar1KL(_ target: BackendUnderTest) throws {
        let b = target.backend
        let (rows, steps, dimensions) = (2, 4, 3)
        var data = TestData(seed: 69)
        let count = rows * steps * dimensions
        let mean = data.values(count, in: -2...2), scale = data.values(count, in: 0.4...2)
        let alpha: [Float] = [0.7, -0.5, 0.9], g = data.values(rows)
        func loss(_ mean: [Float], _ scale: [Float]) throws -> Double {
            let out = try b.makeBuffer(count: rows)
            try b.ar1KL(mean: try b.makeBuffer(mean), scale: try b.makeBuffer(scale), alpha: try b.makeBuffer(alpha),
                rows: rows, output: out)
            return Self.dot(g, try b.download(out))
        }
        let gm = try b.makeBuffer(count: count), gs = try b.makeBuffer(count: count)
        try b.ar1KLBackward(mean: try b.makeBuffer(mean), scale: try b.makeBuffer(scale), alpha: try b.makeBuffer(alpha),
            gradOutput: try b.makeBuffer(g), gradMean: gm, gradScale: gs)
        let dm = try b.download(gm), ds = try b.download(gs)
        for i in 0..<count {
            Self.expectClose(dm[i], try Self.central(mean, i, h: 1e-2) { try loss($0, scale) }, "dmu[\(i)]", relative: 5e-3)
            Self.expectClose(ds[i], try Self.central(scale, i, h: 1e-2) { try loss(mean, $0) }, "dsigma[\(i)]", relative: 5e-3)
        }
    }
}
