import RDCompute
import RDParity
import RDTestSupport
import Testing

/// ggml's test-backend-ops: every op case on every available backend against the Double
/// reference, through the ``ParityRunner`` that `rdlab selftest` uses.
@Suite("Backend parity")
struct ParitySuite {
    @Test(arguments: ParityCase.all, AvailableBackends.all)
    func parity(_ parityCase: ParityCase, _ target: BackendUnderTest) throws {
        // The backend that runs is the one the suite meant to run.
        #expect(target.backend.device.backend == target.family)
        let probe = try target.backend.makeBuffer(count: 1)
        #expect(probe.owner == target.backend.instanceID)
        let result = ParityRunner.run(parityCase, on: target.backend)
        #expect(result.status == .pass, "\(result.detail ?? "") on \(target.backend.displayName)")
    }

    /// Every ``Op`` has at least one parity case, so `rdlab selftest` checks every op.
    @Test func everyOpHasACase() {
        let covered = Set(ParityCase.all.compactMap(\.op))
        let missing = Op.allCases.filter { !covered.contains($0) }
        #expect(missing.isEmpty, "ops without a parity case: \(missing.map(\.rawValue))")
    }
}

extension ParityCase: CustomTestStringConvertible {
    public var testDescription: String { name }
}
