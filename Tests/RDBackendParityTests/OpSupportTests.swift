import RDCompute
import RDTestSupport
import Testing

/// `supports(_:)` tells the truth: every ``Op`` reaches one backend method, and the complete
/// backends override every op method rather than fall to the `unsupported` defaults.
@Suite("Op support")
struct OpSupportTests {
    /// An ``Op`` without a call in ``OpCalls/table`` fails here.
    @Test func everyOpHasACall() {
        let missing = Op.allCases.filter { OpCalls.table[$0] == nil }
        #expect(missing.isEmpty, "ops without an entry in OpCalls.table: \(missing.map(\.rawValue))")
    }

    /// Placeholder operands make each op run or be rejected, never answer `unsupported`; a
    /// method whose signature drifted from the protocol would fall to the default and fail here.
    @Test(arguments: AvailableBackends.all)
    func completeBackendsImplementEveryOp(_ target: BackendUnderTest) {
        let backend = target.backend
        #expect(backend.supportedOps == Set(Op.allCases))
        for op in Op.allCases {
            do {
                try OpCalls.call(op, on: backend)
            } catch ComputeError.unsupported(let name, _, let reason) {
                Issue.record("\(backend.displayName) does not implement \(op) (\(name): \(reason))")
            } catch {
                continue  // operands rejected: the backend's own method ran
            }
        }
    }
}
