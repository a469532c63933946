import RDCompute
import RDLab
import RDTestSupport
import Testing

@Suite("Adam")
struct AdamTests {
    static func quadratic(_ backend: any Backend, _ p: Parameter, target: [Float], factor: Float) throws -> Graph {
        let g = Graph(backend: backend)
        let difference = try g.sub(p.tensor, try g.constant(target, shape: [target.count]))
        try g.backward(from: try g.scale(try g.mean(try g.unary(.square, difference)), by: factor))
        return g
    }

    @Test(arguments: AvailableBackends.all)
    func minimisesAQuadratic(_ target: BackendUnderTest) throws {
        let b = target.backend
        let p = Parameter(name: "p", tensor: Tensor(shape: [5], buffer: try b.makeBuffer([0, 0, 0, 0, 0]), requiresGradient: true))
        let goal: [Float] = [1, -2, 0.5, 3, -1]
        let adam = Adam(backend: b, hyperparameters: AdamParameters(learningRate: 0.05))
        for _ in 0..<400 { try adam.update([p], gradientsFrom: try Self.quadratic(b, p, target: goal, factor: 1)) }
        let reached = try b.download(p.tensor.buffer)
        #expect(zip(reached, goal).allSatisfy { abs($0 - $1) < 0.02 }, "\(reached)")
        #expect(adam.step == 400)
    }

    /// With normalised gradients the steps do not depend on the loss's scale.
    @Test func normalisedGradientsIgnoreTheScale() throws {
        let b = AvailableBackends.cpu.backend
        var results: [[Float]] = []
        for factor: Float in [1, 1000] {
            let p = Parameter(name: "p", tensor: Tensor(shape: [3], buffer: try b.makeBuffer([0.3, -0.2, 0.1]), requiresGradient: true))
            let adam = Adam(backend: b, hyperparameters: AdamParameters(learningRate: 0.01), normalizeGradients: true)
            for _ in 0..<3 { try adam.update([p], gradientsFrom: try Self.quadratic(b, p, target: [1, 1, 1], factor: factor)) }
            results.append(try b.download(p.tensor.buffer))
        }
        #expect(zip(results[0], results[1]).allSatisfy { abs($0 - $1) < 1e-6 })
    }
}
