import RDCompute

/// The losses' backward ops against central differences of L = ⟨g, loss rows⟩ (g a fixed
/// upstream gradient per row), at every coordinate of every input.
extension GradientCase {
    public static var lossCases: [GradientCase] { [bernoulliNLLCase, gaussianKLCase, gaussianKLPairCase, ar1KLCase] }

    /// Bernoulli NLL with logits in [−4, 4] and soft targets: d/dlogits.
    static var bernoulliNLLCase: GradientCase {
        let (rows, columns) = (3, 5)
        return GradientCase(.bernoulliNLLBackward, forward: [.bernoulliNLL], name: "bernoulliNLLBackward \(rows)x\(columns)",
            step: 1e-2, tolerance: curved) { b, h in
            var data = TestData(seed: 66)
            let logits = data.values(rows * columns, in: -4...4), targets = data.values(rows * columns, in: 0...1)
            let g = data.values(rows)
            let gl = try b.makeBuffer(count: logits.count)
            try b.bernoulliNLLBackward(logits: try b.makeBuffer(logits), targets: try b.makeBuffer(targets),
                gradOutput: try b.makeBuffer(g), gradLogits: gl)
            return try FiniteDifference.probes("dl", analytic: try b.download(gl), values: logits, at: logits.indices, h: h) { logits in
                let out = try b.makeBuffer(count: rows)
                try b.bernoulliNLL(logits: try b.makeBuffer(logits), targets: try b.makeBuffer(targets), rows: rows, output: out)
                return FiniteDifference.dot(g, try b.download(out))
            }
        }
    }

    /// KL(N(μ, σ²) ‖ N(0, 1)) per row into μ and σ, σ in [0.3, 2].
    static var gaussianKLCase: GradientCase {
        let (rows, columns) = (2, 4)
        return GradientCase(.gaussianKLBackward, forward: [.gaussianKL], name: "gaussianKLBackward \(rows)x\(columns)",
            step: 1e-2, tolerance: curved) { b, h in
            var data = TestData(seed: 67)
            let mean = data.values(rows * columns, in: -2...2), scale = data.values(rows * columns, in: 0.3...2)
            let g = data.values(rows)
            func loss(_ mean: [Float], _ scale: [Float]) throws -> Double {
                let out = try b.makeBuffer(count: rows)
                try b.gaussianKL(mean: try b.makeBuffer(mean), scale: try b.makeBuffer(scale), rows: rows, output: out)
                return FiniteDifference.dot(g, try b.download(out))
            }
            let gm = try b.makeBuffer(count: mean.count), gs = try b.makeBuffer(count: mean.count)
            try b.gaussianKLBackward(mean: try b.makeBuffer(mean), scale: try b.makeBuffer(scale), gradOutput: try b.makeBuffer(g),
                gradMean: gm, gradScale: gs)
            return try FiniteDifference.probes("dmu", analytic: try b.download(gm), values: mean, at: mean.indices, h: h) {
                try loss($0, scale)
            } + FiniteDifference.probes("dsigma", analytic: try b.download(gs), values: scale, at: scale.indices, h: h) {
                try loss(mean, $0)
            }
        }
    }

    /// KL(N(μq, σq²) ‖ N(μp, σp²)) per row into all four inputs.
    static var gaussianKLPairCase: GradientCase {
        let (rows, columns) = (2, 4)
        return GradientCase(.gaussianKLPairBackward, forward: [.gaussianKLPair],
            name: "gaussianKLPairBackward \(rows)x\(columns)", step: 1e-2, tolerance: curved) { b, h in
            var data = TestData(seed: 68)
            let meanQ = data.values(rows * columns, in: -2...2), scaleQ = data.values(rows * columns, in: 0.3...2)
            let meanP = data.values(rows * columns, in: -2...2), scaleP = data.values(rows * columns, in: 0.5...2)
            let g = data.values(rows)
            let inputs = [meanQ, scaleQ, meanP, scaleP]
            func loss(_ inputs: [[Float]]) throws -> Double {
                let out = try b.makeBuffer(count: rows)
                try b.gaussianKLPair(meanQ: try b.makeBuffer(inputs[0]), scaleQ: try b.makeBuffer(inputs[1]),
                    meanP: try b.makeBuffer(inputs[2]), scaleP: try b.makeBuffer(inputs[3]), rows: rows, output: out)
                return FiniteDifference.dot(g, try b.download(out))
            }
            let grads = try inputs.map { try b.makeBuffer(count: $0.count) }
            try b.gaussianKLPairBackward(meanQ: try b.makeBuffer(meanQ), scaleQ: try b.makeBuffer(scaleQ),
                meanP: try b.makeBuffer(meanP), scaleP: try b.makeBuffer(scaleP), gradOutput: try b.makeBuffer(g),
                gradMeanQ: grads[0], gradScaleQ: grads[1], gradMeanP: grads[2], gradScaleP: grads[3])
            return try ["dmuQ", "dsigmaQ", "dmuP", "dsigmaP"].enumerated().flatMap { k, label in
                try FiniteDifference.probes(label, analytic: try b.download(grads[k]), values: inputs[k], at: inputs[k].indices,
                    h: h) { values in
                    var varied = inputs
                    varied[k] = values
                    return try loss(varied)
                }
            }
        }
    }

    /// The AR(1)-prior KL into μ and σ: each step enters its own term and the next one's.
    static var ar1KLCase: GradientCase {
        let (rows, steps, dimensions) = (2, 4, 3)
        return GradientCase(.ar1KLBackward, forward: [.ar1KL], name: "ar1KLBackward \(rows)x\(steps)x\(dimensions)",
            step: 1e-2, tolerance: curved) { b, h in
            var data = TestData(seed: 69)
            let count = rows * steps * dimensions
            let mean = data.values(count, in: -2...2), scale = data.values(count, in: 0.4...2)
            let alpha: [Float] = [0.7, -0.5, 0.9], g = data.values(rows)
            func loss(_ mean: [Float], _ scale: [Float]) throws -> Double {
                let out = try b.makeBuffer(count: rows)
                try b.ar1KL(mean: try b.makeBuffer(mean), scale: try b.makeBuffer(scale), alpha: try b.makeBuffer(alpha),
                    rows: rows, output: out)
                return FiniteDifference.dot(g, try b.download(out))
            }
            let gm = try b.makeBuffer(count: count), gs = try b.makeBuffer(count: count)
            try b.ar1KLBackward(mean: try b.makeBuffer(mean), scale: try b.makeBuffer(scale), alpha: try b.makeBuffer(alpha),
                gradOutput: try b.makeBuffer(g), gradMean: gm, gradScale: gs)
            return try FiniteDifference.probes("dmu", analytic: try b.download(gm), values: mean, at: mean.indices, h: h) {
                try loss($0, scale)
            } + FiniteDifference.probes("dsigma", analytic: try b.download(gs), values: scale, at: scale.indices, h: h) {
                try loss(mean, $0)
            }
        }
    }
}
