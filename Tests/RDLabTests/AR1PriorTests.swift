import Foundation
import RDCompute
import RDLab
import RDTestSupport
import Testing

/// The δ-VAE's AR(1) prior (seed-spec §9, checks C4–C6): the committed rate, the α solving a
/// rate, eq. 3 against the full-covariance Gaussian KL in Double, its minimum, and sampling.
@Suite("AR(1) prior")
struct AR1PriorTests {
    // MARK: Double references

    /// Eq. 3 for one dimension in Double: `½ [f(σ₁²) + μ₁² + Σ_{t≥2} f(σ_t²/c) + ((μ_t − α μ_{t−1})² + α² σ_{t−1}²)/c]`,
    /// c = 1 − α², f(u) = u − ln u − 1.
    static func eq3(mean: [Double], variance: [Double], alpha a: Double) -> Double {
        func f(_ u: Double) -> Double { u - log(u) - 1 }
        let c = 1 - a * a
        var sum = f(variance[0]) + mean[0] * mean[0]
        for t in 1..<mean.count {
            let e = mean[t] - a * mean[t - 1]
            sum += f(variance[t] / c) + (e * e + a * a * variance[t - 1]) / c
        }
        return 0.5 * sum
    }

    /// KL(N(μ, diag v) ‖ N(0, Σ)) with Σ_st = α^|s−t|, by Cholesky in Double:
    /// `½ [tr(Σ⁻¹ diag v) + μᵀ Σ⁻¹ μ − n + ln det Σ − Σ ln v_t]`.
    static func fullCovarianceKL(mean: [Double], variance: [Double], alpha a: Double) -> Double {
        let n = mean.count
        var l = [[Double]](repeating: [Double](repeating: 0, count: n), count: n)
        for i in 0..<n {
            for j in 0...i {
                var s = pow(a, Double(i - j))
                for k in 0..<j { s -= l[i][k] * l[j][k] }
                l[i][j] = i == j ? s.squareRoot() : s / l[j][j]
            }
        }
        /// Σ⁻¹ b by forward and back substitution with L Lᵀ.
        func solve(_ b: [Double]) -> [Double] {
            var y = b
            for i in 0..<n {
                for k in 0..<i { y[i] -= l[i][k] * y[k] }
                y[i] /= l[i][i]
            }
            for i in stride(from: n - 1, through: 0, by: -1) {
                for k in (i + 1)..<n { y[i] -= l[k][i] * y[k] }
                y[i] /= l[i][i]
            }
            return y
        }
        var trace = 0.0
        for t in 0..<n {
            var unit = [Double](repeating: 0, count: n)
            unit[t] = 1
            trace += solve(unit)[t] * variance[t]
        }
        let quadratic = zip(mean, solve(mean)).reduce(0) { $0 + $1.0 * $1.1 }
        let logDetSigma = 2 * (0..<n).reduce(0) { $0 + log(l[$1][$1]) }
        return 0.5 * (trace + quadratic - Double(n) + logDetSigma - variance.reduce(0) { $0 + log($1) })
    }

    // MARK: C6

    /// Eq. 3 is the KL to the full AR(1) covariance, to 1e-10, for random posteriors.
    @Test(arguments: [0.7, 0.3, -0.6, 0.95, 0.0])
    func eq3IsTheFullCovarianceKL(alpha: Double) {
        var data = TestData(seed: 71)
        for _ in 0..<20 {
            let mean = (0..<7).map { _ in 4 * data.next() - 2 }, variance = (0..<7).map { _ in 0.05 + 3 * data.next() }
            let exact = Self.fullCovarianceKL(mean: mean, variance: variance, alpha: alpha)
            let kl = Self.eq3(mean: mean, variance: variance, alpha: alpha)
            #expect(abs(kl - exact) <= 1e-10 * max(1, exact), "α \(alpha): eq. 3 \(kl), full covariance \(exact)")
        }
    }

    /// At μ = 0 and the stationary variances eq. 3 (and the full-covariance KL) is the
    /// committed rate δ; random perturbations of μ and σ² only increase it.
    @Test(arguments: [0.7, 0.25786, -0.5, 0.95])
    func stationaryPosteriorAttainsTheCommittedRate(alpha: Double) {
        let n = 7
        let prior = AR1Prior(alphas: [alpha])
        let delta = prior.committedRate(steps: n), variance = prior.stationaryVariances(steps: n)
        let zeros = [Double](repeating: 0, count: n)
        #expect(abs(Self.eq3(mean: zeros, variance: variance, alpha: alpha) - delta) <= 1e-10 * max(1, delta))
        #expect(abs(Self.fullCovarianceKL(mean: zeros, variance: variance, alpha: alpha) - delta) <= 1e-10 * max(1, delta))
        var data = TestData(seed: 72)
        for trial in 0..<200 {
            let size = trial < 100 ? 1e-3 : 0.5
            let mean = (0..<n).map { _ in size * (2 * data.next() - 1) }
            let perturbed = variance.map { $0 * exp(size * (2 * data.next() - 1)) }
            let kl = Self.eq3(mean: mean, variance: perturbed, alpha: alpha)
            #expect(kl > delta, "α \(alpha), trial \(trial): KL \(kl) below δ \(delta)")
        }
    }

    // MARK: C4, C5, §9.1

    /// C4, C5 and MNIST's 28 rows: δ for linearly spaced α's, in nats and bits.
    @Test func committedRates() {
        let bits = 1 / log(2.0)
        let c4 = AR1Prior.linearlySpaced(from: 0.5, to: 0.95, count: 8).committedRate(steps: 32)
        #expect(abs(c4 - 55.0686) < 5e-5)
        #expect(abs(c4 * bits - 79.447) < 5e-4)
        let c5 = AR1Prior.linearlySpaced(from: 0.5, to: 0.99, count: 64).committedRate(steps: 32)
        #expect(abs(c5 - 462.072) < 5e-4)
        #expect(abs(c5 * bits - 666.63) < 5e-3)
        let mnist = AR1Prior.linearlySpaced(from: 0.5, to: 0.95, count: 8).committedRate(steps: 28)
        #expect(abs(mnist - 48.24) < 5e-3)
        #expect(abs(mnist * bits - 69.59) < 5e-3)
        #expect(AR1Prior(alphas: [0.9, -0.9]).committedRate(steps: 1) == 0)
        #expect(AR1Prior(alphas: [0, 0]).committedRate(steps: 32) == 0)
    }

    @Test func linearSpacingIncludesBothEnds() {
        let alphas = AR1Prior.linearlySpaced(from: 0.5, to: 0.95, count: 4).alphas
        #expect(alphas.count == 4 && alphas.first == 0.5 && alphas.last == 0.95)
        #expect(abs(alphas[1] - 0.65) < 1e-15 && abs(alphas[2] - 0.8) < 1e-15)
        #expect(AR1Prior.linearlySpaced(from: 0.7, to: 0.9, count: 1).alphas == [0.7])
    }

    /// §9.1: n = 32, one dimension: δ = 1 → α = 0.25786, δ = 5 → α = 0.61155; the solved α
    /// commits the rate to near Double precision for several shapes.
    @Test func alphaForARate() throws {
        #expect(abs(try AR1Prior.alpha(forRate: 1, steps: 32, dimensions: 1) - 0.25786) < 5e-6)
        #expect(abs(try AR1Prior.alpha(forRate: 5, steps: 32, dimensions: 1) - 0.61155) < 5e-6)
        #expect(try AR1Prior.alpha(forRate: 0, steps: 28, dimensions: 8) == 0)
        for (rate, steps, dimensions) in [(10.0, 28, 8), (1e-6, 32, 1), (55.0686, 32, 8), (20, 2, 16)] {
            let alpha = try AR1Prior.alpha(forRate: rate, steps: steps, dimensions: dimensions)
            let committed = AR1Prior(alphas: [Double](repeating: alpha, count: dimensions)).committedRate(steps: steps)
            #expect(alpha > 0 && alpha < 1)
            #expect(abs(committed - rate) <= 1e-10 * rate, "δ \(rate), n \(steps), d \(dimensions): α \(alpha) commits \(committed)")
        }
    }

    @Test func unreachableAndInvalidRatesThrow() {
        #expect(throws: AR1Prior.RateError.invalid(-1)) { try AR1Prior.alpha(forRate: -1, steps: 28, dimensions: 8) }
        #expect(throws: AR1Prior.RateError.self) { try AR1Prior.alpha(forRate: .nan, steps: 28, dimensions: 8) }
        #expect(throws: AR1Prior.RateError.self) { try AR1Prior.alpha(forRate: .infinity, steps: 28, dimensions: 8) }
        #expect(throws: AR1Prior.RateError.self) { try AR1Prior.alpha(forRate: 1e4, steps: 28, dimensions: 8) }
        #expect(throws: AR1Prior.RateError.self) { try AR1Prior.alpha(forRate: 1, steps: 1, dimensions: 8) }
        do {
            _ = try AR1Prior.alpha(forRate: 1e4, steps: 28, dimensions: 8)
        } catch {
            #expect("\(error)".contains("beyond reach"), "\(error)")
        }
    }

    @Test func stationaryVariances() {
        let prior = AR1Prior(alphas: [0.5, -0.9])
        let v = prior.stationaryVariances(steps: 4)  // [4, 2]
        #expect(v.count == 8)
        for (t, expected) in [(0, 0.75), (1, 0.75 / 1.25), (2, 0.75 / 1.25), (3, 0.75)] {
            #expect(abs(v[2 * t] - expected) < 1e-15, "t \(t)")
        }
        #expect(abs(v[1] - 0.19) < 1e-15 && abs(v[3] - 0.19 / 1.81) < 1e-15)
        #expect(prior.stationaryVariances(steps: 1) == [1, 1])
    }

    // MARK: On a graph

    /// The fused op at the stationary posterior gives δ on every backend (in Float).
    @Test(arguments: AvailableBackends.all)
    func opAtTheStationaryPosteriorIsTheCommittedRate(_ target: BackendUnderTest) throws {
        let (batch, n) = (2, 7)
        let prior = AR1Prior(alphas: [0.5, 0.9, -0.7])
        let g = Graph(backend: target.backend)
        let scale = prior.stationaryVariances(steps: n).map { Float($0.squareRoot()) }
        let mean = try g.constant([Float](repeating: 0, count: batch * scale.count), shape: [batch, n, 3])
        let kl = try g.values(try prior.kl(mean: mean, scale: try g.constant(scale + scale, shape: [batch, n, 3]), in: g))
        let delta = prior.committedRate(steps: n)
        for value in kl { #expect(abs(Double(value) - delta) <= 1e-5 * delta, "KL \(value), δ \(delta)") }
    }

    /// Samples are stationary (variance 1 at every step) with lag-one correlation α, and
    /// repeat for the same (seed, stream).
    @Test func samplesFollowThePrior() throws {
        let (count, n) = (4000, 3)
        let prior = AR1Prior(alphas: [0.9, -0.5])
        let g = Graph(backend: AvailableBackends.cpu.backend)
        let tensor = try prior.samples(count: count, steps: n, in: g, seed: 5, stream: 7)
        #expect(tensor.shape == [count, n, 2])
        let z = try g.values(tensor)
        func value(_ b: Int, _ t: Int, _ k: Int) -> Double { Double(z[(b * n + t) * 2 + k]) }
        for (k, alpha) in prior.alphas.enumerated() {
            for t in 0..<n {
                let variance = (0..<count).reduce(0) { $0 + value($1, t, k) * value($1, t, k) } / Double(count)
                #expect(abs(variance - 1) < 0.1, "dimension \(k), step \(t): variance \(variance)")
            }
            let lagged = (0..<count).reduce(0) { $0 + value($1, 1, k) * value($1, 2, k) } / Double(count)
            #expect(abs(lagged - alpha) < 0.05, "dimension \(k): lag-one covariance \(lagged), α \(alpha)")
        }
        #expect(try g.values(try prior.samples(count: count, steps: n, in: g, seed: 5, stream: 7)) == z)
        #expect(throws: ComputeError.self) { try prior.samples(count: 0, steps: n, in: g, seed: 5, stream: 7) }
    }

    @Test func codableRoundTrip() throws {
        let prior = AR1Prior.linearlySpaced(from: 0.5, to: 0.95, count: 8)
        let data = try JSONEncoder.rdlab(pretty: false).encode(prior)
        #expect(try JSONDecoder.rdlab.decode(AR1Prior.self, from: data) == prior)
    }
}
