import RDCompute

/// Finite differences through the whole echo map Z = F + exp(LS) ⊙ E(F, LS), L = ⟨gradZ, Z⟩,
/// at every coordinate of F and LS, so the paths into the other batch members' noise are
/// checked too.
extension GradientCase {
    public static var echoCases: [GradientCase] {
        [EchoIndexTable.Sampling.withoutReplacement, .withReplacement].map { sampling in
            let shape = EchoShape(batch: 4, dimensions: 3, terms: 3)
            return GradientCase(.echoBackward, forward: [.echoForward],
                name: "echoBackward \(shape) \(sampling.rawValue) replacement", step: 0.01, tolerance: linear) { b, h in
                let inputs = try EchoInputs(shape, sampling, seed: 71)
                let indices = try b.makeIndexBuffer(inputs.table.words)
                func z(_ f: [Float], _ ls: [Float]) throws -> (noise: DeviceBuffer, z: DeviceBuffer) {
                    let noise = try b.makeBuffer(count: shape.count), z = try b.makeBuffer(count: shape.count)
                    try b.echoForward(shape, f: try b.makeBuffer(f), logScale: try b.makeBuffer(ls), indices: indices, noise: noise, z: z)
                    return (noise, z)
                }
                func loss(_ f: [Float], _ ls: [Float]) throws -> Double {
                    FiniteDifference.dot(inputs.gradZ, try b.download(try z(f, ls).z))
                }
                let gf = try b.makeBuffer(count: shape.count), gls = try b.makeBuffer(count: shape.count)
                try b.echoBackward(shape, f: try b.makeBuffer(inputs.f), logScale: try b.makeBuffer(inputs.logScale),
                    indices: indices, noise: try z(inputs.f, inputs.logScale).noise, gradZ: try b.makeBuffer(inputs.gradZ),
                    gradF: gf, gradLogScale: gls)
                return try FiniteDifference.probes("dF", analytic: try b.download(gf), values: inputs.f, at: 0..<shape.count, h: h) {
                    try loss($0, inputs.logScale)
                } + FiniteDifference.probes("dLogS", analytic: try b.download(gls), values: inputs.logScale, at: 0..<shape.count,
                    h: h) { try loss(inputs.f, $0) }
            }
        }
    }
}
