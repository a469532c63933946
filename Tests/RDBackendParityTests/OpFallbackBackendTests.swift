import RDBackendCPU
import RDCompute
import RDTestSupport
import Testing

/// ``OpFallbackBackend`` on ``GEMMOnlyBackend``: every op runs, GEMM on the primary and the
/// rest on the CPU with their buffers moved and counted.
@Suite("Op fallback backend")
struct OpFallbackBackendTests {
    let log = LogRecorder()
    let primary = GEMMOnlyBackend()
    var backend: OpFallbackBackend { OpFallbackBackend(primary: primary, fallback: CPUBackend(), logger: log.logger) }

    @Test func presentsThePrimarysIdentityAndEveryOp() throws {
        let backend = self.backend
        #expect(backend.instanceID == primary.instanceID && backend.displayName == primary.displayName)
        #expect(backend.supportedOps == Set(Op.allCases))
        #expect(backend.fallbackOps == Op.allCases.filter { $0 != .gemm })
        let buffer = try backend.makeBuffer([1, 2])
        #expect(try primary.download(buffer) == [1, 2])
        #expect(throws: ComputeError.self) { try CPUBackend().download(buffer) }
    }

    /// Each op once on one aliased one-element buffer (``OpCalls``): none is refused as
    /// unsupported (the CPU may reject the placeholder operands), and each that ran, but GEMM,
    /// moved its buffer to the CPU and back (a random fill only back).
    @Test func everyOpRunsAndOnlyTheMissingOnesMoveBuffers() throws {
        let backend = self.backend
        var ran: Set<Op> = []
        for op in Op.allCases {
            do {
                try OpCalls.call(op, on: backend)
                ran.insert(op)
            } catch ComputeError.unsupported(let name, _, let reason) {
                Issue.record("\(op) refused: \(name): \(reason)")
            } catch {
                continue  // operands rejected by the CPU's own method
            }
        }
        #expect(ran.contains(.gemm) && ran.count > Op.allCases.count / 2)
        let transfers = backend.transfers
        #expect(Set(transfers.keys) == ran.subtracting([.gemm]))
        let readAndWritten = transfers.filter { ![.randomUniform, .randomNormal].contains($0.key) }
        #expect(readAndWritten.values.allSatisfy { $0.calls == 1 && $0.transfers == 2 && $0.bytes == 8 })
        #expect(transfers[.randomNormal] == OpFallbackBackend.Traffic(calls: 1, transfers: 1, bytes: 4), "written, not read")
        #expect(log.lines.filter { $0.0 == .info }.count == transfers.count)
    }

    /// A fallback op writes its result into the primary's output, reads its inputs from the
    /// primary, and logs once however often it runs.
    @Test func fallbackOpsReadAndWriteThePrimarysBuffers() throws {
        let backend = self.backend
        let cpu = CPUBackend()
        let values: [Float] = [-1.5, 0, 2, 3.25]
        func biasReLU(_ on: any Backend) throws -> [Float] {
            let output = try on.makeBuffer(count: 4)
            try on.biasReLU(try on.makeBuffer(values), bias: try on.makeBuffer([0.5, -1]), output: output)
            return try on.download(output)
        }
        #expect(try biasReLU(backend) == biasReLU(cpu))
        #expect(try biasReLU(backend) == biasReLU(cpu))
        // in place: the same buffer read and written
        let x = try backend.makeBuffer(values)
        try backend.unary(.relu, x, output: x)
        #expect(try backend.download(x) == [0, 0, 2, 3.25])
        #expect(backend.transfers[.biasReLU] == OpFallbackBackend.Traffic(calls: 2, transfers: 6, bytes: 80))
        #expect(backend.transfers[.unary] == OpFallbackBackend.Traffic(calls: 1, transfers: 2, bytes: 32))
        #expect(log.lines.filter { $0.1.contains("op biasReLU ") }.count == 1)
    }
}
