import RDParity
import RDTestSupport
import Testing

/// Finite differences through the whole echo map on every backend (``GradientCase/echoCases``).
@Suite("Echo gradients")
struct EchoGradientTests {
    @Test(arguments: GradientCase.echoCases, AvailableBackends.all)
    func throughTheChannel(_ gradientCase: GradientCase, _ target: BackendUnderTest) {
        GradientTests.expectPass(gradientCase, target)
    }
}
