import Foundation
import RDCompute
import RDLab
import RDTestSupport
import Testing

/// The mean-only IAF: its flow has a unit Jacobian determinant (so log e(z_T|x) is the base
/// Gaussian's density), checked by brute-force finite differences of the map z₀ ↦ z_T.
@Suite("IAF encoder")
struct IAFTests {
    @Test(arguments: AvailableBackends.all)
    func flowPreservesVolume(_ target: BackendUnderTest) throws {
        let backend = target.backend
        let d = 3
        let iaf = try IAFChannel(latentDimension: d, steps: 3, hidden: [6, 6], backend: backend, seed: 9)
        var data = TestData(seed: 4)
        let z0 = data.values(d, in: -1.5...1.5).map(Double.init)
        func flow(_ z: [Double]) throws -> [Double] {
            let graph = Graph(backend: backend)
            return try graph.values(try iaf.flow(try graph.constant(z.map(Float.init), shape: [1, d]), in: graph)).map(Double.init)
        }
        let determinant = try FlowJacobian.determinant(of: flow, at: z0)
        #expect(abs(determinant - 1) < 1e-2, "det ∂z_T/∂z₀ = \(determinant) on \(target.backend.displayName)")
        // the flow is not the identity (it would pass trivially)
        #expect(zip(try flow(z0), z0).contains { abs($0 - $1) > 1e-3 })
    }
}
