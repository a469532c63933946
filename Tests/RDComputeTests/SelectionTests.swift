import Logging
import RDTestSupport
import Testing

@testable import RDCompute

/// A backend family that lists fixed devices and can be told to fail.
struct FakeFactory: BackendFactory {
    let name: String
    let listed: [DeviceDescription]
    var openError: ComputeError?
    var listError: ComputeError?
    /// What its backends claim to support: every op unless a test makes a partial family.
    var ops = Set(Op.allCases)

    func devices() throws -> [DeviceDescription] {
        if let listError { throw listError }
        return listed
    }

    func makeBackend(on device: DeviceDescription) throws -> any Backend {
        if let openError { throw openError }
        return FakeBackend(device: device, supportedOps: ops)
    }
}

/// Identity only: selection tests never run ops, so it has the buffer methods every backend
/// must have and no op, and claims the ops its factory says (selection reads only the claim).
final class FakeBackend: Backend, @unchecked Sendable {
    let instanceID = BackendInstanceID.next()
    let device: DeviceDescription
    let supportedOps: Set<Op>
    init(device: DeviceDescription, supportedOps: Set<Op>) {
        self.device = device
        self.supportedOps = supportedOps
    }
    func makeBuffer(count: Int) throws -> DeviceBuffer { throw unsupported }
    func upload(_ values: [Float], to buffer: DeviceBuffer) throws { throw unsupported }
    func download(_ buffer: DeviceBuffer) throws -> [Float] { throw unsupported }
    func copy(_ source: DeviceBuffer, to destination: DeviceBuffer) throws { throw unsupported }
    func fill(_ buffer: DeviceBuffer, with value: Float) throws { throw unsupported }
    func synchronize() throws {}
    var unsupported: ComputeError { .unsupported(op: "buffers", backend: "fake", reason: "selection tests only") }
}

func device(_ backend: String, _ index: Int, _ name: String, _ kind: DeviceKind, memory: UInt64 = 1 << 30,
    platform: String = "", vendor: String = "") -> DeviceDescription {
    DeviceDescription(backend: backend, index: index, name: name, vendor: vendor, kind: kind, globalMemoryBytes: memory,
        computeUnits: 8, driverVersion: "1.0", deviceVersion: "OpenCL 3.0 \(platform)", platformName: platform,
        platformVendor: vendor)
}

@Suite("Backend selection")
struct SelectionTests {
    let cpu = FakeFactory(name: "cpu", listed: [device("cpu", 0, "host", .cpu)])
    let pocl = device("opencl", 0, "pthread-skylake", .cpu, platform: "Portable Computing Language", vendor: "The pocl project")
    let small = device("opencl", 1, "Quadro P400", .gpu, memory: 2 << 30, platform: "NVIDIA CUDA", vendor: "NVIDIA Corporation")
    let big = device("opencl", 2, "H100", .gpu, memory: 80 << 30, platform: "NVIDIA CUDA", vendor: "NVIDIA Corporation")

    func registry(_ opencl: FakeFactory) -> BackendRegistry { BackendRegistry([cpu, opencl]) }

    /// The CPU and a family whose backends have GEMM only.
    var partial: BackendRegistry {
        BackendRegistry([cpu, FakeFactory(name: "gemmonly", listed: [device("gemmonly", 0, "matrix unit", .gpu)], ops: [.gemm])])
    }

    func select(_ text: String, _ registry: BackendRegistry, strict: Bool = false,
        allowOpFallback: Bool = false) throws -> (BackendSelection, LogRecorder) {
        let recorder = LogRecorder()
        let request = try BackendRequest(parsing: text, validNames: registry.names)
        return (try registry.select(request, strict: strict, allowOpFallback: allowOpFallback, logger: recorder.logger),
            recorder)
    }

    @Test func grammar() throws {
        let names = ["cpu", "opencl"]
        #expect(try BackendRequest(parsing: "auto", validNames: names) == .auto)
        #expect(try BackendRequest(parsing: "cpu", validNames: names) == BackendRequest(backend: "cpu"))
        #expect(try BackendRequest(parsing: "OpenCL", validNames: names) == BackendRequest(backend: "opencl"))
        #expect(try BackendRequest(parsing: "opencl:1", validNames: names) == BackendRequest(backend: "opencl", device: .index(1)))
        #expect(try BackendRequest(parsing: "opencl:NVIDIA", validNames: names)
            == BackendRequest(backend: "opencl", device: .matching("NVIDIA")))
        #expect(throws: ComputeError.self) { try BackendRequest(parsing: "opencl:", validNames: names) }
        do {
            _ = try BackendRequest(parsing: "opnecl", validNames: names)
            Issue.record("a mistyped backend was accepted")
        } catch let error as ComputeError {
            #expect(error.description.contains("opnecl") && error.description.contains("auto, cpu[:DEVICE], opencl[:DEVICE]"))
        }
    }

    @Test func autoPicksTheBiggestGPUAndNeverACPUDevice() throws {
        let (gpu, _) = try select("auto", registry(FakeFactory(name: "opencl", listed: [pocl, small, big])))
        #expect(gpu.backend.device == big)
        let (fallback, log) = try select("auto", registry(FakeFactory(name: "opencl", listed: [pocl])))
        #expect(fallback.backend.device.backend == "cpu")
        #expect(fallback.fallbackReason == nil)
        #expect(!log.lines.contains { $0.0 == .warning })
    }

    @Test func devicesAreNamedByIndexOrSubstring() throws {
        let r = registry(FakeFactory(name: "opencl", listed: [pocl, small, big]))
        #expect(try select("opencl:pocl", r).0.backend.device == pocl)
        #expect(try select("opencl:0", r).0.backend.device == pocl)
        #expect(try select("opencl:1", r).0.backend.device == small)
        #expect(try select("opencl:h100", r).0.backend.device == big)
        #expect(try select("opencl:nvidia", r).0.backend.device == small)
        #expect(try select("opencl", r).0.backend.device == big)
    }

    /// A plugin's own error type falls back like a ComputeError: one WARN with its text.
    @Test func aForeignErrorFallsBackLikeAComputeError() throws {
        struct Broken: Error, CustomStringConvertible { var description: String { "driver said no" } }
        struct Failing: BackendFactory {
            let name = "flaky"
            func devices() throws -> [DeviceDescription] { [device("flaky", 0, "card", .gpu)] }
            func makeBackend(on device: DeviceDescription) throws -> any Backend { throw Broken() }
        }
        let r = BackendRegistry([cpu, Failing()])
        let (named, log) = try select("flaky", r)
        #expect(named.backend.device.backend == "cpu" && named.fallbackReason?.contains("driver said no") == true)
        #expect(log.lines.filter { $0.0 == .warning }.count == 1)
        #expect(try select("auto", r).0.backend.device.backend == "cpu")
        #expect(throws: ComputeError.self) { try select("flaky", r, strict: true) }
    }

    /// A host library beside the CPU backend (BLAS, ggml's ACCEL) is an `accelerator`: taken
    /// when its family is named, never by `auto`, and after the family's GPUs.
    @Test func anAcceleratorIsTakenWhenItsFamilyIsNamedButNeverByAuto() throws {
        let blas = device("blas", 0, "OpenBLAS", .accelerator)
        let r = BackendRegistry([cpu, FakeFactory(name: "blas", listed: [blas])])
        #expect(try select("blas", r, strict: true).0.backend.device == blas)
        #expect(try select("auto", r).0.backend.device.backend == "cpu")
        let mixed = device("blas", 1, "GPU BLAS", .gpu)
        #expect(try select("blas", BackendRegistry([cpu, FakeFactory(name: "blas", listed: [blas, mixed])])).0.backend.device == mixed)
    }

    @Test func unusableRequestFallsBackWithOneWarning() throws {
        let broken = FakeFactory(name: "opencl", listed: [pocl],
            openError: .kernelBuild(kernel: "gemm.cl", options: "-D TS=32", device: "pocl", log: "error: expected ';'"))
        let (selection, log) = try select("opencl:pocl", registry(broken))
        #expect(selection.backend.device.backend == "cpu")
        #expect(selection.fallbackReason?.contains("expected ';'") == true)
        let warnings = log.lines.filter { $0.0 == .warning }
        #expect(warnings.count == 1)
        #expect(warnings.first?.1.contains("gemm.cl") == true)
        let noDriver = FakeFactory(name: "opencl", listed: [], listError: .noDevice(backend: "opencl", reason: "no OpenCL platform"))
        let (cpuOnly, log2) = try select("opencl", registry(noDriver))
        #expect(cpuOnly.backend.device.backend == "cpu")
        #expect(log2.lines.filter { $0.0 == .warning }.first?.1.contains("no OpenCL platform") == true)
        let cpuDevicesOnly = try select("opencl", registry(FakeFactory(name: "opencl", listed: [pocl])))
        #expect(cpuDevicesOnly.0.fallbackReason?.contains("only when named") == true)
    }

    @Test func strictTurnsFallbackIntoAnError() throws {
        let r = registry(FakeFactory(name: "opencl", listed: [pocl]))
        #expect(throws: ComputeError.self) { try select("opencl", r, strict: true) }
        #expect(throws: ComputeError.self) { try select("opencl:7", r, strict: true) }
        #expect(throws: ComputeError.self) { try select("opencl:amd", r, strict: true) }
        #expect(try select("opencl:pocl", r, strict: true).0.backend.device == pocl)
    }

    @Test func completeBackendsAreNotWrapped() throws {
        let (selection, _) = try select("cpu", partial, strict: true)
        #expect(!(selection.backend is OpFallbackBackend))
    }

    @Test func strictRefusesAPartialBackendNamingTheMissingOps() throws {
        do {
            _ = try select("gemmonly", partial, strict: true)
            Issue.record("--strict-backend accepted a backend without every op")
        } catch let error as ComputeError {
            guard case let .unsupported(ops, backend, reason) = error else {
                Issue.record("expected unsupported, got \(error)")
                return
            }
            #expect(ops == Op.allCases.filter { $0 != .gemm }.map(\.rawValue).joined(separator: ", "))
            #expect(backend.contains("gemmonly:0") && reason.contains("--allow-op-fallback"))
        }
    }

    @Test(arguments: [true, false])
    func allowedOpFallbackWrapsThePartialBackendWithOneInfoLine(strict: Bool) throws {
        let (selection, log) = try select("gemmonly", partial, strict: strict, allowOpFallback: true)
        let wrapped = try #require(selection.backend as? OpFallbackBackend)
        #expect(wrapped.device.backend == "gemmonly" && wrapped.fallback.device.backend == "cpu")
        #expect(wrapped.instanceID == wrapped.primary.instanceID)
        #expect(wrapped.fallbackOps == Op.allCases.filter { $0 != .gemm })
        #expect(wrapped.supportedOps == Set(Op.allCases))
        #expect(selection.fallbackReason == nil)
        #expect(!log.lines.contains { $0.0 == .warning })
        #expect(log.lines.filter { $0.0 == .info && $0.1.contains("lacks \(Op.allCases.count - 1) ops") && $0.1.contains("adamStep") }.count == 1)
    }

    @Test func nonStrictWrapsThePartialBackendWithOneWarning() throws {
        let (selection, log) = try select("gemmonly", partial)
        #expect(selection.backend is OpFallbackBackend)
        let warnings = log.lines.filter { $0.0 == .warning }
        #expect(warnings.count == 1)
        #expect(warnings.first?.1.contains("conv2dForward") == true)
    }
}
