import RDParity
import RDTestSupport
import Testing

/// Finite differences of the masked dense and masked convolution backwards on every backend
/// (``GradientCase/maskedCases``).
@Suite("Masked op gradients")
struct MaskedGradientTests {
    @Test(arguments: GradientCase.maskedCases, AvailableBackends.all)
    func masked(_ gradientCase: GradientCase, _ target: BackendUnderTest) {
        GradientTests.expectPass(gradientCase, target)
    }
}
