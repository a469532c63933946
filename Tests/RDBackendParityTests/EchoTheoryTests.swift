import Foundation
import RDCompute
import RDTestSupport
import Testing

/// The statistical properties of Echo noise (seed-spec §2.1, §2.5), on every backend, with
/// fixed seeds: generous tolerances, each paired with a variant that must fail them.
@Suite("Echo theory")
struct EchoTheoryTests {
    /// Standard normal draws (Box–Muller on the test LCG, independent of Philox).
    static func gaussian(_ count: Int, seed: UInt64) -> [Float] {
        var data = TestData(seed: seed)
        return (0..<count).map { _ in
            Float((-2 * Foundation.log(1 - data.next())).squareRoot() * Foundation.cos(2 * Double.pi * data.next()))
        }
    }

    /// (E, Z) for `batches` batches of 100, 99 terms without replacement.
    static func draw(_ b: any Backend, batches: Int, dims: Int, seed: UInt64, f: (Float) -> Float, logS: (Float) -> Float)
        throws -> (x: [Float], f: [Float], noise: [Float], z: [Float]) {
        let shape = EchoShape(batch: 100, dimensions: dims, terms: 99)
        var all = (x: [Float](), f: [Float](), noise: [Float](), z: [Float]())
        for batch in 0..<batches {
            let x = gaussian(shape.count, seed: seed &+ UInt64(batch))
            let fx = x.map(f), ls = x.map(logS)
            let table = try EchoIndexTable.random(batch: 100, terms: 99, sampling: .withoutReplacement, seed: seed,
                stream: UInt64(batch))
            let noise = try b.makeBuffer(count: shape.count), z = try b.makeBuffer(count: shape.count)
            try b.echoForward(shape, f: try b.makeBuffer(fx), logScale: try b.makeBuffer(ls),
                indices: try b.makeIndexBuffer(table.words), noise: noise, z: z)
            all.x += x
            all.f += fx
            all.noise += try b.download(noise)
            all.z += try b.download(z)
        }
        return all
    }

    static func variance(_ v: [Float]) -> Double {
        let mean = v.reduce(0.0) { $0 + Double($1) } / Double(v.count)
        return v.reduce(0.0) { $0 + (Double($1) - mean) * (Double($1) - mean) } / Double(v.count - 1)
    }

    /// Two-sample Kolmogorov–Smirnov statistic.
    static func ks(_ a: [Float], _ b: [Float]) -> Double {
        let x = a.sorted(), y = b.sorted()
        var i = 0, j = 0, worst = 0.0
        while i < x.count && j < y.count {
            let t = min(x[i], y[j])
            while i < x.count && x[i] <= t { i += 1 }
            while j < y.count && y[j] <= t { j += 1 }
            worst = max(worst, abs(Double(i) / Double(x.count) - Double(j) / Double(y.count)))
        }
        return worst
    }

    /// f(x) = x, x ~ N(0, 1), constant s: Var(Z) = 1/(1 − s²), and the Gaussian channel's
    /// information ½ log(Var Z / Var(Z|X)) equals the exact rate −log s.
    @Test(arguments: AvailableBackends.all)
    func gaussianClosedForm(_ target: BackendUnderTest) throws {
        let s: Float = 0.6
        let d = try Self.draw(target.backend, batches: 40, dims: 8, seed: 11, f: { $0 }, logS: { _ in Foundation.log(s) })
        let expected = 1 / (1 - Double(s * s))
        let measured = Self.variance(d.z)
        #expect(abs(measured / expected - 1) < 0.05, "Var(Z) \(measured), expected \(expected)")
        // Var(Z | X) = s² Var(E): the part of Z not explained by f(x) = x
        let information = 0.5 * Foundation.log(measured / Self.variance(zip(d.z, d.x).map { $0 - $1 }))
        #expect(abs(information + Foundation.log(Double(s))) < 0.03, "I = \(information), −log s = \(-Foundation.log(Double(s)))")
        // the check fails for a wrong variance law, e.g. 1/(1 − s)
        #expect(abs(measured / (1 / (1 - Double(s))) - 1) > 0.05)
    }

    /// Lemma 2.1: E and Z have the same distribution (x ~ N(0,1), f = tanh, s = 0.9·σ(x)).
    @Test(arguments: AvailableBackends.all)
    func noiseAndLatentShareTheirDistribution(_ target: BackendUnderTest) throws {
        let d = try Self.draw(target.backend, batches: 40, dims: 4, seed: 23, f: { Foundation.tanh($0) },
            logS: { x in Float(Foundation.log(0.9) - Foundation.log1p(Foundation.exp(-Double(x)))) })
        let statistic = Self.ks(d.noise, d.z)
        #expect(statistic < 0.03, "KS(E, Z) = \(statistic)")
        // the test can tell a 10 % scale difference apart
        #expect(Self.ks(d.noise.map { $0 * 1.1 }, d.z) > 0.03)
    }

    /// At the computed clip r, a d-term sum with |f| ≤ 1 and s ≤ r is within float32 epsilon
    /// (2⁻²³) of the infinite sum: compared with the same sequence summed to 4d terms.
    @Test(arguments: AvailableBackends.all, [32, 99])
    func truncationErrorIsBelowTheFloatEpsilonBound(_ target: BackendUnderTest, _ terms: Int) throws {
        let b = target.backend
        let r = EchoClip.factor(bound: 1, terms: terms)
        // the clip is tight: the worst-case tail is the bound itself, not far below it
        let tail = Foundation.pow(r, Double(terms)) / (1 - r)
        #expect(tail <= 0x1p-23 * (1 + 1e-9) && tail >= 0x1p-23 * (1 - 1e-6))
        var data = TestData(seed: UInt64(terms))
        let batch = 8, dims = 4
        // worst case in dimension 0 (f = 1, s = r); random |f| ≤ 1, s ≤ r elsewhere
        let f = (0..<(batch * dims)).map { e in e % dims == 0 ? Float(1) : data.values(1)[0] }
        let ls = (0..<(batch * dims)).map { e in Float(Foundation.log(r)) + (e % dims == 0 ? 0 : data.values(1, in: -2...0)[0]) }
        let long = (0..<(batch * 4 * terms)).map { _ in Int32(data.next() * Double(batch)) }
        func noise(_ d: Int) throws -> [Float] {
            let rows = (0..<batch).flatMap { i in long[(i * 4 * terms)..<(i * 4 * terms + d)] }
            let table = try EchoIndexTable(batch: batch, terms: d, indices: Array(rows))
            let shape = EchoShape(batch: batch, dimensions: dims, terms: d)
            let e = try b.makeBuffer(count: shape.count), z = try b.makeBuffer(count: shape.count)
            try b.echoForward(shape, f: try b.makeBuffer(f), logScale: try b.makeBuffer(ls), indices: try b.makeIndexBuffer(table.words),
                noise: e, z: z)
            return try b.download(e)
        }
        let truncated = try noise(terms), full = try noise(4 * terms)
        for (a, c) in zip(truncated, full) {
            // the bound plus float rounding of a sum of magnitude ≤ 1/(1 − r)
            #expect(abs(Double(a) - Double(c)) <= 0x1p-23 + 8 * Double(Float(1 / (1 - r)).ulp))
        }
    }
}
