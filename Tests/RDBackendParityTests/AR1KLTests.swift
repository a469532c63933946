import Foundation
import RDCompute
import RDTestSupport
import Testing

/// Identities of the AR(1)-prior KL on every backend: with one step or α = 0 it is the KL to
/// N(0, I), forward and backward; sizes that do not split fail the same way everywhere.
@Suite("AR(1)-prior KL")
struct AR1KLTests {
    struct Run {
        var kl: [Float]
        var gradMean: [Float]
        var gradScale: [Float]
    }

    static func ar1(_ b: any Backend, _ mean: [Float], _ scale: [Float], _ alpha: [Float], g: [Float]) throws -> Run {
        let (m, s, a) = try (b.makeBuffer(mean), b.makeBuffer(scale), b.makeBuffer(alpha))
        let out = try b.makeBuffer(count: g.count)
        try b.ar1KL(mean: m, scale: s, alpha: a, rows: g.count, output: out)
        let gm = try b.makeBuffer(count: mean.count), gs = try b.makeBuffer(count: mean.count)
        try b.ar1KLBackward(mean: m, scale: s, alpha: a, gradOutput: try b.makeBuffer(g), gradMean: gm, gradScale: gs)
        return Run(kl: try b.download(out), gradMean: try b.download(gm), gradScale: try b.download(gs))
    }

    static func standardNormal(_ b: any Backend, _ mean: [Float], _ scale: [Float], g: [Float]) throws -> Run {
        let (m, s) = try (b.makeBuffer(mean), b.makeBuffer(scale))
        let out = try b.makeBuffer(count: g.count)
        try b.gaussianKL(mean: m, scale: s, rows: g.count, output: out)
        let gm = try b.makeBuffer(count: mean.count), gs = try b.makeBuffer(count: mean.count)
        try b.gaussianKLBackward(mean: m, scale: s, gradOutput: try b.makeBuffer(g), gradMean: gm, gradScale: gs)
        return Run(kl: try b.download(out), gradMean: try b.download(gm), gradScale: try b.download(gs))
    }

    static func expectClose(_ a: Run, _ b: Run) {
        for (what, x, y) in [("KL", a.kl, b.kl), ("dμ", a.gradMean, b.gradMean), ("dσ", a.gradScale, b.gradScale)] {
            for i in x.indices {
                #expect(abs(x[i] - y[i]) <= 1e-5 * max(1, abs(y[i])), "\(what)[\(i)]: AR(1) \(x[i]), N(0, I) \(y[i])")
            }
        }
    }

    /// One step: only z₁ ~ N(0, 1) remains, whatever α is.
    @Test(arguments: AvailableBackends.all)
    func oneStepIsGaussianKL(_ target: BackendUnderTest) throws {
        let (rows, dimensions) = (4, 5)
        var data = TestData(seed: 91)
        let mean = data.values(rows * dimensions, in: -3...3), scale = data.values(rows * dimensions, in: 0.05...3)
        let alpha = data.values(dimensions, in: -0.95...0.95), g = data.values(rows)
        Self.expectClose(try Self.ar1(target.backend, mean, scale, alpha, g: g),
            try Self.standardNormal(target.backend, mean, scale, g: g))
    }

    /// α = 0: the steps are independent N(0, 1).
    @Test(arguments: AvailableBackends.all)
    func zeroAlphaIsGaussianKL(_ target: BackendUnderTest) throws {
        let (rows, steps, dimensions) = (3, 7, 3)
        var data = TestData(seed: 92)
        let count = rows * steps * dimensions
        let mean = data.values(count, in: -3...3), scale = data.values(count, in: 0.05...3), g = data.values(rows)
        Self.expectClose(try Self.ar1(target.backend, mean, scale, [0, 0, 0], g: g),
            try Self.standardNormal(target.backend, mean, scale, g: g))
    }

    /// Operands that do not split into rows × steps × dimensions fail the same way on every backend.
    @Test(arguments: AvailableBackends.all)
    func mismatchedOperandsThrow(_ target: BackendUnderTest) throws {
        let b = target.backend
        let (six, twelve, two, three) = try (b.makeBuffer(count: 6), b.makeBuffer(count: 12), b.makeBuffer(count: 2),
            b.makeBuffer(count: 3))
        #expect(throws: ComputeError.self) {  // 12 elements are not 2 rows of steps × 4 … of 5 α's
            try b.ar1KL(mean: twelve, scale: twelve, alpha: try b.makeBuffer(count: 5), rows: 2, output: two)
        }
        #expect(throws: ComputeError.self) {  // mean and scale differ
            try b.ar1KL(mean: twelve, scale: six, alpha: three, rows: 2, output: two)
        }
        #expect(throws: ComputeError.self) {  // output too short
            try b.ar1KL(mean: twelve, scale: twelve, alpha: three, rows: 4, output: two)
        }
        #expect(throws: ComputeError.self) {  // no α
            try b.ar1KL(mean: twelve, scale: twelve, alpha: try b.makeBuffer(count: 0), rows: 2, output: two)
        }
        #expect(throws: ComputeError.self) {  // a gradient of the wrong size
            try b.ar1KLBackward(mean: twelve, scale: twelve, alpha: three, gradOutput: two, gradMean: twelve, gradScale: six)
        }
    }
}
