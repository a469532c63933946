import Foundation
import RDCompute
import RDTestSupport
import Testing

/// Identities of the KL between two diagonal Gaussians on every backend: 0 (value and
/// gradients) where q = p, and the KL to N(0, I) where p = N(0, I).
@Suite("Gaussian KL between two Gaussians")
struct GaussianKLPairTests {
    struct Run {
        var kl: [Float]
        /// dμq, dσq, dμp, dσp.
        var gradients: [[Float]]
    }

    static func run(_ b: any Backend, _ mq: [Float], _ sq: [Float], _ mp: [Float], _ sp: [Float], g: [Float]) throws -> Run {
        let rows = g.count
        let (meanQ, scaleQ, meanP, scaleP) = try (b.makeBuffer(mq), b.makeBuffer(sq), b.makeBuffer(mp), b.makeBuffer(sp))
        let out = try b.makeBuffer(count: rows)
        try b.gaussianKLPair(meanQ: meanQ, scaleQ: scaleQ, meanP: meanP, scaleP: scaleP, rows: rows, output: out)
        let grads = try (0..<4).map { _ in try b.makeBuffer(count: mq.count) }
        try b.gaussianKLPairBackward(meanQ: meanQ, scaleQ: scaleQ, meanP: meanP, scaleP: scaleP, gradOutput: try b.makeBuffer(g),
            gradMeanQ: grads[0], gradScaleQ: grads[1], gradMeanP: grads[2], gradScaleP: grads[3])
        return Run(kl: try b.download(out), gradients: try grads.map { try b.download($0) })
    }

    /// KL(q ‖ q) = 0 and every gradient is 0, exactly, over scales from 1e-3 to 1e3.
    @Test(arguments: AvailableBackends.all)
    func zeroWhereQEqualsP(_ target: BackendUnderTest) throws {
        let (rows, columns) = (5, 37)
        var data = TestData(seed: 81)
        let mean = data.values(rows * columns, in: -50...50)
        let scale = data.values(rows * columns, in: -3...3).map { Float(pow(10, Double($0))) }
        let run = try Self.run(target.backend, mean, scale, mean, scale, g: data.values(rows, in: 0.5...2))
        #expect(run.kl == [Float](repeating: 0, count: rows))
        for (k, gradient) in run.gradients.enumerated() {
            #expect(gradient.allSatisfy { $0 == 0 }, "gradient \(k) not 0: \(gradient.filter { $0 != 0 }.prefix(4))")
        }
    }

    /// With μp = 0 and σp = 1 the pair op is ``Backend/gaussianKL(mean:scale:rows:output:)``,
    /// forward and backward (and dμp = −dμq).
    @Test(arguments: AvailableBackends.all)
    func standardNormalPriorIsGaussianKL(_ target: BackendUnderTest) throws {
        let b = target.backend
        let (rows, columns) = (4, 33)
        var data = TestData(seed: 82)
        let mean = data.values(rows * columns, in: -3...3), scale = data.values(rows * columns, in: 0.05...3)
        let g = data.values(rows)
        let zeros = [Float](repeating: 0, count: mean.count), ones = [Float](repeating: 1, count: mean.count)
        let pair = try Self.run(b, mean, scale, zeros, ones, g: g)

        let out = try b.makeBuffer(count: rows)
        try b.gaussianKL(mean: try b.makeBuffer(mean), scale: try b.makeBuffer(scale), rows: rows, output: out)
        let gm = try b.makeBuffer(count: mean.count), gs = try b.makeBuffer(count: mean.count)
        try b.gaussianKLBackward(mean: try b.makeBuffer(mean), scale: try b.makeBuffer(scale), gradOutput: try b.makeBuffer(g),
            gradMean: gm, gradScale: gs)
        let kl = try b.download(out), dm = try b.download(gm), ds = try b.download(gs)

        func close(_ a: [Float], _ b: [Float], _ what: String) {
            for i in a.indices {
                #expect(abs(a[i] - b[i]) <= 1e-5 * max(1, abs(b[i])), "\(what)[\(i)]: pair \(a[i]), N(0, I) \(b[i])")
            }
        }
        close(pair.kl, kl, "KL")
        close(pair.gradients[0], dm, "dμq")
        close(pair.gradients[1], ds, "dσq")
        #expect(pair.gradients[2] == pair.gradients[0].map { -$0 })
    }

    /// Operands of different sizes fail the same way on every backend.
    @Test(arguments: AvailableBackends.all)
    func mismatchedOperandsThrow(_ target: BackendUnderTest) throws {
        let b = target.backend
        let (four, five) = (try b.makeBuffer(count: 4), try b.makeBuffer(count: 5))
        #expect(throws: ComputeError.self) {
            try b.gaussianKLPair(meanQ: four, scaleQ: four, meanP: five, scaleP: four, rows: 2, output: four)
        }
        #expect(throws: ComputeError.self) {
            try b.gaussianKLPair(meanQ: four, scaleQ: four, meanP: four, scaleP: four, rows: 3, output: four)
        }
        #expect(throws: ComputeError.self) {
            try b.gaussianKLPairBackward(meanQ: four, scaleQ: four, meanP: four, scaleP: four, gradOutput: try b.makeBuffer(count: 2),
                gradMeanQ: four, gradScaleQ: four, gradMeanP: four, gradScaleP: five)
        }
    }
}
