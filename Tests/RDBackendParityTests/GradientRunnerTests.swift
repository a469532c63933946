import RDCompute
import RDParity
import RDTestSupport
import Testing

/// What `rdlab selftest` reports for the gradient checks of a partial backend, and how a
/// checked coordinate is judged.
@Suite("Gradient runner")
struct GradientRunnerTests {
    /// GEMM-only: GEMM's transposes are checked, every other backward is UNSUPPORTED, not FAIL.
    @Test func partialBackendChecksWhatItHasAndIsUnsupportedElsewhere() {
        for result in GradientRunner.run(backend: GEMMOnlyBackend()) {
            let expected: ParityStatus = result.gradientCase.op == .gemm ? .pass : .unsupported
            #expect(result.status == expected, "\(result.gradientCase.name): \(result.detail ?? "")")
            #expect((result.probes > 0) == (expected == .pass))
        }
    }

    /// Each case needs its backward op and, except GEMM (its own forward), the forward it differentiates.
    @Test func everyCaseRequiresItsOpAndItsForward() {
        for gradientCase in GradientCase.all {
            #expect(gradientCase.requires.first == gradientCase.op)
            #expect(gradientCase.requires.count == (gradientCase.op == .gemm ? 1 : 2), "\(gradientCase.name)")
        }
    }

    @Test func probeIsRelativeAboveOneAbsoluteBelowAndExactWhereMasked() {
        #expect(GradientProbe("a", analytic: 101, numeric: 100).relativeError == 0.01)
        #expect(GradientProbe("b", analytic: 0.5, numeric: 0.49).relativeError < 0.0101)
        #expect(!GradientProbe("c", analytic: .nan, numeric: 1).passes(1))
        #expect(GradientProbe("d", analytic: 0, numeric: 0, structuralZero: true).passes(0))
        #expect(!GradientProbe("e", analytic: 1e-9, numeric: 0, structuralZero: true).passes(1e-3))
    }
}
