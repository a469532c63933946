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
        let h = 1e-2
        var jacobian = [[Double]](repeating: [Double](repeating: 0, count: d), count: d)
        for j in 0..<d {
            var plus = z0, minus = z0
            plus[j] += h
            minus[j] -= h
            let (up, down) = (try flow(plus), try flow(minus))
            for i in 0..<d { jacobian[i][j] = (up[i] - down[i]) / (2 * h) }
        }
        let j = jacobian
        let determinant = j[0][0] * (j[1][1] * j[2][2] - j[1][2] * j[2][1]) - j[0][1] * (j[1][0] * j[2][2] - j[1][2] * j[2][0])
            + j[0][2] * (j[1][0] * j[2][1] - j[1][1] * j[2][0])
        #expect(abs(determinant - 1) < 1e-2, "det ∂z_T/∂z₀ = \(determinant) on \(target.backend.displayName)")
        // the flow is not the identity (it would pass trivially)
        #expect(zip(try flow(z0), z0).contains { abs($0 - $1) > 1e-3 })
    }
}
