import Foundation
import RDLab
import Testing

/// The σ interval of the independent δ-VAE (seed-spec §9.3, check C7): the endpoints the
/// seed spec gives, the root condition, the degenerate δ = 0, the domain.
@Suite("δ-VAE σ interval")
struct DeltaIntervalTests {
    @Test(arguments: [(0.08, 0.73182, 1.29500), (0.1, 0.70231, 1.33126), (0.5, 0.39824, 1.77375), (1, 0.22906, 2.12256)])
    func endpointsOfTheSeedSpec(_ delta: Double, _ lower: Double, _ upper: Double) throws {
        let interval = try #require(DeltaInterval(delta: delta))
        #expect(abs(interval.lower - lower) < 5e-6 && abs(interval.upper - upper) < 5e-6,
            "δ = \(delta): [\(interval.lower), \(interval.upper)]")
    }

    /// s = σ² at either end solves ln s − s + 1 + 2δ = 0 (g(s) = 0), one root on each side of 1.
    @Test func endpointsAreTheRoots() throws {
        for delta in [1e-6, 1e-3, 0.08, 0.1, 0.5, 1, 3, 10, 100] {
            let interval = try #require(DeltaInterval(delta: delta))
            #expect(interval.lower < 1 && interval.upper > 1, "δ = \(delta)")
            for sigma in [interval.lower, interval.upper] {
                let s = sigma * sigma
                #expect(abs(log(s) - s + 1 + 2 * delta) < 1e-12 * max(1, s), "δ = \(delta), σ = \(sigma)")
            }
        }
    }

    @Test func zeroAndOutOfDomain() throws {
        let zero = try #require(DeltaInterval(delta: 0))
        #expect(abs(zero.lower - 1) < 1e-8 && abs(zero.upper - 1) < 1e-8, "[\(zero.lower), \(zero.upper)]")
        for delta in [-0.1, .nan, .infinity, 1000] { #expect(DeltaInterval(delta: delta) == nil, "δ = \(delta)") }
    }
}
