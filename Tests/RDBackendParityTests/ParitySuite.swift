import RDCompute
import RDTestSupport
import Testing

/// ggml's test-backend-ops: every op case on every available backend against the Double reference.
@Suite("Backend parity")
struct ParitySuite {
    @Test(arguments: ParityCase.all, AvailableBackends.all)
    func parity(_ parityCase: ParityCase, _ target: BackendUnderTest) throws {
        // The backend that runs is the one the suite meant to run.
        #expect(target.backend.device.backend == target.family)
        let probe = try target.backend.makeBuffer(count: 1)
        #expect(probe.owner == target.backend.instanceID)
        let (values, reference) = try parityCase.run(target.backend)
        #expect(values.count == reference.count)
        guard values.count == reference.count else { return }
        let measured = nmse(values, reference)
        #expect(measured <= parityCase.tolerance, "NMSE \(measured) > \(parityCase.tolerance) on \(target.backend.displayName)")
        #expect(values.allSatisfy { $0.isFinite }, "non-finite output on \(target.backend.displayName)")
    }
}
