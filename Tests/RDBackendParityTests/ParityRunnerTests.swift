import RDCompute
import RDParity
import RDTestSupport
import Testing

/// What `rdlab selftest` reports for a partial backend: its ops judged, the rest UNSUPPORTED.
@Suite("Parity runner")
struct ParityRunnerTests {
    @Test func partialBackendPassesWhatItHasAndIsUnsupportedElsewhere() {
        let cases = ParityCase.all.filter { [nil, .gemm, .biasAdd, .conv2dForward].contains($0.op) }
        let results = ParityRunner.run(backend: GEMMOnlyBackend(), reference: AvailableBackends.cpu.backend, cases: cases)
        #expect(results.count == cases.count)
        for result in results {
            let expected: ParityStatus = result.parityCase.op.map { $0 == .gemm ? .pass : .unsupported } ?? .pass
            #expect(result.status == expected, "\(result.parityCase.name): \(result.detail ?? "")")
        }
        let gemm = results.filter { $0.parityCase.op == .gemm }
        #expect(gemm.allSatisfy { ($0.referenceBackendNMSE ?? 1) <= $0.threshold }, "GEMM on the CPU's output")
    }

    @Test func statusOrderPutsFailOverPassOverUnsupported() {
        #expect([ParityStatus.pass, .unsupported].max() == .pass)
        #expect([ParityStatus.pass, .fail, .unsupported].max() == .fail)
    }
}
