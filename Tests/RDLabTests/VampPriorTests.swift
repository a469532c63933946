import Foundation
import RDCompute
@testable import RDLab
import RDTestSupport
import Testing

/// The VampPrior marginal against a direct evaluation of its mixture in Double.
@Suite("VampPrior")
struct VampPriorTests {
    @Test(arguments: AvailableBackends.all)
    func logDensityIsTheMixture(_ target: BackendUnderTest) throws {
        let backend = target.backend
        let model = try ConvAutoencoder(AlemiSpec(latentDimension: 3, marginal: .vamp, vampComponents: 4), backend: backend, seed: 6)
        let vamp = try #require(model.marginal as? VampPrior)
        let graph = Graph(backend: backend)
        // distinct mixture weights
        try backend.upload([0.3, -1.2, 0.8, 0.1], to: vamp.mixtureLogits.tensor.buffer)
        let weights = try graph.values(try graph.exp(try vamp.logWeights(in: graph))).map(Double.init)
        #expect(abs(weights.reduce(0, +) - 1) < 1e-6, "weights \(weights) sum to \(weights.reduce(0, +))")
        let (mu, sigma) = try vamp.componentHeads(in: graph)
        let means = try graph.values(mu).map(Double.init), scales = try graph.values(sigma).map(Double.init)
        var data = TestData(seed: 3)
        let z = data.values(5 * 3, in: -2...2)
        let logDensity = try graph.values(try vamp.logDensity(try graph.constant(z, shape: [5, 3]), in: graph))
        for b in 0..<5 {
            let mixture = (0..<4).reduce(0.0) { sum, i in
                sum + weights[i] * (0..<3).reduce(1.0) { p, j in
                    let (m, s) = (means[i * 3 + j], scales[i * 3 + j])
                    let u = (Double(z[b * 3 + j]) - m) / s
                    return p * Foundation.exp(-0.5 * u * u) / (s * (2 * Double.pi).squareRoot())
                }
            }
            #expect(abs(Double(logDensity[b]) - Foundation.log(mixture)) < 1e-4,
                "\(target.backend.displayName) example \(b): log m(z) \(logDensity[b]), direct \(Foundation.log(mixture))")
        }
    }
}
