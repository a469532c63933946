import RDBackendCPU
import RDCompute
import RDTestSupport
import Testing

/// A partial backend (``GEMMOnlyBackend``: buffers and GEMM only) answers for what it has and
/// refuses the rest by name.
@Suite("GEMM-only backend")
struct GEMMOnlyBackendTests {
    let backend = GEMMOnlyBackend()

    @Test func supportsOnlyGEMM() {
        #expect(Op.allCases.filter(backend.supports) == [.gemm])
    }

    @Test func gemmMatchesTheCPUBackend() throws {
        let cpu = CPUBackend()
        let descriptor = GemmDescriptor(m: 3, n: 5, k: 4, transposeA: true, alpha: 0.5, beta: 2)
        let a = (0..<12).map { Float($0) / 7 - 0.8 }
        let b = (0..<20).map { Float($0 % 6) / 3 - 0.4 }
        let c = (0..<15).map { Float($0) / 11 }
        func run(_ on: any Backend) throws -> [Float] {
            let out = try on.makeBuffer(c)
            try on.gemm(descriptor, a: try on.makeBuffer(a), b: try on.makeBuffer(b), c: out)
            return try on.download(out)
        }
        #expect(try run(backend) == run(cpu))
    }

    @Test func everyOtherOpThrowsUnsupportedNamingTheOpAndTheBackend() {
        for op in Op.allCases where op != .gemm {
            do {
                try OpCalls.call(op, on: backend)
                Issue.record("\(op) ran on \(backend.displayName)")
            } catch let error as ComputeError {
                guard case .unsupported(op.rawValue, backend.displayName, _) = error else {
                    Issue.record("\(op): expected unsupported \(op) on \(backend.displayName), got \(error)")
                    continue
                }
                #expect(error.description.contains("op \(op.rawValue) ") && error.description.contains("gemm-only:0"))
            } catch {
                Issue.record("\(op): untyped error \(error)")
            }
        }
    }

    @Test func buffersCarryTheirOwnIdentity() throws {
        let cpu = CPUBackend()
        let mine = try backend.makeBuffer([1, 2, 3])
        let copy = try backend.makeBuffer(count: 3)
        try backend.copy(mine, to: copy)
        #expect(try backend.download(copy) == [1, 2, 3])
        try backend.fill(copy, with: 4)
        #expect(try backend.download(copy) == [4, 4, 4])
        let foreign = try cpu.makeBuffer([1, 2, 3])
        #expect(throws: ComputeError.self) { try cpu.download(mine) }
        #expect(throws: ComputeError.self) { try backend.copy(foreign, to: mine) }
        #expect(throws: ComputeError.self) {
            try backend.gemm(GemmDescriptor(m: 1, n: 1, k: 3), a: foreign, b: mine, c: copy)
        }
    }

    /// The default index buffer holds the words' bits, as the CPU backend's own does.
    @Test func defaultIndexBufferKeepsTheWordsBits() throws {
        let words: [Int32] = [0, 1, 7, -1, .max, .min, 0x7F80_0001]
        let bits = { (values: [Float]) in values.map { Int32(bitPattern: $0.bitPattern) } }
        let cpu = CPUBackend()
        #expect(bits(try backend.download(try backend.makeIndexBuffer(words))) == words)
        #expect(bits(try cpu.download(try cpu.makeIndexBuffer(words))) == words)
    }
}
