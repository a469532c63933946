import RDCompute
import RDTestSupport
import Testing

/// Finite differences through the whole map Z = F + exp(LS) ⊙ E(F, LS): every coordinate of F
/// and LS, so the paths into the other batch members' noise are checked too.
@Suite("Echo gradients")
struct EchoGradientTests {
    @Test(arguments: AvailableBackends.all, [EchoIndexTable.Sampling.withoutReplacement, .withReplacement])
    func throughTheChannel(_ target: BackendUnderTest, _ sampling: EchoIndexTable.Sampling) throws {
        let b = target.backend
        let shape = EchoShape(batch: 4, dimensions: 3, terms: 3)
        let inputs = try EchoInputs(shape, sampling, seed: 71)
        let indices = try b.makeIndexBuffer(inputs.table.words)
        func z(_ f: [Float], _ ls: [Float]) throws -> (DeviceBuffer, DeviceBuffer) {
            let noise = try b.makeBuffer(count: shape.count), z = try b.makeBuffer(count: shape.count)
            try b.echoForward(shape, f: try b.makeBuffer(f), logScale: try b.makeBuffer(ls), indices: indices, noise: noise, z: z)
            return (noise, z)
        }
        func loss(_ f: [Float], _ ls: [Float]) throws -> Double { GradientTests.dot(inputs.gradZ, try b.download(try z(f, ls).1)) }
        let (noise, _) = try z(inputs.f, inputs.logScale)
        let gf = try b.makeBuffer(count: shape.count), gls = try b.makeBuffer(count: shape.count)
        try b.echoBackward(shape, f: try b.makeBuffer(inputs.f), logScale: try b.makeBuffer(inputs.logScale), indices: indices,
            noise: noise, gradZ: try b.makeBuffer(inputs.gradZ), gradF: gf, gradLogScale: gls)
        let dF = try b.download(gf), dLS = try b.download(gls)
        for i in 0..<shape.count {
            GradientTests.expectClose(dF[i], try GradientTests.central(inputs.f, i, h: 0.01) { try loss($0, inputs.logScale) }, "dF[\(i)]")
            GradientTests.expectClose(dLS[i], try GradientTests.central(inputs.logScale, i, h: 0.01) { try loss(inputs.f, $0) },
                "dLogS[\(i)]")
        }
    }
}
