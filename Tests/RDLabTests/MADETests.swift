import RDCompute
import RDLab
import RDTestSupport
import Testing

/// MADE: parameter counts of seed-spec §3.1 and the autoregressive property on every backend.
@Suite("MADE")
struct MADETests {
    @Test func parameterCounts() throws {
        let backend = AvailableBackends.cpu.backend
        for (d, count) in [(64, 903_104), (32, 862_112)] {
            let made = try MADE("made", dimensions: d, backend: backend, seed: 1)
            #expect(made.parameters.reduce(0) { $0 + $1.tensor.count } == count, "d = \(d)")
        }
    }

    /// ∂ output(variable k) / ∂ input j is exactly zero for j ≥ k, and not identically zero
    /// below (random weights): autodiff through the masked ops, one output at a time.
    @Test(arguments: AvailableBackends.all)
    func outputsDependOnEarlierInputsOnly(_ target: BackendUnderTest) throws {
        let backend = target.backend
        let (d, per, batch) = (5, 2, 3)
        let made = try MADE("made", dimensions: d, hidden: [10, 15], outputsPerDimension: per, backend: backend, seed: 7)
        var data = TestData(seed: 3)
        let x = data.values(batch * d)
        for o in 0..<(d * per) {
            let graph = Graph(backend: backend)
            let input = Tensor(shape: [batch, d], buffer: try backend.makeBuffer(x), requiresGradient: true)
            let y = try made(input, in: graph)
            let selector = try graph.constant((0..<(batch * d * per)).map { $0 % (d * per) == o ? 1 : 0 }, shape: [batch, d * per])
            try graph.backward(from: try graph.sum(try graph.mul(y, selector), axes: [0, 1]))
            let gradient = try backend.download(try #require(graph.gradient(of: input)))
            let variable = o / per
            for b in 0..<batch {
                for j in variable..<d { #expect(gradient[b * d + j] == 0, "∂y\(o)/∂x\(j) = \(gradient[b * d + j]) on \(target.backend.displayName)") }
            }
            if variable >= 2 {
                #expect((0..<batch).contains { b in (0..<variable).contains { gradient[b * d + $0] != 0 } }, "output \(o) ignores its inputs")
            }
        }
    }
}
