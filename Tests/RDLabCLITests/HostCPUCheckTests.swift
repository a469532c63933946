import Testing

@testable import rdlab

@Suite("Host CPU check")
struct HostCPUCheckTests {
    let avx512 = (level: "skylake-avx512", flags: ["avx512f", "avx512bw", "avx512dq", "avx512vl", "fma"])

    @Test func aCPUWithoutTheInstructionsIsRefusedWithTheFix() throws {
        let message = try #require(HostCPUCheck.problem(cpuinfo: "model name : EPYC\nflags : fpu sse2 avx2 fma\n", required: avx512))
        #expect(message.contains("avx512f") && message.contains("RDLAB_TARGET_CPU=haswell"))
    }

    @Test func aCapableCPUPasses() {
        #expect(HostCPUCheck.problem(cpuinfo: "flags : avx2 fma avx512f avx512bw avx512dq avx512vl\n", required: avx512) == nil)
        #expect(HostCPUCheck.problem(cpuinfo: "flags : sse2\n", required: nil) == nil)
    }

    /// The machine running the tests built this binary, so it must pass its own check.
    @Test func thisMachinePasses() { #expect(HostCPUCheck.problem() == nil) }
}
