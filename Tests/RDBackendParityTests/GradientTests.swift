import RDCompute
import RDParity
import RDTestSupport
import Testing

/// Every op with a backward against central finite differences of its own forward pass on the
/// same backend: the linear, elementwise and loss cases of ``GradientCase``, through the
/// ``GradientRunner`` that `rdlab selftest` uses.
@Suite("Finite-difference gradients")
struct GradientTests {
    @Test(arguments: GradientCase.linearCases + GradientCase.unaryCases + GradientCase.lossCases, AvailableBackends.all)
    func gradient(_ gradientCase: GradientCase, _ target: BackendUnderTest) {
        Self.expectPass(gradientCase, target)
    }

    /// Runs `gradientCase` on `target`: PASS on every coordinate.
    static func expectPass(_ gradientCase: GradientCase, _ target: BackendUnderTest) {
        let result = GradientRunner.run(gradientCase, on: target.backend)
        #expect(result.status == .pass, "\(result.detail ?? "") on \(target.backend.displayName)")
        #expect(result.probes > 0)
    }

    /// The ops with a backward: every op named …Backward…, ``Op/biasGradient`` (biasAdd's
    /// backward) and ``Op/gemm`` (its backward is GEMM with transposes).
    static let backwardOps = Op.allCases.filter { $0.rawValue.contains("Backward") } + [.biasGradient, .gemm]

    /// Every backward op has at least one gradient case, so `rdlab selftest` checks its gradient.
    @Test func everyBackwardOpHasAGradientCase() {
        let covered = Set(GradientCase.all.map(\.op))
        let missing = Self.backwardOps.filter { !covered.contains($0) }
        #expect(missing.isEmpty, "backward ops without a gradient case: \(missing.map(\.rawValue))")
        #expect(covered.isSubset(of: Self.backwardOps), "a gradient case names a forward op")
    }

    /// The suites' three tables are the whole of ``GradientCase/all``: none is run by selftest only.
    @Test func suitesRunEveryCase() {
        let suites = GradientCase.linearCases + GradientCase.unaryCases + GradientCase.lossCases + GradientCase.echoCases
            + GradientCase.maskedCases
        #expect(suites.map(\.name) == GradientCase.all.map(\.name))
    }
}

extension GradientCase: CustomTestStringConvertible {
    public var testDescription: String { name }
}
