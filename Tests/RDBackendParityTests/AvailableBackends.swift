import Foundation
import RDBackendCPU
import RDBackendOpenCL
import RDCompute
import Testing

/// A backend under test, named for test output (`cpu`, `opencl:0 (pthread-…)`).
struct BackendUnderTest: Sendable, CustomTestStringConvertible {
    let backend: any Backend
    /// The family the suite meant to run (`cpu`, `opencl`), checked against what ran.
    let family: String
    var testDescription: String { backend.displayName }
}

/// Every backend this machine offers: the CPU, and each OpenCL device (CPU devices such as
/// PoCL included, since this is how CI exercises the OpenCL code).
enum AvailableBackends {
    static let cpu = BackendUnderTest(backend: CPUBackend(), family: "cpu")

    /// OpenCL backends, or the reason there are none.
    static let openCL: Result<[BackendUnderTest], ComputeError> = {
        do {
            let factory = OpenCLBackendFactory()
            return .success(try factory.devices().map { BackendUnderTest(backend: try factory.makeBackend(on: $0), family: "opencl") })
        } catch let error as ComputeError {
            return .failure(error)
        } catch {
            return .failure(.noDevice(backend: "opencl", reason: "\(error)"))
        }
    }()

    static var all: [BackendUnderTest] { [cpu] + ((try? openCL.get()) ?? []) }

    /// `RDLAB_TEST_REQUIRE_OPENCL=1` (set by `.ci/run`) makes a missing OpenCL backend a failure.
    static var openCLRequired: Bool { ProcessInfo.processInfo.environment["RDLAB_TEST_REQUIRE_OPENCL"] == "1" }
}

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
}
