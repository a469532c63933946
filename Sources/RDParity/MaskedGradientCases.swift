import RDCompute

/// Finite differences of L = ⟨r, y⟩ for the masked ops: y = x·(W ⊙ M) + b, whose weight
/// gradient must be exactly zero on masked entries, and the type-A masked convolution.
extension GradientCase {
    public static var maskedCases: [GradientCase] { [maskedDenseCase] + maskedConvCases }

    /// dx, dW and db of the MADE layer at every coordinate; dW and its difference exactly 0
    /// where M is 0.
    static var maskedDenseCase: GradientCase {
        GradientCase(.maskedDenseBackward, forward: [.maskedDenseForward], name: "maskedDenseBackward MADE 4x2 batch 3",
            step: 0.25, tolerance: linear) { b, h in
            let s = try MaskedDenseShape(batch: 3, inputDegrees: MaskedDenseShape.madeInputDegrees(4),
                outputDegrees: MaskedDenseShape.madeOutputDegrees(dimensions: 4, perDimension: 2))
            let v = MaskedInputs(s, seed: 91)
            func loss(_ x: [Float], _ w: [Float], _ bias: [Float]) throws -> Double {
                let y = try b.makeBuffer(count: s.batch * s.outputs)
                try b.maskedDenseForward(s, x: try b.makeBuffer(x), weight: try b.makeBuffer(w), bias: try b.makeBuffer(bias), output: y)
                return FiniteDifference.dot(v.gy, try b.download(y))
            }
            let dx = try b.makeBuffer(count: v.x.count), dw = try b.makeBuffer(count: v.w.count), db = try b.makeBuffer(count: v.b.count)
            try b.maskedDenseBackward(s, x: try b.makeBuffer(v.x), weight: try b.makeBuffer(v.w), gradOutput: try b.makeBuffer(v.gy),
                gradInput: dx, gradWeight: dw, gradBias: db)
            let gw = try b.download(dw)
            let weights = try v.w.indices.map { e in
                GradientProbe("dW[\(e)]", analytic: gw[e],
                    numeric: try FiniteDifference.central(v.w, e, h: h) { try loss(v.x, $0, v.b) },
                    structuralZero: !s.connects(input: e / s.outputs, output: e % s.outputs))
            }
            return try FiniteDifference.probes("dx", analytic: try b.download(dx), values: v.x, at: v.x.indices, h: h) {
                try loss($0, v.w, v.b)
            } + weights + FiniteDifference.probes("db", analytic: try b.download(db), values: v.b, at: v.b.indices, h: h) {
                try loss(v.x, v.w, $0)
            }
        }
    }

    /// The PixelCNN type-A masked convolution: dx from maskedConv2dBackwardData and dW from
    /// maskedConv2dBackwardFilter, at every coordinate.
    static var maskedConvCases: [GradientCase] {
        /// The shape, x, W and r of seed 92, and the loss at (x, W) on `b`.
        @Sendable func setup(_ b: any Backend) throws
            -> (s: MaskedConv2DShape, x: [Float], w: [Float], r: [Float], loss: ([Float], [Float]) throws -> Double) {
            let s = try MaskedConv2DShape.pixelCNN(.a, batch: 2, height: 4, width: 5, inChannels: 2, outChannels: 3, kernel: 3)
            var data = TestData(seed: 92)
            let x = data.values(s.geometry.inputCount), w = data.values(s.filterCount), r = data.values(s.geometry.outputCount)
            return (s, x, w, r, { x, w in
                let y = try b.makeBuffer(count: s.geometry.outputCount)
                try b.maskedConv2dForward(s, input: try b.makeBuffer(x), filter: try b.makeBuffer(w), output: y)
                return FiniteDifference.dot(r, try b.download(y))
            })
        }
        let name = "PixelCNN A 2x4x5 2→3 k3"
        return [
            GradientCase(.maskedConv2dBackwardData, forward: [.maskedConv2dForward], name: "maskedConv2dBackwardData \(name)",
                step: 0.25, tolerance: linear) { b, h in
                let (s, x, w, r, loss) = try setup(b)
                let dx = try b.makeBuffer(count: x.count)
                try b.maskedConv2dBackwardData(s, gradOutput: try b.makeBuffer(r), filter: try b.makeBuffer(w), gradInput: dx)
                return try FiniteDifference.probes("dx", analytic: try b.download(dx), values: x, at: x.indices, h: h) { try loss($0, w) }
            },
            GradientCase(.maskedConv2dBackwardFilter, forward: [.maskedConv2dForward], name: "maskedConv2dBackwardFilter \(name)",
                step: 0.25, tolerance: linear) { b, h in
                let (s, x, w, r, loss) = try setup(b)
                let dw = try b.makeBuffer(count: w.count)
                try b.maskedConv2dBackwardFilter(s, input: try b.makeBuffer(x), gradOutput: try b.makeBuffer(r), gradFilter: dw)
                return try FiniteDifference.probes("dW", analytic: try b.download(dw), values: w, at: w.indices, h: h) { try loss(x, $0) }
            },
        ]
    }
}
