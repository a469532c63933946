import Foundation
import RDBackendCPU
import RDBackendOpenCL
import RDCompute
import Testing

/// A backend under test, named for test output (`cpu`, `opencl:0 (pthread-…)`).
public struct BackendUnderTest: Sendable, CustomTestStringConvertible {
    public let backend: any Backend
    /// The family the suite meant to run (`cpu`, `opencl`), checked against what ran.
    public let family: String
    public var testDescription: String { backend.displayName }
}

/// Every backend this machine offers: the CPU, and each OpenCL device (CPU devices such as
/// PoCL included, since this is how CI exercises the OpenCL code).
public enum AvailableBackends {
    public static let cpu = BackendUnderTest(backend: CPUBackend(), family: "cpu")

    /// OpenCL backends, or the reason there are none.
    public static let openCL: Result<[BackendUnderTest], ComputeError> = {
        do {
            let factory = OpenCLBackendFactory()
            return .success(try factory.devices().map { BackendUnderTest(backend: try factory.makeBackend(on: $0), family: "opencl") })
        } catch let error as ComputeError {
            return .failure(error)
        } catch {
            return .failure(.noDevice(backend: "opencl", reason: "\(error)"))
        }
    }()

    public static var all: [BackendUnderTest] { [cpu] + ((try? openCL.get()) ?? []) }

    /// `RDLAB_TEST_REQUIRE_OPENCL=1` (set by `.ci/run`) makes a missing OpenCL backend a failure.
    public static var openCLRequired: Bool { ProcessInfo.processInfo.environment["RDLAB_TEST_REQUIRE_OPENCL"] == "1" }
}

