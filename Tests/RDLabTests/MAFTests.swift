import Foundation
import RDCompute
import RDLab
import RDTestSupport
import Testing

/// The mean-only MAF marginal: sample → density round trip, and its log-density against a
/// brute-force change of variables (finite-difference Jacobian of u ↦ z), on every backend.
@Suite("MAF marginal")
struct MAFTests {
    @Test(arguments: AvailableBackends.all)
    func densityMatchesChangeOfVariables(_ target: BackendUnderTest) throws {
        let backend = target.backend
        let d = 3
        let maf = try MAFMarginal(dimensions: d, steps: 3, hidden: [6, 6], backend: backend, seed: 12)
        var data = TestData(seed: 5)
        let u = data.values(2 * d, in: -1.5...1.5)
        let graph = Graph(backend: backend)
        let z = try maf.generate(from: try graph.constant(u, shape: [2, d]), in: graph)
        // round trip: the one-pass inverse recovers the base draws
        let back = try graph.values(try maf.base(of: z, in: graph))
        #expect(zip(back, u).allSatisfy { abs($0 - $1) < 1e-4 }, "\(back) vs \(u)")
        #expect(zip(try graph.values(z), u).contains { abs($0 - $1) > 1e-3 }, "the flow is the identity")
        // brute force: log m(z) = log N(u) − log |det ∂z/∂u|
        func generate(_ point: [Double]) throws -> [Double] {
            let g = Graph(backend: backend)
            return try g.values(try maf.generate(from: try g.constant(point.map(Float.init), shape: [1, d]), in: g)).map(Double.init)
        }
        let u0 = u.prefix(d).map(Double.init)
        let determinant = try FlowJacobian.determinant(of: generate, at: u0)
        let bruteForce = u0.reduce(0) { $0 - 0.5 * $1 * $1 } - 1.5 * Foundation.log(2 * Double.pi) - Foundation.log(abs(determinant))
        let logDensity = Double(try graph.values(try maf.logDensity(z, in: graph))[0])
        #expect(abs(logDensity - bruteForce) < 1e-2, "log m(z) \(logDensity), change of variables \(bruteForce)")
    }
}
