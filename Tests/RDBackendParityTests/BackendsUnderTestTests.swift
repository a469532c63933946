import RDBackendCPU
import RDCompute
import RDTestSupport
import Testing

@Suite("Backends under test")
struct BackendsUnderTestTests {
    @Test func openCLIsExercisedWhenRequired() throws {
        switch AvailableBackends.openCL {
        case .success(let list):
            #expect(!list.isEmpty)
            for b in list {
                #expect(b.backend.device.backend == "opencl")
                print("parity: OpenCL backend under test: \(b.backend.device)")
            }
        case .failure(let error):
            if AvailableBackends.openCLRequired {
                Issue.record("RDLAB_TEST_REQUIRE_OPENCL=1 but no OpenCL backend could be made: \(error)")
            } else {
                print("parity: OpenCL not exercised: \(error.summary)")
            }
        }
    }

    @Test(arguments: AvailableBackends.all)
    func impossibleAllocationIsATypedError(_ target: BackendUnderTest) {
        for count in [Int(target.backend.device.globalMemoryBytes / 2), Int.max / 2] {
            do {
                _ = try target.backend.makeBuffer(count: count)
                Issue.record("\(count) floats allocated on \(target.backend.displayName)")
            } catch let error as ComputeError {
                guard case .outOfDeviceMemory = error else {
                    Issue.record("expected outOfDeviceMemory, got \(error)")
                    return
                }
            } catch {
                Issue.record("untyped error \(error)")
            }
        }
    }

    @Test func buffersOfAnotherBackendAreRejected() throws {
        let all = AvailableBackends.all
        let other = all.count > 1 ? all[1].backend : CPUBackend()
        let cpu = AvailableBackends.cpu.backend
        let foreign = try other.makeBuffer([1, 2, 3])
        let mine = try cpu.makeBuffer(count: 3)
        #expect(throws: ComputeError.self) { try cpu.copy(foreign, to: mine) }
        #expect(throws: ComputeError.self) { try cpu.download(foreign) }
        #expect(throws: ComputeError.self) { try other.unary(.relu, mine, output: foreign) }
    }

    /// Element counts that differ name the op and both counts, whichever buffer is off.
    @Test(arguments: AvailableBackends.all)
    func mismatchedCountsNameTheOpAndBothCounts(_ target: BackendUnderTest) throws {
        let backend = target.backend
        let (three, four) = (try backend.makeBuffer(count: 3), try backend.makeBuffer(count: 4))
        #expect(throws: ComputeError.invalidArgument(op: "unary sigmoid", reason: "buffers hold 3 and 4 elements")) {
            try backend.unary(.sigmoid, three, output: four)
        }
        #expect(throws: ComputeError.invalidArgument(op: "unaryBackward log-sigmoid", reason: "buffers hold 3 and 4 elements")) {
            try backend.unaryBackward(.logSigmoid, x: three, gradOutput: three, gradInput: four)
        }
        #expect(throws: ComputeError.invalidArgument(op: "copy", reason: "buffers hold 4 and 3 elements")) {
            try backend.copy(four, to: three)
        }
    }

    /// Sizes that would divide by zero or overflow `Int` are refused by name, never trap (the
    /// error message itself describes the geometry, so describing it must not trap either).
    @Test(arguments: AvailableBackends.all)
    func impossibleSizesAreErrorsNotTraps(_ target: BackendUnderTest) throws {
        let backend = target.backend
        let one = try backend.makeBuffer(count: 1)
        let zeroStride = Conv2DGeometry(batch: 1, height: 3, width: 3, inChannels: 1, outChannels: 1, kernelHeight: 1,
            kernelWidth: 1, strideY: 0, strideX: 1)
        #expect(zeroStride.description.contains("out undefined"))
        let huge = Conv2DGeometry(batch: 1, height: Int.max, width: 1, inChannels: 1, outChannels: 1, kernelHeight: 1,
            kernelWidth: 1, padTop: 1)
        let wide = Conv2DGeometry(batch: Int.max / 2, height: 4, width: 4, inChannels: 1, outChannels: 1, kernel: 1,
            stride: 1, padding: .valid)
        for g in [zeroStride, huge, wide] {
            #expect(throws: ComputeError.self, "\(g)") { try backend.conv2dForward(g, input: one, filter: one, output: one) }
            #expect(throws: ComputeError.self, "\(g)") { try backend.conv2dBackwardData(g, gradOutput: one, filter: one, gradInput: one) }
        }
        #expect(throws: ComputeError.invalidArgument(op: "gemm", reason: "sizes overflow Int in gemm \(Int.max)x1x2 α=1.0 β=0.0")) {
            try backend.gemm(GemmDescriptor(m: Int.max, n: 1, k: 2), a: one, b: one, c: one)
        }
    }
}
