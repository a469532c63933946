import RDCompute
import RDTestSupport
import Testing

/// Finite differences of ⟨r, y⟩ for the masked ops on every backend: y = x·(W ⊙ M) + b (the
/// weight gradient is exactly zero on masked entries) and the type-A masked convolution.
@Suite("Masked op gradients")
struct MaskedGradientTests {
    @Test(arguments: AvailableBackends.all)
    func maskedDense(_ target: BackendUnderTest) throws {
        let b = target.backend
        let s = try MaskedDenseShape(batch: 3, inputDegrees: MaskedDenseShape.madeInputDegrees(4),
            outputDegrees: MaskedDenseShape.madeOutputDegrees(dimensions: 4, perDimension: 2))
        let v = MaskedInputs(s, seed: 91)
        func loss(_ x: [Float], _ w: [Float], _ bias: [Float]) throws -> Double {
            let y = try b.makeBuffer(count: s.batch * s.outputs)
            try b.maskedDenseForward(s, x: try b.makeBuffer(x), weight: try b.makeBuffer(w), bias: try b.makeBuffer(bias), output: y)
            return GradientTests.dot(v.gy, try b.download(y))
        }
        let dx = try b.makeBuffer(count: v.x.count), dw = try b.makeBuffer(count: v.w.count), db = try b.makeBuffer(count: v.b.count)
        try b.maskedDenseBackward(s, x: try b.makeBuffer(v.x), weight: try b.makeBuffer(v.w), gradOutput: try b.makeBuffer(v.gy),
            gradInput: dx, gradWeight: dw, gradBias: db)
        let gx = try b.download(dx), gw = try b.download(dw), gb = try b.download(db)
        for i in 0..<v.x.count {
            GradientTests.expectClose(gx[i], try GradientTests.central(v.x, i, h: 0.25) { try loss($0, v.w, v.b) }, "dx[\(i)]")
        }
        for e in 0..<v.w.count {
            let numeric = try GradientTests.central(v.w, e, h: 0.25) { try loss(v.x, $0, v.b) }
            GradientTests.expectClose(gw[e], numeric, "dW[\(e)]")
            if !s.connects(input: e / s.outputs, output: e % s.outputs) { #expect(gw[e] == 0 && numeric == 0) }
        }
        for o in 0..<v.b.count {
            GradientTests.expectClose(gb[o], try GradientTests.central(v.b, o, h: 0.25) { try loss(v.x, v.w, $0) }, "db[\(o)]")
        }
    }

    @Test(arguments: AvailableBackends.all)
    func maskedConv(_ target: BackendUnderTest) throws {
        let b = target.backend
        let s = try MaskedConv2DShape.pixelCNN(.a, batch: 2, height: 4, width: 5, inChannels: 2, outChannels: 3, kernel: 3)
        var data = TestData(seed: 92)
        let x = data.values(s.geometry.inputCount), w = data.values(s.filterCount), r = data.values(s.geometry.outputCount)
        func loss(_ x: [Float], _ w: [Float]) throws -> Double {
            let y = try b.makeBuffer(count: s.geometry.outputCount)
            try b.maskedConv2dForward(s, input: try b.makeBuffer(x), filter: try b.makeBuffer(w), output: y)
            return GradientTests.dot(r, try b.download(y))
        }
        let dx = try b.makeBuffer(count: x.count), dw = try b.makeBuffer(count: w.count)
        try b.maskedConv2dBackwardData(s, gradOutput: try b.makeBuffer(r), filter: try b.makeBuffer(w), gradInput: dx)
        try b.maskedConv2dBackwardFilter(s, input: try b.makeBuffer(x), gradOutput: try b.makeBuffer(r), gradFilter: dw)
        let gx = try b.download(dx), gw = try b.download(dw)
        for i in 0..<x.count {
            GradientTests.expectClose(gx[i], try GradientTests.central(x, i, h: 0.25) { try loss($0, w) }, "dx[\(i)]")
        }
        for e in 0..<w.count {
            GradientTests.expectClose(gw[e], try GradientTests.central(w, e, h: 0.25) { try loss(x, $0) }, "dW[\(e)]")
        }
    }
}
